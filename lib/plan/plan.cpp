#include "plan/plan.hpp"

#include "model/address.hpp"
#include "util/error.hpp"
#include "plan/diff.hpp"
#include "plan/order.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <unordered_map>

namespace stove {

std::string_view to_string(Action action) {
  switch (action) {
  case Action::no_op: return "no-op";
  case Action::create: return "create";
  case Action::update: return "update";
  case Action::replace: return "replace";
  case Action::destroy: return "delete";
  }
  return "unknown";
}

std::string_view to_string(ChangeReason reason) {
  switch (reason) {
  case ChangeReason::none: return "none";
  case ChangeReason::new_resource: return "new_resource";
  case ChangeReason::attributes_changed: return "attributes_changed";
  case ChangeReason::fields_force_replace: return "fields_force_replacement";
  case ChangeReason::parent_replaced: return "parent_replaced";
  case ChangeReason::parent_changed: return "parent_changed";
  case ChangeReason::provider_changed: return "provider_changed";
  case ChangeReason::removed_from_file: return "removed_from_file";
  case ChangeReason::status_incomplete: return "status_incomplete";
  }
  return "unknown";
}

nlohmann::json actions_json(Action action) {
  switch (action) {
  case Action::no_op: return {"no-op"};
  case Action::create: return {"create"};
  case Action::update: return {"update"};
  case Action::replace: return {"delete", "create"};
  case Action::destroy: return {"delete"};
  }
  return nlohmann::json::array();
}

PlanSummary Plan::summary() const {
  PlanSummary s;
  for (const auto& c : changes) {
    switch (c.action) {
    case Action::no_op: ++s.unchanged; break;
    case Action::create: ++s.add; break;
    case Action::update: ++s.change; break;
    case Action::replace: ++s.add; ++s.destroy; break;
    case Action::destroy: ++s.destroy; break;
    }
  }
  return s;
}

namespace {

// A machine moved to another cloud space shows up as a destroy and a
// create of the same kind and key. When the pairing is unambiguous, it is
// one replace forced by the parent.
void pair_moves(std::vector<ResourceChange>& changes) {
  using Leaf = std::pair<Kind, std::string>;
  std::map<Leaf, std::vector<uint32_t>> creates, destroys;
  for (uint32_t i = 0; i < changes.size(); ++i) {
    const auto& c = changes[i];
    if (!schema_of(c.kind).parent || (c.action != Action::create && c.action != Action::destroy)) {
      continue;
    }
    auto address = parse_address(c.address);
    if (!address) {
      continue;
    }
    Leaf leaf{c.kind, address->segments.back().key};
    (c.action == Action::create ? creates : destroys)[leaf].push_back(i);
  }
  std::vector<bool> drop(changes.size(), false);
  for (const auto& [leaf, created] : creates) {
    auto it = destroys.find(leaf);
    if (created.size() != 1 || it == destroys.end() || it->second.size() != 1) {
      continue;
    }
    ResourceChange& to = changes[created.front()];
    ResourceChange& from = changes[it->second.front()];
    if (from.provider != to.provider) {
      continue;
    }
    to.action = Action::replace;
    to.reason = ChangeReason::parent_changed;
    to.previous_address = from.address;
    to.before = std::move(from.before);
    to.remote_id = std::move(from.remote_id);
    to.prior_dependencies = std::move(from.prior_dependencies);
    to.replace_paths = {"parent"};
    drop[it->second.front()] = true;
  }
  size_t out = 0;
  for (size_t i = 0; i < changes.size(); ++i) {
    if (!drop[i]) {
      if (out != i) {
        changes[out] = std::move(changes[i]);
      }
      ++out;
    }
  }
  changes.resize(out);
}

std::string replace_cause(const ResourceChange& c) {
  switch (c.reason) {
  case ChangeReason::parent_replaced: return "its parent is replaced";
  case ChangeReason::parent_changed: return "it moves to another parent";
  case ChangeReason::provider_changed: return "its provider changes";
  default: return fmt::format("{} cannot change in place", fmt::join(c.replace_paths, ", "));
  }
}

// prevent_destroy guards the resources the file declares: a plan that would
// destroy or replace one is refused as a whole.
void refuse_prevented_destroys(const Config& config, const std::vector<ResourceChange>& changes) {
  std::vector<std::string> refusals;
  for (const auto& c : changes) {
    if (c.action != Action::replace && c.action != Action::destroy) {
      continue;
    }
    const Resource* r = config.find(c.address);
    if (r == nullptr || !r->lifecycle.prevent_destroy) {
      continue;
    }
    if (c.action == Action::destroy) {
      refusals.push_back(fmt::format(
          "{}:{}:{}: error: {} has lifecycle.prevent_destroy set, but this plan would destroy "
          "it; remove prevent_destroy from the file first if it is really meant to go",
          config.path, r->mark.line, r->mark.column, c.address));
      continue;
    }
    refusals.push_back(fmt::format(
        "{}:{}:{}: error: {} has lifecycle.prevent_destroy set, but this plan would replace it "
        "({}); change the file so that it can be updated in place, or remove prevent_destroy",
        config.path, r->mark.line, r->mark.column, c.address, replace_cause(c)));
  }
  if (!refusals.empty()) {
    throw Error(ErrorKind::input, fmt::format("{}", fmt::join(refusals, "\n")));
  }
}

// The change for a resource the file declares: a create, or what its
// recorded state `s` (nullptr if none) calls for. Moves the resource's
// fields, and those of `s` that the change keeps, out.
ResourceChange declared_change(Resource& r, ResourceState* s) {
  ResourceChange c;
  c.address = std::move(r.address);
  c.kind = r.kind;
  c.provider = r.provider;
  c.dependencies = r.dependencies();
  c.parent = std::move(r.parent_address);
  c.after = std::move(r.attrs);
  if (s == nullptr) {
    c.action = Action::create;
    c.reason = ChangeReason::new_resource;
    return c;
  }
  c.remote_id = std::move(s->remote_id);
  c.prior_dependencies = std::move(s->dependencies);
  for (const auto& ignored : r.lifecycle.ignore_changes) {
    if (auto old = s->spec.find(ignored); old != s->spec.end()) {
      c.after[ignored] = *old;
    }
  }
  // Most resources are unchanged: one comparison settles those.
  FieldDiff diff;
  if (s->spec != c.after) {
    diff = diff_fields(schema_of(r.kind), s->spec, c.after, r.lifecycle.ignore_changes);
  }
  if (!s->provider.empty() && s->provider != r.provider) {
    c.action = Action::replace;
    c.reason = ChangeReason::provider_changed;
    c.replace_paths = {"provider"};
  } else if (c.remote_id.empty()) {
    // Recorded, but its create never finished: create it again.
    c.action = Action::create;
    c.reason = ChangeReason::status_incomplete;
  } else if (!diff.replace_paths.empty()) {
    c.action = Action::replace;
    c.reason = ChangeReason::fields_force_replace;
    c.replace_paths = std::move(diff.replace_paths);
  } else if (diff.changed) {
    c.action = Action::update;
    c.reason = ChangeReason::attributes_changed;
  } else if (s->status != ResourceStatus::completed) {
    c.action = Action::update;
    c.reason = ChangeReason::status_incomplete;
  }
  if (c.action != Action::create) {
    c.before = std::move(s->spec);
  }
  return c;
}

// The destroy of a recorded resource the file no longer declares.
ResourceChange removed_change(ResourceState& s, const std::string& state_path) {
  ResourceChange c;
  c.address = s.address;
  auto kind = find_kind(s.kind);
  if (!kind) {
    throw Error(ErrorKind::state,
                fmt::format("{}: resource {} has unknown kind \"{}\"", state_path, s.address,
                            s.kind));
  }
  c.kind = *kind;
  c.provider = s.provider;
  c.action = Action::destroy;
  c.reason = ChangeReason::removed_from_file;
  c.before = std::move(s.spec);
  c.after = nullptr;
  c.remote_id = std::move(s.remote_id);
  c.parent = s.parent;
  c.prior_dependencies = std::move(s.dependencies);
  return c;
}

// One change per declared resource, in the file's order, then one destroy
// per recorded resource the file no longer has, in the state's order.
void add_changes(Config& config, State& state, const std::string& state_path,
                 std::vector<ResourceChange>& changes) {
  std::unordered_map<std::string_view, uint32_t> in_state;
  in_state.reserve(state.resources.size());
  for (uint32_t i = 0; i < state.resources.size(); ++i) {
    in_state.emplace(state.resources[i].address, i);
  }
  std::vector<bool> matched(state.resources.size(), false);

  changes.reserve(config.resources.size() + state.resources.size() / 16);
  for (Resource& r : config.resources) {
    ResourceState* s = nullptr;
    if (auto it = in_state.find(r.address); it != in_state.end()) {
      s = &state.resources[it->second];
      matched[it->second] = true;
    }
    changes.push_back(declared_change(r, s));
  }
  for (uint32_t i = 0; i < state.resources.size(); ++i) {
    if (!matched[i]) {
      changes.push_back(removed_change(state.resources[i], state_path));
    }
  }
}

// Replacing a parent replaces what lives inside it; parents come first in
// address length order.
void replace_children_of_replaced(std::vector<ResourceChange>& changes) {
  bool any_replace = std::any_of(changes.begin(), changes.end(), [](const ResourceChange& c) {
    return c.action == Action::replace;
  });
  if (!any_replace) {
    return;
  }
  std::unordered_map<std::string_view, uint32_t> by_address;
  by_address.reserve(changes.size());
  for (uint32_t i = 0; i < changes.size(); ++i) {
    if (changes[i].action != Action::destroy) {
      by_address.emplace(changes[i].address, i);
    }
  }
  std::vector<uint32_t> nested;
  for (uint32_t i = 0; i < changes.size(); ++i) {
    if (!changes[i].parent.empty() && changes[i].action != Action::destroy) {
      nested.push_back(i);
    }
  }
  std::stable_sort(nested.begin(), nested.end(), [&](uint32_t a, uint32_t b) {
    return changes[a].address.size() < changes[b].address.size();
  });
  for (uint32_t i : nested) {
    auto& c = changes[i];
    auto parent = by_address.find(c.parent);
    if (parent == by_address.end() || changes[parent->second].action != Action::replace) {
      continue;
    }
    if (c.action == Action::no_op || c.action == Action::update) {
      c.action = Action::replace;
      c.reason = ChangeReason::parent_replaced;
      c.replace_paths.clear();
    }
  }
}

// Where each change goes: source[new position] = old position. Each change
// goes where its first operation is in the operations' dependency order.
// The operation graph is gone when this returns, before the changes move.
std::vector<uint32_t> change_order(const std::vector<ResourceChange>& changes,
                                   const std::string& state_path) {
  OperationGraph graph = build_operation_graph(changes);
  std::vector<uint32_t> order;
  if (!graph.dag.topological_order(order)) {
    auto cycles = graph.dag.find_cycles();
    std::vector<std::string> names;
    if (!cycles.empty()) {
      for (uint32_t op : cycles.front()) {
        names.push_back(changes[graph.operations[op].change].address);
      }
    }
    throw Error(ErrorKind::state,
                fmt::format("{}: the dependencies recorded in the state form a cycle: {}",
                            state_path, fmt::join(names, " -> ")));
  }
  std::vector<uint32_t> source;
  source.reserve(changes.size());
  std::vector<bool> placed(changes.size(), false);
  for (uint32_t op : order) {
    uint32_t index = graph.operations[op].change;
    if (!placed[index]) {
      placed[index] = true;
      source.push_back(index);
    }
  }
  return source;
}

// Puts changes[source[i]] at i. In place, following each cycle of the
// permutation, rather than into a copy: a large plan is most of the memory
// in use.
void permute(std::vector<ResourceChange>& changes, const std::vector<uint32_t>& source) {
  std::vector<bool> done(changes.size(), false);
  for (uint32_t start = 0; start < changes.size(); ++start) {
    if (done[start]) {
      continue;
    }
    ResourceChange held = std::move(changes[start]);
    uint32_t at = start;
    while (source[at] != start) {
      changes[at] = std::move(changes[source[at]]);
      done[at] = true;
      at = source[at];
    }
    changes[at] = std::move(held);
    done[at] = true;
  }
}

} // namespace

Plan make_plan(Config&& config, State&& state, const std::string& state_path) {
  Plan plan;
  plan.config_path = config.path;
  plan.state_path = state_path;
  plan.state_existed = state.exists;
  plan.state_lineage = state.lineage;
  plan.state_serial = state.serial;
  plan.implicit_sandbox = config.implicit_sandbox;
  plan.providers = config.providers;

  add_changes(config, state, state_path, plan.changes);
  pair_moves(plan.changes);
  replace_children_of_replaced(plan.changes);
  refuse_prevented_destroys(config, plan.changes);
  permute(plan.changes, change_order(plan.changes, state_path));
  return plan;
}

Plan make_plan(const Config& config, const State& state, const std::string& state_path) {
  Config config_copy = config;
  State state_copy = state;
  return make_plan(std::move(config_copy), std::move(state_copy), state_path);
}

void check_plan_is_current(const Plan& plan, const State& state) {
  if (plan.state_existed != state.exists ||
      (state.exists && plan.state_lineage != state.lineage)) {
    throw Error(ErrorKind::state,
                fmt::format("the saved plan was made for {}, but {} now holds {}; run stove plan "
                            "again",
                            plan.state_existed ? "state lineage " + plan.state_lineage
                                               : "an empty state",
                            plan.state_path,
                            state.exists ? "state lineage " + state.lineage : "no state"));
  }
  if (plan.state_serial != state.serial) {
    throw Error(ErrorKind::state,
                fmt::format("the saved plan is stale: it was made against serial {} of {}, which "
                            "is now at serial {}; run stove plan again",
                            plan.state_serial, plan.state_path, state.serial));
  }
}

Plan make_destroy_plan(const Config& config, State&& state, const std::string& state_path) {
  Config nothing;
  nothing.path = config.path;
  nothing.providers = config.providers;
  nothing.implicit_sandbox = config.implicit_sandbox;
  Plan plan = make_plan(std::move(nothing), std::move(state), state_path);
  refuse_prevented_destroys(config, plan.changes);
  return plan;
}

} // namespace stove
