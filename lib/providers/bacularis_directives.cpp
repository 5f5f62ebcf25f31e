#include "providers/bacularis_directives.hpp"

#include "model/bacula_duration.hpp"
#include "model/bacula_run.hpp"
#include "parse/bacula_schedule.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace stove::providers::bacularis {

using nlohmann::json;

namespace {

// Defaults of a stock Bacula director, by name.
constexpr std::string_view k_catalog = "MyCatalog";
constexpr std::string_view k_storage = "File1";
constexpr std::string_view k_messages = "Standard";
constexpr int k_fd_port = 9102;

json as_list(const json& value) {
  if (value.is_array()) {
    return value;
  }
  return value.is_null() ? json::array() : json::array({value});
}

// The files of Include (or Exclude) blocks: a list of {File: [...]}, one
// such object, or a File list.
std::vector<std::string> files_of(const json& blocks) {
  std::vector<std::string> out;
  for (const auto& block : as_list(blocks)) {
    for (const auto& f : as_list(value_of(block, "File"))) {
      if (f.is_string()) {
        out.push_back(f.get<std::string>());
      }
    }
  }
  return out;
}

// bdirjson names a signature by the first letter of its code: "Md5", and
// "Sha1" for every SHA.
json signature_read_form(const json& value) {
  if (!value.is_string()) {
    return value;
  }
  const std::string v = lower_ascii(value.get<std::string>());
  if (v == "md5") {
    return "Md5";
  }
  if (v.rfind("sha", 0) == 0) {
    return "Sha1";
  }
  return value;
}

json fileset_read_form(json d) {
  if (auto include = d.find("Include"); include != d.end()) {
    json blocks = as_list(*include);
    for (auto& block : blocks) {
      if (auto files = block.find("File"); files != block.end()) {
        *files = as_list(*files);
      }
      if (auto options = block.find("Options"); options != block.end()) {
        *options = as_list(*options);
        for (auto& o : *options) {
          if (o.is_object() && o.contains("Signature")) {
            o["Signature"] = signature_read_form(o["Signature"]);
          }
        }
      }
    }
    *include = std::move(blocks);
  }
  if (auto exclude = d.find("Exclude"); exclude != d.end()) {
    json blocks = as_list(*exclude);
    json first = blocks.empty() ? json::object() : blocks[0];
    *exclude = json{{"File", as_list(value_of(first, "File"))}};
  }
  return d;
}

// Days, from a period in seconds: an integer when it is whole days.
json days_of(const json& retention) {
  std::optional<int64_t> seconds;
  if (retention.is_number_integer()) {
    seconds = retention.get<int64_t>();
  } else if (retention.is_string()) {
    seconds = bacula_duration_seconds(retention.get<std::string>());
  }
  if (!seconds) {
    return nullptr;
  }
  if (*seconds % k_seconds_per_day == 0) {
    return *seconds / k_seconds_per_day;
  }
  return static_cast<double>(*seconds) / static_cast<double>(k_seconds_per_day);
}

bool enabled_of(const json& value) {
  if (value.is_boolean()) {
    return value.get<bool>();
  }
  if (value.is_string()) {
    const std::string v = lower_ascii(value.get<std::string>());
    return !(v == "no" || v == "false" || v == "0");
  }
  return true;
}

// A Run as its directive text: bdirjson's object turned back into text, or
// the text itself from a server that gives it so.
json run_text(const json& run) {
  if (run.is_string()) {
    return run;
  }
  auto parsed = run_from_bdirjson(run);
  return parsed ? json(directive_text(*parsed)) : run;
}

} // namespace

json value_of(const json& object, const char* name) {
  if (!object.is_object()) {
    return nullptr;
  }
  auto it = object.find(name);
  return it == object.end() ? json() : *it;
}

std::string string_of(const json& object, const char* name) {
  json v = value_of(object, name);
  return v.is_string() ? v.get<std::string>() : std::string();
}

std::string lower_ascii(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return text;
}

Names::Names(std::string job_name)
    : job(std::move(job_name)), fileset(fmt::format("{}-fileset", job)),
      schedule(fmt::format("{}-schedule", job)), pool(fmt::format("{}-pool", job)) {}

json client_directives(const std::string& name, const std::string& address,
                       const std::optional<std::string>& password) {
  json d = {{"Name", name},
            {"Address", address},
            {"FdPort", k_fd_port},
            {"Catalog", std::string(k_catalog)},
            {"AutoPrune", true}};
  if (password) {
    d["Password"] = *password;
  }
  return d;
}

json fileset_directives(const std::string& name, const std::vector<std::string>& files,
                        const std::vector<std::string>& excludes) {
  json d = {{"Name", name},
            {"Include",
             json::array({{{"File", files}, {"Options", json::array({{{"Signature", "MD5"}}})}}})}};
  if (!excludes.empty()) {
    d["Exclude"] = {{"File", excludes}};
  }
  return d;
}

json schedule_directives(const std::string& name, const std::string& run) {
  return {{"Name", name}, {"Run", json::array({run})}};
}

json pool_directives(const Names& names, int64_t retention_days) {
  const int64_t seconds = retention_days * k_seconds_per_day;
  return {{"Name", names.pool},
          {"PoolType", "Backup"},
          {"VolumeRetention", seconds},
          {"JobRetention", seconds},
          {"FileRetention", seconds},
          {"AutoPrune", true},
          {"Recycle", true},
          {"LabelFormat", fmt::format("{}-", names.job)}};
}

json job_directives(const Names& names, const std::string& client, bool enabled) {
  return {{"Name", names.job},
          {"Type", "Backup"},
          {"Level", "Incremental"},
          {"Client", client},
          {"Fileset", names.fileset},
          {"Schedule", names.schedule},
          {"Pool", names.pool},
          {"Storage", json::array({std::string(k_storage)})},
          {"Messages", std::string(k_messages)},
          {"Enabled", enabled}};
}

std::vector<std::string> managed_keys(std::string_view type) {
  if (type == "Client") {
    return {"Address", "FdPort", "Catalog", "AutoPrune"};
  }
  if (type == "Fileset") {
    return {"Include", "Exclude"};
  }
  if (type == "Schedule") {
    return {"Run"};
  }
  if (type == "Pool") {
    return {"PoolType",  "VolumeRetention", "JobRetention", "FileRetention",
            "AutoPrune", "Recycle",         "LabelFormat"};
  }
  return {"Type", "Level",   "Client",   "Fileset", "Schedule",
          "Pool", "Storage", "Messages", "Enabled"};
}

json read_form(std::string_view type, const json& directives) {
  json d = directives;
  if (type == "Fileset") {
    return fileset_read_form(std::move(d));
  }
  if (type == "Schedule" && d.contains("Run")) {
    json runs = json::array();
    for (const auto& run : as_list(d["Run"])) {
      auto parsed = run.is_string() ? parse_bacula_run(run.get<std::string>()) : std::nullopt;
      runs.push_back(parsed ? bdirjson_of(*parsed) : run);
    }
    d["Run"] = std::move(runs);
  }
  if (type == "Job" && d.contains("Storage")) {
    d["Storage"] = as_list(d["Storage"]);
  }
  return d;
}

bool matches(const json& have, const json& want) {
  if (!have.is_object()) {
    return false;
  }
  for (const auto& [key, value] : want.items()) {
    auto it = have.find(key);
    if (it == have.end() || *it != value) {
      return false;
    }
  }
  return true;
}

std::string differences(const json& have, const json& want) {
  std::string out;
  for (const auto& [key, value] : want.items()) {
    auto it = have.find(key);
    if (it != have.end() && *it == value) {
      continue;
    }
    std::string item = key == "Password" ? std::string("Password differs")
                       : it == have.end()
                           ? fmt::format("{} missing, want {}", key, value.dump())
                           : fmt::format("{} is {}, want {}", key, it->dump(), value.dump());
    out = out.empty() ? item : fmt::format("{}; {}", out, item);
  }
  return out;
}

json merged(std::string_view type, const json& current, const json& wanted) {
  json out = current.is_object() ? current : json::object();
  for (const auto& key : managed_keys(type)) {
    if (wanted.contains(key)) {
      out[key] = wanted[key];
    } else {
      out.erase(key);
    }
  }
  if (wanted.contains("Password")) {
    out["Password"] = wanted["Password"];
  }
  out["Name"] = wanted["Name"];
  return out;
}

json job_identity(const json& job) {
  json identity = json::object();
  for (const char* key : {"Name", "Type", "Client", "Fileset", "Schedule", "Pool"}) {
    if (job.contains(key)) {
      identity[key] = job[key];
    }
  }
  return identity;
}

json observed_of(const std::string& name, const json& job, const Lookup& lookup) {
  // What the job lacks is observed as null, not left out: a Schedule taken
  // off the job by hand is drift, and a missing key would hide it.
  json o = json::object();
  o["name"] = name;
  o["client"] = string_of(job, "Client");
  o["enabled"] = enabled_of(value_of(job, "Enabled"));
  o["schedule"] = nullptr;
  if (std::string s = string_of(job, "Schedule"); !s.empty()) {
    if (auto schedule = lookup("Schedule", s)) {
      json runs = as_list(value_of(*schedule, "Run"));
      if (runs.size() == 1) {
        o["schedule"] = run_text(runs[0]);
      } else if (!runs.empty()) {
        json texts = json::array();
        for (const auto& run : runs) {
          texts.push_back(run_text(run));
        }
        o["schedule"] = std::move(texts);
      }
    }
  }
  o["fileset"] = nullptr;
  o["excludes"] = nullptr;
  if (std::string f = string_of(job, "Fileset"); !f.empty()) {
    if (auto fileset = lookup("Fileset", f)) {
      o["fileset"] = files_of(value_of(*fileset, "Include"));
      o["excludes"] = files_of(value_of(*fileset, "Exclude"));
    }
  }
  o["retention_days"] = nullptr;
  if (std::string p = string_of(job, "Pool"); !p.empty()) {
    if (auto pool = lookup("Pool", p)) {
      o["retention_days"] = days_of(value_of(*pool, "VolumeRetention"));
    }
  }
  return o;
}

json with_spec_schedule(json observed, const json& spec_schedule) {
  auto it = observed.find("schedule");
  if (it == observed.end() || !it->is_string() || !spec_schedule.is_string()) {
    return observed;
  }
  auto real = parse_bacula_run(it->get<std::string>());
  auto wanted = parse_bacula_run(spec_schedule.get<std::string>());
  if (real && wanted && *real == *wanted) {
    *it = spec_schedule;
  }
  return observed;
}

} // namespace stove::providers::bacularis
