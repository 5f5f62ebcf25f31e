#include "plan/plan_file.hpp"

#include "util/error.hpp"
#include "parse/source.hpp"
#include "util/atomic_file.hpp"
#include "stove/version.hpp"

#include <fmt/format.h>

namespace stove {

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

std::optional<Action> action_from_json(const json& actions) {
  for (auto a : {Action::no_op, Action::create, Action::update, Action::replace,
                 Action::destroy}) {
    if (actions == actions_json(a)) {
      return a;
    }
  }
  return std::nullopt;
}

std::optional<ChangeReason> reason_from_string(const std::string& text) {
  for (int i = 0; i <= static_cast<int>(ChangeReason::status_incomplete); ++i) {
    auto reason = static_cast<ChangeReason>(i);
    if (to_string(reason) == text) {
      return reason;
    }
  }
  return std::nullopt;
}

// Why the plan at `path` cannot be used.
Error unusable_plan(const std::string& path, const std::string& why) {
  return Error(ErrorKind::input, fmt::format("{}: not a usable stove plan: {}", path, why));
}

ResourceChange change_from_json(const std::string& path, const json& c) {
  ResourceChange change;
  change.address = c.at("address").get<std::string>();
  change.previous_address = c.value("previous_address", std::string());
  auto kind = find_kind(c.at("kind").get<std::string>());
  auto action = action_from_json(c.at("actions"));
  if (!kind || !action) {
    throw unusable_plan(path, fmt::format("resource change {} has an unknown kind or actions",
                                          change.address));
  }
  change.kind = *kind;
  change.action = *action;
  change.provider = c.at("provider").get<std::string>();
  change.before = c.at("before");
  change.after = c.at("after");
  change.replace_paths = c.at("replace_paths").get<std::vector<std::string>>();
  const json& reason = c.at("reason");
  if (!reason.is_null()) {
    auto parsed = reason_from_string(reason.get<std::string>());
    if (!parsed) {
      throw unusable_plan(path,
                          fmt::format("resource change {} has an unknown reason", change.address));
    }
    change.reason = *parsed;
  }
  change.remote_id = c.at("remote_id").is_null() ? "" : c.at("remote_id").get<std::string>();
  change.parent = c.at("parent").is_null() ? "" : c.at("parent").get<std::string>();
  change.dependencies = c.at("dependencies").get<std::vector<std::string>>();
  change.prior_dependencies = c.at("prior_dependencies").get<std::vector<std::string>>();
  return change;
}

// One entry of "resource_drift", into `drift` (with its observed attributes).
void add_drift_from_json(const std::string& path, const json& d, DriftReport& drift) {
  ResourceDrift entry;
  entry.address = d.at("address").get<std::string>();
  auto kind = find_kind(d.at("kind").get<std::string>());
  if (!kind) {
    throw unusable_plan(path, fmt::format("resource drift {} has an unknown kind", entry.address));
  }
  entry.kind = *kind;
  entry.provider = d.at("provider").get<std::string>();
  entry.remote_id = d.at("remote_id").get<std::string>();
  entry.deleted = d.at("change").get<std::string>() == "deleted";
  if (auto missing = d.find("missing"); missing != d.end()) {
    entry.missing = missing->get<std::vector<std::string>>();
  }
  for (const auto& [field, values] : d.at("attributes").items()) {
    entry.attributes.push_back(AttributeDrift{field, values.at("state"), values.at("real")});
  }
  if (!entry.deleted) {
    entry.real_spec = d.at("real_spec");
    drift.observed[entry.address] = d.at("observed");
  }
  drift.drift.push_back(std::move(entry));
}

// The plan in `j`, a JSON object holding format_version and
// resource_changes; throws json::exception for a field missing or mistyped.
Plan plan_from_object(const std::string& path, const json& j) {
  int version = j.at("format_version").get<int>();
  if (version > k_plan_format_version) {
    throw Error(ErrorKind::input,
                fmt::format("{}: plan format_version {} is newer than this stove ({}) "
                            "understands ({}); upgrade stove",
                            path, version, k_version, k_plan_format_version));
  }
  Plan plan;
  plan.config_path = j.at("configuration").at("path").get<std::string>();
  plan.implicit_sandbox = j.at("configuration").at("implicit_sandbox").get<bool>();
  const json& state = j.at("state");
  plan.state_path = state.at("path").get<std::string>();
  plan.state_existed = state.at("exists").get<bool>();
  plan.state_lineage = state.at("lineage").get<std::string>();
  plan.state_serial = state.at("serial").get<uint64_t>();
  for (const json& p : j.at("providers")) {
    ProviderConfig provider;
    provider.name = p.at("name").get<std::string>();
    provider.type = p.at("type").get<std::string>();
    provider.endpoint = p.at("endpoint").get<std::string>();
    provider.settings = p.at("settings");
    plan.providers.push_back(std::move(provider));
  }
  for (const json& c : j.at("resource_changes")) {
    plan.changes.push_back(change_from_json(path, c));
  }
  // Absent from plans saved before refresh existed: nothing to fold in.
  plan.refreshed = j.value("refreshed", false);
  if (auto drift = j.find("resource_drift"); drift != j.end()) {
    for (const json& d : *drift) {
      add_drift_from_json(path, d, plan.drift);
    }
  }
  if (auto unmanaged = j.find("unmanaged"); unmanaged != j.end()) {
    for (const json& u : *unmanaged) {
      auto kind = find_kind(u.at("kind").get<std::string>());
      plan.drift.unmanaged.push_back(UnmanagedObject{
          u.at("parent").get<std::string>(), kind.value_or(Kind::machine),
          u.at("provider").get<std::string>(), u.at("remote_id").get<std::string>(),
          u.at("name").get<std::string>()});
    }
  }
  return plan;
}

} // namespace

ordered_json plan_to_json(const Plan& plan) {
  ordered_json out;
  out["format_version"] = k_plan_format_version;
  out["stove_version"] = k_version;
  out["configuration"] = {{"path", plan.config_path}, {"implicit_sandbox", plan.implicit_sandbox}};
  out["state"] = {{"path", plan.state_path},
                  {"exists", plan.state_existed},
                  {"lineage", plan.state_lineage},
                  {"serial", plan.state_serial}};
  ordered_json providers = ordered_json::array();
  for (const auto& p : plan.providers) {
    providers.push_back({{"name", p.name},
                         {"type", p.type},
                         {"endpoint", p.endpoint},
                         {"settings", p.settings}});
  }
  out["providers"] = std::move(providers);
  ordered_json changes = ordered_json::array();
  for (const auto& c : plan.changes) {
    ordered_json j;
    j["address"] = c.address;
    if (!c.previous_address.empty()) {
      j["previous_address"] = c.previous_address;
    }
    j["kind"] = to_string(c.kind);
    j["provider"] = c.provider;
    j["actions"] = actions_json(c.action);
    j["before"] = c.before;
    j["after"] = c.after;
    j["replace_paths"] = c.replace_paths;
    j["reason"] = c.reason == ChangeReason::none ? ordered_json(nullptr)
                                                 : ordered_json(to_string(c.reason));
    j["remote_id"] = c.remote_id.empty() ? ordered_json(nullptr) : ordered_json(c.remote_id);
    j["parent"] = c.parent.empty() ? ordered_json(nullptr) : ordered_json(c.parent);
    j["dependencies"] = c.dependencies;
    j["prior_dependencies"] = c.prior_dependencies;
    changes.push_back(std::move(j));
  }
  out["resource_changes"] = std::move(changes);
  // What the refresh found, as `stove drift --json` reports it, with what
  // applying the plan needs to fold it into the state again: each changed
  // object's spec with its real values, and its observed attributes.
  out["refreshed"] = plan.refreshed;
  ordered_json report = drift_to_json(plan.drift);
  ordered_json drift = ordered_json::array();
  for (size_t i = 0; i < plan.drift.drift.size(); ++i) {
    const ResourceDrift& d = plan.drift.drift[i];
    ordered_json entry = std::move(report["drift"][i]);
    if (!d.deleted) {
      entry["real_spec"] = d.real_spec;
      auto observed = plan.drift.observed.find(d.address);
      entry["observed"] =
          observed == plan.drift.observed.end() ? ordered_json::object() : ordered_json(observed->second);
    }
    drift.push_back(std::move(entry));
  }
  out["resource_drift"] = std::move(drift);
  out["unmanaged"] = std::move(report["unmanaged"]);
  PlanSummary s = plan.summary();
  out["summary"] = {{"add", s.add},
                    {"change", s.change},
                    {"destroy", s.destroy},
                    {"unchanged", s.unchanged},
                    {"has_changes", s.has_changes()}};
  return out;
}

Plan plan_from_json(const std::string& path, const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    SourceFile source{path, text};
    Mark at = source.mark_at(e.byte > 0 ? e.byte - 1 : 0);
    throw Error(ErrorKind::input, fmt::format("{}:{}:{}: error: not a usable stove plan: invalid "
                                              "JSON", path, at.line, at.column));
  }
  if (!j.is_object() || !j.contains("format_version") || !j.contains("resource_changes")) {
    throw unusable_plan(path, "it has no format_version and resource_changes; save plans with "
                              "stove plan --out FILE");
  }
  try {
    return plan_from_object(path, j);
  } catch (const json::exception& e) {
    throw unusable_plan(path,
                        std::string("a field is missing or has the wrong type (") + e.what() + ")");
  }
}

void save_plan(const std::string& path, const Plan& plan) {
  write_file_atomically(path, plan_to_json(plan).dump(2) + "\n");
}

Plan load_plan(const std::string& path) {
  SourceFile source = SourceFile::read(path);
  return plan_from_json(path, source.text);
}

} // namespace stove
