#include "session/reporter.hpp"

namespace stove::session {

std::string_view to_string(EventType type) {
  switch (type) {
  case EventType::note:
    return "note";
  case EventType::diagnostics:
    return "diagnostic";
  case EventType::refreshed:
    return "refreshed";
  case EventType::planned:
    return "planned";
  case EventType::drift_recorded:
    return "drift_recorded";
  case EventType::cancelled:
    return "cancelled";
  case EventType::applying:
    return "apply_start";
  case EventType::started:
    return "operation_start";
  case EventType::still_running:
    return "operation_progress";
  case EventType::done:
    return "operation_complete";
  case EventType::failed:
    return "operation_errored";
  case EventType::skipped:
    return "operation_skipped";
  case EventType::summary:
    return "summary";
  case EventType::importing:
    return "import_start";
  case EventType::imported:
    return "imported";
  case EventType::executing:
    return "exec_start";
  case EventType::action_note:
    return "action_note";
  }
  return "unknown";
}

} // namespace stove::session
