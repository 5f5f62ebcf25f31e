// The admin endpoint's changes to the cloud (Cloud::admin_*; server.cpp,
// /sandbox/admin/): attributes checked strictly, and none of the cloudapi's
// rules on when a change may happen.

#include "sandbox/cloud_call.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace stove::sandbox {

using nlohmann::json;

namespace {

json deleted(std::vector<int64_t> spaces, std::vector<int64_t> machines) {
  json out = json::object();
  if (!spaces.empty()) {
    out["cloudspaces"] = spaces;
  }
  out["machines"] = machines;
  return {{"deleted", std::move(out)}};
}

std::optional<std::string> admin_name(const admin::Attributes& a, std::string_view what) {
  auto name = a.text("name");
  if (name && name->find_first_not_of(" \t") == std::string::npos) {
    admin::refuse(400, fmt::format("attribute \"name\" must name the {}", what));
  }
  return name;
}

admin::Attributes machine_attributes(const json& body) {
  return admin::Attributes(
      body, "machine",
      {"name", "description", "status", "memory", "vcpus", "disk_size", "image_id", "live_resize"});
}

} // namespace

Reply Cloud::Call::admin_update_machine(int64_t id, const json& body) {
  admin::Attributes a = machine_attributes(body);
  auto found = data().machines.find(id);
  if (found == data().machines.end()) {
    admin::refuse(404, fmt::format("machine {} not found", id));
  }
  Machine& m = found->second;
  auto name = admin_name(a, "machine");
  auto description = a.text("description");
  auto status = a.choice("status", {"RUNNING", "HALTED"});
  auto memory = a.integer("memory", 1);
  auto vcpus = a.integer("vcpus", 1);
  auto disk_size = a.integer("disk_size", 1);
  auto image_id = a.integer("image_id", 1);
  auto live_resize = a.flag("live_resize");
  Machine before = m;
  if (name && *name != m.name) {
    rename_machine(m, *name);
  }
  m.description = description.value_or(m.description);
  if (status) {
    m.running = *status == "RUNNING";
  }
  if (memory || vcpus) {
    // The size is set as it is, live: no restart awaited.
    m.size = {memory.value_or(m.size.memory), vcpus.value_or(m.size.vcpus)};
    m.awaiting_restart = false;
  }
  m.live_resize = live_resize.value_or(m.live_resize);
  if (disk_size && !m.disks.empty()) {
    m.disks.front().size_gb = *disk_size;
  }
  m.image_id = image_id.value_or(m.image_id);
  bool same = before.name == m.name && before.description == m.description &&
              before.running == m.running && before.size.memory == m.size.memory &&
              before.size.vcpus == m.size.vcpus && before.awaiting_restart == m.awaiting_restart &&
              before.live_resize == m.live_resize && before.image_id == m.image_id &&
              (m.disks.empty() || before.disks.front().size_gb == m.disks.front().size_gb);
  if (same) {
    return {200, machine_json(m)};
  }
  m.updated_ms = now;
  return {200, machine_json(m), changed()};
}

Reply Cloud::Call::admin_delete_machine(int64_t id) {
  auto found = data().machines.find(id);
  if (found == data().machines.end()) {
    admin::refuse(404, fmt::format("machine {} not found", id));
  }
  forget_machine(found->second);
  data().machines.erase(found);
  return {200, deleted({}, {id}), changed()};
}

Reply Cloud::Call::admin_create_machine(int64_t space_id, const json& body) {
  admin::Attributes a = machine_attributes(body);
  auto found = data().spaces.find(space_id);
  if (found == data().spaces.end()) {
    admin::refuse(404, fmt::format("cloud space {} not found", space_id));
  }
  auto name = admin_name(a, "machine");
  if (!name) {
    admin::refuse(400, "attribute \"name\" is required");
  }
  Machine m;
  m.name = *name;
  m.description = a.text("description").value_or("");
  m.running = a.choice("status", {"RUNNING", "HALTED"}).value_or("RUNNING") == "RUNNING";
  m.size = {a.integer("memory", 1).value_or(1024), a.integer("vcpus", 1).value_or(1)};
  m.image_id = a.integer("image_id", 1).value_or(1);
  m.live_resize = a.flag("live_resize").value_or(true);
  int64_t disk_size = a.integer("disk_size", 1).value_or(10);
  check_machine_name_free(space_id, m.name);
  const Machine& added = add_machine(found->second, std::move(m), disk_size);
  return {201, machine_json(added), changed()};
}

Reply Cloud::Call::admin_update_space(int64_t id, const json& body) {
  admin::Attributes a(body, "cloud space", {"name", "description"});
  auto found = data().spaces.find(id);
  if (found == data().spaces.end()) {
    admin::refuse(404, fmt::format("cloud space {} not found", id));
  }
  Space& s = found->second;
  Space wanted = s;
  wanted.name = admin_name(a, "cloud space").value_or(s.name);
  wanted.description = a.text("description").value_or(s.description);
  if (wanted.name == s.name && wanted.description == s.description) {
    return {200, space_json(s)};
  }
  check_space_name_free(wanted);
  s.name = std::move(wanted.name);
  s.description = std::move(wanted.description);
  s.updated_ms = now;
  return {200, space_json(s), changed()};
}

Reply Cloud::Call::admin_delete_space(int64_t id) {
  if (data().spaces.find(id) == data().spaces.end()) {
    admin::refuse(404, fmt::format("cloud space {} not found", id));
  }
  std::vector<int64_t> machines;
  auto names = cloud.m_machines_by_space.find(id);
  if (names != cloud.m_machines_by_space.end()) {
    for (const auto& [name, machine_id] : names->second) {
      for (const auto& d : data().machines.at(machine_id).disks) {
        cloud.m_disk_owner.erase(d.id);
      }
      data().machines.erase(machine_id);
      machines.push_back(machine_id);
    }
    cloud.m_machines_by_space.erase(names);
  }
  std::sort(machines.begin(), machines.end());
  data().spaces.erase(id);
  return {200, deleted({id}, std::move(machines)), changed()};
}

template <typename Action>
Reply Cloud::run_admin(Action action) {
  std::lock_guard lock(m_mutex);
  Call call{*this, m_clock()};
  try {
    return action(call);
  } catch (const ApiError& e) {
    return admin::error(e.status(), e.message());
  } catch (const admin::Refused& e) {
    return admin::error(e.status(), e.what());
  }
}

Reply Cloud::admin_update_machine(int64_t id, const json& attributes) {
  return run_admin([&](Call& call) { return call.admin_update_machine(id, attributes); });
}

Reply Cloud::admin_delete_machine(int64_t id) {
  return run_admin([&](Call& call) { return call.admin_delete_machine(id); });
}

Reply Cloud::admin_create_machine(int64_t space_id, const json& attributes) {
  return run_admin([&](Call& call) { return call.admin_create_machine(space_id, attributes); });
}

Reply Cloud::admin_update_space(int64_t id, const json& attributes) {
  return run_admin([&](Call& call) { return call.admin_update_space(id, attributes); });
}

Reply Cloud::admin_delete_space(int64_t id) {
  return run_admin([&](Call& call) { return call.admin_delete_space(id); });
}

} // namespace stove::sandbox
