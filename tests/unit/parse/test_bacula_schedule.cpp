#include "parse/bacula_schedule.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace stove;

namespace {

// "OFFSET: message", or "ok".
std::string check(std::string_view run) {
  auto problem = check_bacula_schedule(run);
  return problem ? std::to_string(problem->offset) + ": " + problem->message : "ok";
}

} // namespace

TEST_SUITE("bacula schedule") {
  TEST_CASE("directives from Bacula's manual and common configurations are valid") {
    for (const char* run : {
             "Level=Full sun at 02:00",
             "Level=Incremental mon-sat at 02:00",
             "Full 1st sun at 23:05",
             "Differential 2nd-5th sun at 23:05",
             "Incremental mon-sat at 23:05",
             "Level=Full Pool=Monthly 1st sun at 2:05",
             "Level = Full on 1 jan at 0:00",
             "Level=Full monthly 1st sun at 1:00am",
             "Level=Incremental hourly at 0:15",
             "Level=Full weekly sun at 12:30pm",
             "Level=Full lastday at 23:00",
             "Level=Full w00-w53 sun at 3:00",
             "Level=Full jan-mar, jul 1-15 at 04:00",
             "Level=Full mon,wed,fri at 01:00",
             "Level=Full Priority=10 SpoolData=yes Accurate=no daily at 03:00",
             "Level=Full MaxRunSchedTime=\"2 hours\" daily at 03:00",
             "level=virtualfull SUN AT 02:00",
             "Level=Full daily",
             "daily",
             "Full sun",
         }) {
      CAPTURE(run);
      CHECK(check(run) == "ok");
    }
  }

  TEST_CASE("each mistake is reported at the word at fault") {
    CHECK(check("") == "0: is empty; write a Bacula Run directive such as \"Level=Full sun at 02:00\"");
    CHECK(check("   ") == "0: is empty; write a Bacula Run directive such as \"Level=Full sun at 02:00\"");
    CHECK(check("Level=Full sundy at 02:00") ==
          "11: has an unknown word \"sundy\"; did you mean \"sunday\"?; expected a day of the "
          "month (1-31), a weekday, a month, a week (1st-6th, w00-w53), lastday, hourly, daily, "
          "weekly, monthly or \"at H:MM\"");
    CHECK(check("Level=Fulll sun at 02:00") ==
          "6: has an unknown level \"Fulll\"; did you mean \"Full\"? (levels: Full, Incremental, "
          "Differential, VirtualFull, Base)");
    CHECK(check("Levl=Full sun at 02:00") ==
          "0: has an unknown override \"Levl\"; did you mean \"Level\"? (overrides: Level, "
          "Pool, FullPool, IncrementalPool, DifferentialPool, NextPool, Storage, Messages, "
          "Priority, Accurate, SpoolData, WritePartAfterJob, MaxRunSchedTime)");
    CHECK(check("Level Full sun at 02:00") == "0: expects '=' after \"Level\", as in \"Level=...\"");
    CHECK(check("Level=") == "5: expects a value after \"Level=\"");
    // The director reads a word after each override: it must find one, and
    // not a number.
    CHECK(check("Level=Full 1 15 at 02:00") ==
          "11: starts its date with the day 1, which the director refuses there (\"expected a "
          "name\"); write \"on 1\"");
    CHECK(check("1-15 at 02:00") == "ok");
    CHECK(check("Level=Full") ==
          "10: has no date or time after its level and overrides; the director needs one, such "
          "as \"daily\" or \"sun at 02:00\"");
    CHECK(check("Full Priority=5") ==
          "15: has no date or time after its level and overrides; the director needs one, such "
          "as \"daily\" or \"sun at 02:00\"");
    CHECK(check("Level=Full sun 02:00") ==
          "15: has the time \"02:00\" without \"at\" before it (write \"at 02:00\")");
    CHECK(check("Level=Full sun at") == "15: expects a time after \"at\", such as 02:00");
    CHECK(check("Level=Full at sun") ==
          "14: expects a time after \"at\", such as 02:00, got \"sun\"");
    CHECK(check("Level=Full sun at 24:00") == "18: has the time \"24:00\": the hour runs from 0 to 23");
    CHECK(check("Level=Full sun at 2:60") == "18: has the time \"2:60\": the minutes run from 00 to 59");
    CHECK(check("Level=Full sun at 2:5") ==
          "18: has the time \"2:5\": write H:MM or HH:MM, e.g. 02:00 or 2:30pm");
    CHECK(check("Level=Full sun at 13:00pm") ==
          "18: has the time \"13:00pm\": with am or pm, the hour runs from 0 to 12");
    CHECK(check("Level=Full sun at 2:00xm") ==
          "18: has the time \"2:00xm\": only am or pm may follow the minutes");
    CHECK(check("Level=Full on 32 at 02:00") ==
          "14: has the day \"32\": days of the month run from 1 to 31");
    CHECK(check("Level=Full on 0 at 02:00") ==
          "14: has the day \"0\": days of the month run from 1 to 31");
    CHECK(check("Level=Full w54 at 02:00") ==
          "11: has the week \"w54\": weeks of the year run from w00 to w53");
    CHECK(check("Level=Full mon-jan at 02:00") ==
          "11: has the range \"mon-jan\": both ends must be days of the month, weekdays, months, "
          "weeks of the month or weeks of the year");
    CHECK(check("Level=Full mon-mon at 02:00") ==
          "11: has the range \"mon-mon\": its two ends are the same");
    CHECK(check("Level=Full 1-32 at 02:00") ==
          "11: has the range \"1-32\": days of the month run from 1 to 31");
    CHECK(check("Level=Full mon-fri-sat") ==
          "11: has the range \"mon-fri-sat\": write FIRST-LAST, e.g. mon-fri, 1-15, jan-mar or w01-w26");
    CHECK(check("sun at 02:00 Level=Full") ==
          "13: has \"Level\" after the date and time: overrides such as Level= must come first");
    CHECK(check("sun at 02:00 Full") ==
          "13: has \"Full\" after the date and time: overrides such as Level= must come first");
    CHECK(check("Level=Full Priority=0 daily") ==
          "20: expects Priority to be a positive integer, got \"0\"");
    CHECK(check("Level=Full SpoolData=maybe daily") ==
          "21: expects SpoolData to be yes or no, got \"maybe\"");
    CHECK(check("Level=Full MaxRunSchedTime=\"2 fortnights\" daily") ==
          "27: expects MaxRunSchedTime to be a duration such as \"2 hours\", got \"2 fortnights\"");
    CHECK(check("Level=Full Pool=\"a/b\" daily") ==
          "16: has an invalid Pool name \"a/b\": Bacula names use letters, digits, '-', '_', "
          "'.', ':' and spaces");
    CHECK(check("Level=Full sun at 02:00 # nightly") ==
          "24: cannot contain '#': the director would read the rest of the line differently");
    CHECK(check("Level=Full \"sun at 02:00") == "11: has a quote that is never closed");
    CHECK(check("= Full") ==
          "0: has '=' without an override name before it, as in \"Level=Full\"");
  }
}
