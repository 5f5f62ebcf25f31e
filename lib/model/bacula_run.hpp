#pragma once

// One Schedule `Run` directive as the director holds it after reading it
// (run_conf.c store_run): the job overrides it names and, as bits, the
// hours, days of the month, months, weekdays, weeks of the month and weeks
// of the year it fires on. Two forms of it cross the wire: the object
// bdirjson prints (what Bacularis answers for a Schedule) and the directive
// text (what Bacularis writes into the director's configuration).

#include <nlohmann/json.hpp>

#include <bitset>
#include <optional>
#include <string>

namespace stove {

struct BaculaRun {
  // The overrides, under bdirjson's names with its values: "Level": "Full",
  // "Pool" (also FullPool, IncrementalPool, DifferentialPool, NextPool),
  // "Storage", "Messages": resource names; "Priority": an integer;
  // "SpoolData", "writepartafterjob", "Accurate": booleans;
  // "MaxRunSchedTime": seconds.
  nlohmann::json overrides = nlohmann::json::object();
  std::bitset<24> hour;
  int minute = 0;
  std::bitset<31> mday; // day 1 is bit 0
  bool last_day = false;
  std::bitset<12> month; // January is bit 0
  std::bitset<7> wday;   // Sunday is bit 0
  std::bitset<6> wom;    // the first week of the month is bit 0
  std::bitset<54> woy;   // w00 is bit 0

  bool operator==(const BaculaRun& other) const = default;
};

// The object bdirjson prints for `run`.
nlohmann::json bdirjson_of(const BaculaRun& run);

// The Run that bdirjson printed as `object`, or nullopt when it is not such
// an object.
std::optional<BaculaRun> run_from_bdirjson(const nlohmann::json& object);

// A directive text that the director reads back as exactly `run`:
// overrides first ("Level=Full Pool=\"p\""), then months, weeks of the year,
// days of the month ("on" first when nothing comes before them: the
// director refuses a number there), weeks of the month and weekdays when
// they are not all, then "at H:MM" per hour (or "hourly at 0:MM").
std::string directive_text(const BaculaRun& run);

} // namespace stove
