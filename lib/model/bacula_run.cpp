#include "model/bacula_run.hpp"

#include "model/bacula_name.hpp"

#include <fmt/format.h>

#include <array>
#include <string_view>
#include <vector>

namespace stove {

namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 12> k_months = {"jan", "feb", "mar", "apr", "may", "jun",
                                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> k_weekdays = {"sun", "mon", "tue", "wed",
                                                        "thu", "fri", "sat"};
constexpr std::array<std::string_view, 6> k_weeks = {"1st", "2nd", "3rd", "4th", "5th", "6th"};

// The overrides whose values are resource names, and how the directive
// text spells each override.
struct OverrideSpelling {
  std::string_view json_name;
  std::string_view keyword;
  enum { name, level, integer, boolean, seconds } type;
};

constexpr std::array<OverrideSpelling, 13> k_override_spellings = {{
    {"Level", "Level", OverrideSpelling::level},
    {"Pool", "Pool", OverrideSpelling::name},
    {"FullPool", "FullPool", OverrideSpelling::name},
    {"IncrementalPool", "IncrementalPool", OverrideSpelling::name},
    {"DifferentialPool", "DifferentialPool", OverrideSpelling::name},
    {"NextPool", "NextPool", OverrideSpelling::name},
    {"Storage", "Storage", OverrideSpelling::name},
    {"Messages", "Messages", OverrideSpelling::name},
    {"Priority", "Priority", OverrideSpelling::integer},
    {"SpoolData", "SpoolData", OverrideSpelling::boolean},
    {"writepartafterjob", "WritePartAfterJob", OverrideSpelling::boolean},
    {"Accurate", "Accurate", OverrideSpelling::boolean},
    {"MaxRunSchedTime", "MaxRunSchedTime", OverrideSpelling::seconds},
}};

template <size_t N>
json bit_list(const std::bitset<N>& bits) {
  json out = json::array();
  for (size_t i = 0; i < N; ++i) {
    if (bits.test(i)) {
      out.push_back(i);
    }
  }
  return out;
}

template <size_t N>
bool read_bits(const json& object, const char* key, std::bitset<N>& bits) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_array()) {
    return false;
  }
  for (const auto& v : *it) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= int64_t{N}) {
      return false;
    }
    bits.set(v.get<size_t>());
  }
  return true;
}

void append_overrides(const BaculaRun& run, std::vector<std::string>& words) {
  for (const auto& spelling : k_override_spellings) {
    auto it = run.overrides.find(std::string(spelling.json_name));
    if (it == run.overrides.end()) {
      continue;
    }
    const json& v = *it;
    std::string value;
    switch (spelling.type) {
    case OverrideSpelling::level:
      value = v.is_string() ? v.get<std::string>() : v.dump();
      break;
    case OverrideSpelling::name:
      value = bacula_quoted(v.is_string() ? v.get<std::string>() : v.dump());
      break;
    case OverrideSpelling::boolean:
      value = v.is_boolean() && v.get<bool>() ? "yes" : "no";
      break;
    case OverrideSpelling::integer:
    case OverrideSpelling::seconds:
      value = v.dump();
      break;
    }
    words.push_back(fmt::format("{}={}", spelling.keyword, value));
  }
}

} // namespace

json bdirjson_of(const BaculaRun& run) {
  json out = run.overrides.is_object() ? run.overrides : json::object();
  out["Hour"] = bit_list(run.hour);
  out["Minute"] = run.minute;
  out["Day"] = bit_list(run.mday);
  if (run.last_day) {
    out["LastDay"] = 1;
  }
  out["Month"] = bit_list(run.month);
  out["DayOfWeek"] = bit_list(run.wday);
  out["WeekOfMonth"] = bit_list(run.wom);
  out["WeekOfYear"] = bit_list(run.woy);
  return out;
}

std::optional<BaculaRun> run_from_bdirjson(const json& object) {
  if (!object.is_object()) {
    return std::nullopt;
  }
  BaculaRun run;
  auto minute = object.find("Minute");
  if (minute == object.end() || !minute->is_number_integer()) {
    return std::nullopt;
  }
  run.minute = minute->get<int>();
  if (!read_bits(object, "Hour", run.hour) || !read_bits(object, "Day", run.mday) ||
      !read_bits(object, "Month", run.month) || !read_bits(object, "DayOfWeek", run.wday) ||
      !read_bits(object, "WeekOfMonth", run.wom) || !read_bits(object, "WeekOfYear", run.woy)) {
    return std::nullopt;
  }
  for (const auto& [key, value] : object.items()) {
    if (key == "LastDay") {
      run.last_day = value == json(1) || value == json(true);
    } else if (key != "Hour" && key != "Minute" && key != "Day" && key != "Month" &&
               key != "DayOfWeek" && key != "WeekOfMonth" && key != "WeekOfYear") {
      run.overrides[key] = value;
    }
  }
  return run;
}

std::string directive_text(const BaculaRun& run) {
  std::vector<std::string> words;
  append_overrides(run, words);
  if (!run.month.all()) {
    for (size_t i = 0; i < k_months.size(); ++i) {
      if (run.month.test(i)) {
        words.emplace_back(k_months[i]);
      }
    }
  }
  if (!run.woy.all()) {
    for (size_t i = 0; i < run.woy.size(); ++i) {
      if (run.woy.test(i)) {
        words.push_back(fmt::format("w{:02}", i));
      }
    }
  }
  if (!run.mday.all() || run.last_day) {
    // The director reads the first word after the overrides as a name: a
    // day number cannot come first ("on" is a word it skips).
    if (run.month.all() && run.woy.all() && run.mday.any()) {
      words.emplace_back("on");
    }
    for (size_t i = 0; i < run.mday.size(); ++i) {
      if (run.mday.test(i)) {
        words.push_back(std::to_string(i + 1));
      }
    }
    if (run.last_day) {
      words.emplace_back("lastday");
    }
  }
  if (!run.wom.all()) {
    for (size_t i = 0; i < k_weeks.size(); ++i) {
      if (run.wom.test(i)) {
        words.emplace_back(k_weeks[i]);
      }
    }
  }
  if (!run.wday.all()) {
    for (size_t i = 0; i < k_weekdays.size(); ++i) {
      if (run.wday.test(i)) {
        words.emplace_back(k_weekdays[i]);
      }
    }
  }
  if (run.hour.all()) {
    words.push_back(fmt::format("hourly at 0:{:02}", run.minute));
  } else {
    for (size_t h = 0; h < run.hour.size(); ++h) {
      if (run.hour.test(h)) {
        words.push_back(fmt::format("at {}:{:02}", h, run.minute));
      }
    }
  }
  std::string text;
  for (const auto& w : words) {
    text += text.empty() ? w : " " + w;
  }
  return text;
}

} // namespace stove
