#pragma once

// What a session tells whoever runs it, as it happens: notes, the file's
// problems, the plan, each operation's progress and the outcome. A terminal
// prints terraform-style lines, `--json` one object per event, and a
// service can keep them as its event log. The session never writes to a
// terminal itself.

#include "apply/engine.hpp"
#include "apply/import.hpp"
#include "plan/drift.hpp"
#include "plan/plan.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace stove {
struct Inputs;
}

namespace stove::session {

enum class EventType : uint8_t {
  note,          // something the user should know: `message`
  diagnostics,   // the file has problems: `inputs`; the run ends
  refreshed,     // what the refresh found: `drift`
  planned,       // the plan, before approval: `plan`
  drift_recorded,// nothing to change, but the state learnt `count` drifted objects
  cancelled,     // the approver said no to `message` (apply, destroy, refresh)
  applying,      // approved: the changes begin
  started,       // an operation began: `progress`
  still_running, // an operation still runs: `progress`
  done,          // an operation succeeded: `progress`
  failed,        // an operation failed: `progress`
  skipped,       // an operation was not run: `progress`
  summary,       // the changes are over: `result`, `destroy`
  importing,     // import reads the object `message` for `address`
  imported,      // import read it: `imported`
  executing,     // exec runs the action `message` on `address`
  action_note,   // what a running action reports: `message`, for `address`
};

// The name of an event type, as `--json` prints it ("apply_start", ...).
std::string_view to_string(EventType type);

// One event. The pointers are valid only during the call to the reporter.
struct Event {
  EventType type = EventType::note;
  std::string message;
  std::string address;
  const Inputs* inputs = nullptr;
  const DriftReport* drift = nullptr;
  const Plan* plan = nullptr;
  const Progress* progress = nullptr;
  const ApplyResult* result = nullptr;
  const ImportResult* imported = nullptr;
  bool destroy = false;
  size_t count = 0;
};

// Receives a session's events. Calls are serialised (operation progress
// comes from worker threads, one at a time).
class Reporter {
public:
  virtual ~Reporter() = default;
  virtual void report(const Event& event) = 0;
};

} // namespace stove::session
