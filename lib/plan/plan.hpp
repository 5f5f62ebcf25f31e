#pragma once

#include "model/config.hpp"
#include "model/provider.hpp"
#include "plan/drift.hpp"
#include "state/state.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stove {

// The newest plan format this build reads, and the one it writes.
inline constexpr int k_plan_format_version = 1;

enum class Action : uint8_t { no_op, create, update, replace, destroy };

// Why a resource gets its action; serialised as the JSON `reason`.
enum class ChangeReason : uint8_t {
  none,                  // no-op
  new_resource,          // in the file, not in the state
  attributes_changed,    // in-place update
  fields_force_replace,  // a field that cannot change in place changed
  parent_replaced,       // nested inside a resource that is replaced
  parent_changed,        // moved to another parent
  provider_changed,      // handed to another provider configuration
  removed_from_file,     // in the state, not in the file
  status_incomplete,     // the state records a request that did not complete
};

std::string_view to_string(Action action);
std::string_view to_string(ChangeReason reason);
// The JSON `actions` list: ["create"], ["update"], ["delete","create"], ...
nlohmann::json actions_json(Action action);

// One resource's planned change. `before` is the applied spec from the state
// (null for a create); `after` is the wanted spec (null for a destroy).
struct ResourceChange {
  std::string address;
  std::string previous_address;   // set when a move turned into a replace
  Kind kind = Kind::cloud_space;
  std::string provider;
  Action action = Action::no_op;
  ChangeReason reason = ChangeReason::none;
  nlohmann::json before;
  nlohmann::json after;
  std::vector<std::string> replace_paths;  // fields (or "parent", "provider") forcing it
  std::string remote_id;                   // from the state, for update/replace/destroy
  std::string parent;                      // the parent's address, wanted side (or state's
                                           // for a destroy)
  std::vector<std::string> dependencies;   // wanted side; empty for a destroy
  std::vector<std::string> prior_dependencies;  // the state's, for the destroy half
};

struct PlanSummary {
  size_t add = 0;
  size_t change = 0;
  size_t destroy = 0;
  size_t unchanged = 0;
  bool has_changes() const { return add + change + destroy > 0; }
};

// What `stove plan` produces and `stove apply` follows. The changes are in an
// order that respects every dependency (see plan/order.hpp); no-op changes
// are kept so that the plan covers every resource.
struct Plan {
  std::string config_path;
  std::string state_path;
  bool state_existed = false;
  std::string state_lineage;
  uint64_t state_serial = 0;
  bool implicit_sandbox = false;
  std::vector<ProviderConfig> providers;
  std::vector<ResourceChange> changes;
  // Set when the state was refreshed before the plan was made: what was
  // found, already folded into the state the changes were made against.
  // Applying a saved plan folds it in again (apply_refresh) before
  // carrying the changes out.
  bool refreshed = false;
  DriftReport drift;

  PlanSummary summary() const;
};

// Diffs the wanted resources against the state. Moves the specs, addresses
// and dependency lists out of `config` and `state` into the plan, so that a
// large plan is not held twice: afterwards both are fit only to be destroyed.
// Throws
// stove::Error(ErrorKind::input) naming every resource whose
// lifecycle.prevent_destroy the plan would break, and
// stove::Error(ErrorKind::state) if the state's dependencies form a cycle.
Plan make_plan(Config&& config, State&& state, const std::string& state_path);
// The same, on copies, for callers that keep their inputs.
Plan make_plan(const Config& config, const State& state, const std::string& state_path);

// A plan that destroys everything in the state, children before parents
// (`stove destroy`). `config` only lends its providers and its
// lifecycle.prevent_destroy guards, which refuse the plan as make_plan does.
Plan make_destroy_plan(const Config& config, State&& state, const std::string& state_path);

// Refuses a saved plan whose state has moved on since it was made: another
// lineage, or another serial. Throws stove::Error(ErrorKind::state).
void check_plan_is_current(const Plan& plan, const State& state);

} // namespace stove
