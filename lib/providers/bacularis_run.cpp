#include "providers/bacularis_run.hpp"

#include "providers/bacularis_directives.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <utility>

namespace stove::providers::bacularis {

using nlohmann::json;

namespace {

// "Full" -> "F": the letters jobs/run takes; empty for another level.
std::string level_letter(const std::string& level) {
  const std::string l = lower_ascii(level);
  if (l == "full" || l == "f") {
    return "F";
  }
  if (l == "incremental" || l == "i") {
    return "I";
  }
  if (l == "differential" || l == "d") {
    return "D";
  }
  return {};
}

std::string level_word(const std::string& letter) {
  if (letter == "F") {
    return "Full";
  }
  if (letter == "I") {
    return "Incremental";
  }
  if (letter == "D") {
    return "Differential";
  }
  return letter;
}

// The N of "Job queued. JobId=N" in bconsole's output.
std::string queued_job_id(const json& output) {
  std::vector<std::string> lines;
  if (output.is_string()) {
    lines.push_back(output.get<std::string>());
  } else if (output.is_array()) {
    for (const auto& line : output) {
      if (line.is_string()) {
        lines.push_back(line.get<std::string>());
      }
    }
  }
  for (const auto& line : lines) {
    auto at = line.find("JobId=");
    if (at == std::string::npos) {
      continue;
    }
    std::string digits;
    for (size_t i = at + 6; i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i) {
      digits.push_back(line[i]);
    }
    if (!digits.empty()) {
      return digits;
    }
  }
  return {};
}

json id_number(const std::string& id) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), value);
  return ec == std::errc() && end == id.data() + id.size() ? json(value) : json(id);
}

json last_job(const std::string& id, const json& record, const std::string& level) {
  auto text = [&](const char* key) {
    json v = value_of(record, key);
    return v.is_string() ? v : json(nullptr);
  };
  // The catalog's numbers may come back as strings ("1200").
  auto number = [&](const char* key) {
    json v = value_of(record, key);
    return v.is_number_integer() ? v : v.is_string() ? id_number(v.get<std::string>()) : json(0);
  };
  json job_id = id_number(id);
  std::string letter = string_of(record, "level");
  return {{"id", job_id},
          {"status", string_of(record, "jobstatus")},
          {"level", letter.empty() ? level : level_word(letter)},
          {"started", text("starttime")},
          {"ended", text("endtime")},
          {"files", number("jobfiles")},
          {"bytes", number("jobbytes")}};
}

// The last error line of the job's log, or its last line.
std::string log_error(Api& api, const std::string& id, const OpContext& context) {
  try {
    Api::Reply reply = api.send("GET", fmt::format("joblog/{}", id), nullptr, context);
    if (!reply.ok() || !reply.output.is_array() || reply.output.empty()) {
      return {};
    }
    std::string last;
    for (const auto& line : reply.output) {
      if (!line.is_string()) {
        continue;
      }
      std::string text = line.get<std::string>();
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.pop_back();
      }
      if (text.find("Fatal error") != std::string::npos ||
          (last.find("Fatal error") == std::string::npos &&
           text.find("Error") != std::string::npos)) {
        last = text;
      } else if (last.empty()) {
        last = text;
      }
    }
    // "22-Nov 08:06 dir JobId 12: Fatal error: ...": the message only.
    if (auto at = last.find("JobId "); at != std::string::npos) {
      auto colon = last.find(": ", at);
      if (colon != std::string::npos) {
        last = last.substr(colon + 2);
      }
    }
    return last;
  } catch (const std::exception&) {
    return {}; // the log is a courtesy
  }
}

ActionResult wait_for_job(Api& api, const std::string& id, const std::string& level,
                          const OpContext& context) {
  constexpr std::chrono::milliseconds k_first{100};
  constexpr std::chrono::milliseconds k_cap{2000};
  const std::string path = fmt::format("jobs/{}", id);
  auto delay = k_first;
  json record = json::object();
  std::string status;
  bool noted_running = false;
  bool interrupted = false;
  try {
    for (;;) {
      Api::Reply reply = api.send("GET", path, nullptr, context);
      if (!reply.ok()) {
        api.fail("GET", path, reply);
      }
      if (!reply.output.is_object()) {
        throw ProviderError(fmt::format("GET {}: expected the job's record", path));
      }
      record = reply.output;
      status = string_of(record, "jobstatus");
      if (status == "T" || status == "W") {
        json last = last_job(id, record, level);
        ActionResult result;
        result.outcome = fmt::format("job {} {} ({}, {} files, {} bytes{})", id, status,
                                     last["level"].get<std::string>(), last["files"].dump(),
                                     last["bytes"].dump(), status == "W" ? ", with warnings" : "");
        result.observed = {{"last_job", std::move(last)}};
        return result;
      }
      if (status == "E" || status == "e" || status == "f" || status == "A" || status == "I") {
        std::string why = log_error(api, id, context);
        ActionResult result;
        result.ok = false;
        result.outcome = fmt::format("job {} ended {} ({}){}", id, status,
                                     status == "A"   ? "cancelled"
                                     : status == "f" ? "fatal error"
                                     : status == "E" ? "terminated in error"
                                     : status == "I" ? "incomplete"
                                                     : "terminated with errors",
                                     why.empty() ? std::string() : fmt::format(": {}", why));
        result.observed = {{"last_job", last_job(id, record, level)}};
        return result;
      }
      if (status == "R" && !noted_running) {
        note(context, fmt::format("job {} running", id));
        noted_running = true;
      }
      if (context.deadline.expired()) {
        break;
      }
      context.deadline.sleep(delay);
      delay = std::min(delay * 2, k_cap);
    }
  } catch (const http::TransportError& e) {
    // Out of time, or interrupted (Ctrl-C): the job goes on either way,
    // and what is known of it is recorded.
    interrupted = e.reason() == http::TransportError::Reason::cancelled;
    if (!interrupted &&
        !(e.reason() == http::TransportError::Reason::timeout && context.deadline.expired())) {
      throw;
    }
  }
  ActionResult result;
  result.ok = false;
  result.outcome = fmt::format("{}: job {} was still {}; it goes on in Bacula",
                               interrupted ? "interrupted" : "out of time", id,
                               status.empty() ? "queued" : status);
  result.observed = {{"last_job", last_job(id, record, level)}};
  return result;
}

} // namespace

ActionResult run_job(Api& api, const Target& target, const json& params, const OpContext& context) {
  const std::string name =
      target.remote_id.empty() ? target.spec.value("name", std::string()) : target.remote_id;
  auto job = api.get("Job", name, context);
  if (!job) {
    throw ProviderError(fmt::format("{}: Job \"{}\" does not exist in Bacularis (stove plan "
                                    "will create it again)",
                                    target.address, name),
                        404);
  }
  std::string level = params.is_object() ? params.value("level", std::string()) : "";
  if (level.empty()) {
    level = string_of(*job, "Level");
  }
  if (level.empty()) {
    level = "Incremental";
  }
  const std::string letter = level_letter(level);
  if (letter.empty()) {
    throw ProviderError(fmt::format("{}: Job \"{}\" has Level {}, which stove does not run; "
                                    "give --param level=Full, Incremental or Differential",
                                    target.address, name, level));
  }
  json body = {{"name", name}, {"level", letter}};
  // bdirjson prints a Job's FileSet as Fileset and its Storage as a list.
  for (auto [key, param] : {std::pair{"Client", "client"}, std::pair{"Fileset", "fileset"},
                            std::pair{"Storage", "storage"}, std::pair{"Pool", "pool"}}) {
    json v = job->value(key, json());
    if (v.is_array() && !v.empty()) {
      v = v[0];
    }
    if (!v.is_string() || v.get<std::string>().empty()) {
      throw ProviderError(fmt::format("{}: Job \"{}\" has no {}; Bacularis cannot run it",
                                      target.address, name, key));
    }
    body[param] = v;
  }
  Api::Reply reply = api.send("POST", "jobs/run", &body, context, /*idempotent=*/false);
  if (!reply.ok()) {
    api.fail("POST", "jobs/run", reply);
  }
  const std::string id = queued_job_id(reply.output);
  if (id.empty()) {
    throw ProviderError(
        fmt::format("POST jobs/run: the reply names no JobId: {}", output_text(reply.output)));
  }
  note(context, fmt::format("job {} queued ({})", id, level));
  return wait_for_job(api, id, level, context);
}

} // namespace stove::providers::bacularis
