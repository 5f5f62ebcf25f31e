#include "json_events.hpp"

#include "command.hpp"

#include "plan/inputs.hpp"
#include "stove/version.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>

namespace stove {

using session::Event;
using session::EventType;

namespace {

// RFC 3339, UTC, to the millisecond.
std::string now_text() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", utc, ms.count() % 1000);
}

std::string_view severity_name(Severity severity) {
  return severity == Severity::error ? "error" : "warning";
}

} // namespace

void JsonReporter::print(nlohmann::ordered_json object) {
  print_out(object.dump() + "\n");
}

void JsonReporter::begin() {
  std::lock_guard lock(m_mutex);
  print({{"type", "version"},
         {"time", now_text()},
         {"stove", k_version},
         {"format_version", 1},
         {"operation", m_operation}});
}

void JsonReporter::report(const Event& event) {
  std::lock_guard lock(m_mutex);
  switch (event.type) {
  case EventType::note:
    print({{"type", "note"}, {"time", now_text()}, {"message", event.message}});
    break;
  case EventType::diagnostics:
    for (const auto& d : event.inputs->diagnostics.all()) {
      m_file_errors = m_file_errors || d.severity == Severity::error;
      print({{"type", "diagnostic"},
             {"time", now_text()},
             {"severity", severity_name(d.severity)},
             {"file", event.inputs->source.path},
             {"line", d.mark.line},
             {"column", d.mark.column},
             {"message", d.message}});
    }
    break;
  case EventType::planned:
    planned(event);
    break;
  case EventType::drift_recorded:
    print({{"type", "drift_recorded"}, {"time", now_text()}, {"count", event.count}});
    break;
  case EventType::cancelled:
    print({{"type", "cancelled"}, {"time", now_text()}, {"operation", event.message}});
    break;
  case EventType::applying:
    print({{"type", session::to_string(event.type)}, {"time", now_text()}, {"operation", m_operation}});
    break;
  case EventType::started:
  case EventType::still_running:
  case EventType::done:
  case EventType::failed:
  case EventType::skipped:
    progress(event);
    break;
  case EventType::summary:
    summary(event);
    break;
  case EventType::refreshed:
  case EventType::importing:
  case EventType::imported:
  case EventType::executing:
  case EventType::action_note:
    break;
  }
}

// What the refresh found, each change the plan makes, and their count.
void JsonReporter::planned(const Event& event) {
  const Plan& plan = *event.plan;
  for (const auto& d : plan.drift.drift) {
    print({{"type", "resource_drift"},
           {"time", now_text()},
           {"address", d.address},
           {"change", d.deleted ? "deleted" : d.missing.empty() ? "changed" : "incomplete"}});
  }
  for (const auto& c : plan.changes) {
    if (c.action == Action::no_op) {
      continue;
    }
    nlohmann::ordered_json change = {{"type", "planned_change"},
                                     {"time", now_text()},
                                     {"address", c.address},
                                     {"action", to_string(c.action)},
                                     {"reason", to_string(c.reason)}};
    if (!c.remote_id.empty()) {
      change["id"] = c.remote_id;
    }
    print(std::move(change));
  }
  const PlanSummary s = plan.summary();
  print({{"type", "change_summary"},
         {"time", now_text()},
         {"operation", m_operation},
         {"add", s.add},
         {"change", s.change},
         {"destroy", s.destroy}});
}

void JsonReporter::progress(const Event& event) {
  const Progress& p = *event.progress;
  nlohmann::ordered_json out = {{"type", session::to_string(event.type)},
                                {"time", now_text()},
                                {"address", p.address},
                                {"action", to_string(p.action)}};
  if (p.action == Action::replace) {
    out["phase"] = p.phase == Phase::destroy ? "destroy" : "create";
  }
  if (event.type != EventType::started && event.type != EventType::skipped) {
    out["elapsed_seconds"] = p.elapsed.count();
  }
  if (!p.remote_id.empty()) {
    out["id"] = p.remote_id;
  }
  if (!p.message.empty()) {
    out[event.type == EventType::skipped ? "reason" : "message"] = p.message;
  }
  print(std::move(out));
}

void JsonReporter::summary(const Event& event) {
  const ApplyResult& r = *event.result;
  nlohmann::ordered_json failed = nlohmann::ordered_json::array();
  for (const auto& f : r.failed) {
    failed.push_back({{"address", f.address}, {"message", f.message}});
  }
  m_summarised = true;
  print({{"type", "summary"},
         {"time", now_text()},
         {"operation", m_operation},
         {"ok", r.ok()},
         {"exit_code", r.ok() ? k_exit_ok : k_exit_error},
         {"added", r.added},
         {"changed", r.changed},
         {"destroyed", r.destroyed},
         {"failed", std::move(failed)},
         {"skipped", r.skipped},
         {"not_started", r.not_started},
         {"interrupted", r.interrupted}});
}

void JsonReporter::finish(bool ok, int exit_code) {
  std::lock_guard lock(m_mutex);
  if (m_summarised) {
    return;
  }
  m_summarised = true;
  print({{"type", "summary"},
         {"time", now_text()},
         {"operation", m_operation},
         {"ok", ok},
         {"exit_code", exit_code},
         {"added", 0},
         {"changed", 0},
         {"destroyed", 0},
         {"failed", nlohmann::ordered_json::array()},
         {"skipped", nlohmann::ordered_json::array()},
         {"not_started", nlohmann::ordered_json::array()},
         {"interrupted", false}});
}

void JsonReporter::error(const std::string& message, int exit_code) {
  {
    std::lock_guard lock(m_mutex);
    print({{"type", "error"}, {"time", now_text()}, {"message", message}});
  }
  finish(false, exit_code);
}

} // namespace stove
