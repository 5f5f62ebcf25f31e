#include "model/bacula_run.hpp"
#include "parse/bacula_schedule.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <string>

using namespace stove;
using nlohmann::json;

namespace {

json all(int n) {
  json out = json::array();
  for (int i = 0; i < n; ++i) {
    out.push_back(i);
  }
  return out;
}

json read(std::string_view run) {
  auto parsed = parse_bacula_run(run);
  REQUIRE_MESSAGE(parsed, std::string(run));
  return bdirjson_of(*parsed);
}

} // namespace

TEST_SUITE("bacula run") {
  // The expected objects are what bdirjson 9.6.7 printed for these
  // directives.
  TEST_CASE("a weekly full backup with overrides") {
    CHECK(read("Level=Full Pool=nightly-pool Priority=5 sun at 02:00") ==
          json{{"Pool", "nightly-pool"},
               {"Level", "Full"},
               {"Priority", 5},
               {"Hour", {2}},
               {"Minute", 0},
               {"Day", all(31)},
               {"Month", all(12)},
               {"DayOfWeek", {0}},
               {"WeekOfMonth", all(6)},
               {"WeekOfYear", all(54)}});
  }

  TEST_CASE("weeks of the month, months, a week of the year and lastday") {
    CHECK(read("Level=Differential 1st-2nd fri jan-mar w01 lastday at 23:59") ==
          json{{"Level", "Differential"},
               {"Hour", {23}},
               {"Minute", 59},
               {"Day", json::array()},
               {"LastDay", 1},
               {"Month", {0, 1, 2}},
               {"DayOfWeek", {5}},
               {"WeekOfMonth", {0, 1}},
               {"WeekOfYear", {1}}});
  }

  TEST_CASE("hourly, daily and no time at all: every hour unless at says otherwise") {
    json hourly = read("hourly at 0:15");
    CHECK(hourly["Hour"] == all(24));
    CHECK(hourly["Minute"] == 15);
    CHECK_FALSE(hourly.contains("Level"));
    json daily = read("daily");
    CHECK(daily["Hour"] == all(24));
    CHECK(daily["Minute"] == 0);
    CHECK(daily["DayOfWeek"] == all(7));
  }

  TEST_CASE("the old bare level, lower case words and am/pm") {
    CHECK(read("full mon-sat at 2:00am")["Level"] == "Full");
    CHECK(read("Level=incremental at 12:00am")["Hour"] == json{0});
    CHECK(read("Level=Full at 12:30pm")["Hour"] == json{12});
    CHECK(read("Level=Full at 1:30pm")["Hour"] == json{13});
    CHECK(read("Level=Full at 1:30pm")["Minute"] == 30);
  }

  TEST_CASE("overrides take bdirjson's names and types") {
    json r = read("Level=Full SpoolData=no WritePartAfterJob=yes Accurate=yes "
                  "MaxRunSchedTime=\"2 hours\" Storage=File1 Messages=Standard FullPool=p "
                  "NextPool=p at 12:00am");
    CHECK(r["SpoolData"] == false);
    CHECK(r["writepartafterjob"] == true);
    CHECK(r["Accurate"] == true);
    CHECK(r["MaxRunSchedTime"] == 7200);
    CHECK(r["Storage"] == "File1");
    CHECK(r["FullPool"] == "p");
    CHECK(r["NextPool"] == "p");
  }

  TEST_CASE("ranges that run backwards wrap around, as the director reads them") {
    CHECK(read("fri-mon at 1:00")["DayOfWeek"] == json{0, 1, 5, 6});
    CHECK(read("nov-feb at 1:00")["Month"] == json{0, 1, 10, 11});
    CHECK(read("30-2 at 1:00")["Day"] == json{0, 1, 29, 30});
    CHECK(read("w52-w01 at 1:00")["WeekOfYear"] == json{0, 1, 52, 53});
    CHECK(read("5-5 at 1:00")["Day"] == all(31));
  }

  TEST_CASE("the first word of a kind replaces the default, later ones add to it") {
    CHECK(read("mon wed at 1:00 at 3:00")["DayOfWeek"] == json{1, 3});
    CHECK(read("mon wed at 1:00 at 3:00")["Hour"] == json{1, 3});
    CHECK(read("on 1 15 at 1:00")["Day"] == json{0, 14});
    CHECK(read("weekly mon at 1:00")["Day"] == all(31));
  }

  TEST_CASE("directive_text reads back as the same run") {
    for (const char* run : {
             "Level=Full sun at 02:00",
             "Level=Incremental mon-sat at 02:00",
             "Level=Differential 1st-2nd fri jan-mar w01 lastday at 23:59",
             "Level=Full Pool=\"my pool\" Priority=7 on 1 15 31 at 4:05",
             "hourly at 0:15",
             "daily",
             "Level=Full lastday at 23:00",
             "Level=Full 1-31 lastday at 23:00",
             "mon wed at 1:00 at 3:00 at 22:00",
             "Level=Full SpoolData=no WritePartAfterJob=yes Accurate=yes MaxRunSchedTime=90 at "
             "1:00",
             "w00-w10 w52 nov-feb 2nd sat at 6:45pm",
         }) {
      CAPTURE(run);
      auto parsed = parse_bacula_run(run);
      REQUIRE(parsed);
      const std::string text = directive_text(*parsed);
      CAPTURE(text);
      auto again = parse_bacula_run(text);
      REQUIRE(again);
      CHECK(*again == *parsed);
      auto from_json = run_from_bdirjson(bdirjson_of(*parsed));
      REQUIRE(from_json);
      CHECK(*from_json == *parsed);
    }
  }

  TEST_CASE("a directive with a problem reads as nothing") {
    CHECK_FALSE(parse_bacula_run("Level=Full sundy at 02:00"));
    CHECK_FALSE(parse_bacula_run(""));
  }

  TEST_CASE("run_from_bdirjson refuses what bdirjson does not print") {
    CHECK_FALSE(run_from_bdirjson(json("Level=Full sun at 02:00")));
    CHECK_FALSE(run_from_bdirjson(json{{"Hour", {25}}, {"Minute", 0}}));
    CHECK_FALSE(run_from_bdirjson(json{{"Level", "Full"}}));
  }
}
