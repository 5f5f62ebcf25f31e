// The cloudapi's machines: machines/create, get, list, update, stop,
// start, reboot and delete, and the cloud's indexes over them (machines by
// cloud space and name, disks by machine).

#include "sandbox/cloud_call.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace stove::sandbox {

using nlohmann::json;

namespace {

// A machine's IP address is 10.S.H.L: S from the cloud space's id, H.L
// from the machine's index in the space. Cloud spaces are private networks,
// so addresses only need to be unique inside one.
constexpr int64_t k_hosts_per_block = 254;
constexpr int64_t k_max_hosts = k_hosts_per_block * 256;
// The sandbox's image catalogue: images 1 to 99 exist, any other id is
// refused as the real API refuses an unknown image.
constexpr int64_t k_last_image_id = 99;

} // namespace

// A machine by id: unknown (or DESTROYED) is osis's 404; a DELETED one
// is machines/get's 404, unless `deleted_too`.
Machine& Cloud::Call::machine(int64_t id, bool deleted_too) {
  auto it = data().machines.find(id);
  if (it == data().machines.end()) {
    refuse(404, fmt::format("Could not find {} of type vmachine", id));
  }
  if (it->second.deleted && !deleted_too) {
    refuse(404, fmt::format("Machine {} not found", id));
  }
  return it->second;
}

// DELETED machines still hold their names.
void Cloud::Call::check_machine_name_free(int64_t space_id, const std::string& name) {
  auto& names = cloud.m_machines_by_space[space_id];
  auto it = names.find(name);
  if (it != names.end()) {
    refuse(409, fmt::format("a machine named \"{}\" already exists in cloud space {} (id {})", name,
                            space_id, it->second));
  }
}

// Renames `m` to `name`, which must be free in its cloud space.
void Cloud::Call::rename_machine(Machine& m, std::string name) {
  check_machine_name_free(m.space_id, name);
  auto& names = cloud.m_machines_by_space[m.space_id];
  names.erase(m.name);
  names.emplace(name, m.id);
  m.name = std::move(name);
}

void Cloud::Call::forget_machine(const Machine& m) {
  auto names = cloud.m_machines_by_space.find(m.space_id);
  if (names != cloud.m_machines_by_space.end()) {
    names->second.erase(m.name);
  }
  for (const auto& d : m.disks) {
    cloud.m_disk_owner.erase(d.id);
  }
}

// The ids of the machines in cloud space `space_id`, by id.
std::vector<int64_t> Cloud::Call::machines_in(int64_t space_id) const {
  std::vector<int64_t> ids;
  auto names = cloud.m_machines_by_space.find(space_id);
  if (names != cloud.m_machines_by_space.end()) {
    for (const auto& [name, id] : names->second) {
      ids.push_back(id);
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

// machines/create: synchronous, as in OpenVCloud; the machine is RUNNING
// when the call returns. The space may still be deploying.
Reply Cloud::Call::create_machine(const Params& p) {
  int64_t space_id = p.integer("cloudspaceId");
  std::string name = checked_name(p, "machine");
  std::string description = p.optional_text("description").value_or("");
  int64_t image_id = p.integer("imageId");
  int64_t disk_size = p.integer("disksize");
  int64_t memory = p.integer("memory");
  int64_t vcpus = p.integer("vcpus");
  Space& s = space(space_id);
  check_memory(memory);
  check_vcpus(vcpus);
  if (disk_size < 1) {
    refuse(400, fmt::format("disksize must be at least 1 (GB), not {}", disk_size));
  }
  if (image_id < 1 || image_id > k_last_image_id) {
    refuse(400, fmt::format("image {} does not exist", image_id));
  }
  check_machine_name_free(space_id, name);
  Machine m;
  m.name = std::move(name);
  m.description = std::move(description);
  m.image_id = image_id;
  m.size = {memory, vcpus};
  return {200, add_machine(s, std::move(m), disk_size).id, changed()};
}

// Gives `m` (its name free in `s`) an id, a boot disk and an address, and
// adds it to the cloud.
Machine& Cloud::Call::add_machine(Space& s, Machine m, int64_t disk_size) {
  if (s.next_host >= k_max_hosts) {
    refuse(409, fmt::format("cloud space {} has no free IP address left", s.id));
  }
  m.id = data().next_machine_id++;
  m.space_id = s.id;
  m.disks.push_back({data().next_disk_id++, disk_size});
  int64_t host = s.next_host++;
  m.ip_address = fmt::format("10.{}.{}.{}", s.id % 256, host / k_hosts_per_block,
                             host % k_hosts_per_block + 1);
  m.created_ms = m.updated_ms = now;
  cloud.m_machines_by_space[s.id].emplace(m.name, m.id);
  cloud.m_disk_owner.emplace(m.disks.front().id, m.id);
  int64_t id = m.id;
  return data().machines.emplace(id, std::move(m)).first->second;
}

Reply Cloud::Call::get_machine(const Params& p) {
  return {200, machine_json(machine(p.integer("machineId")))};
}

// machines/list: DELETED machines left out.
Reply Cloud::Call::list_machines(const Params& p) {
  int64_t space_id = p.integer("cloudspaceId");
  space(space_id);
  json list = json::array();
  for (int64_t id : machines_in(space_id)) {
    const Machine& m = data().machines.at(id);
    if (!m.deleted) {
      list.push_back(machine_summary(m));
    }
  }
  return {200, std::move(list)};
}

Reply Cloud::Call::update_machine(const Params& p) {
  Machine& m = machine(p.integer("machineId"));
  auto name = p.optional_text("name");
  auto description = p.optional_text("description");
  if (name) {
    name = checked_name(p, "machine");
  }
  bool rename = name && *name != m.name;
  bool redescribe = description && *description != m.description;
  if (!rename && !redescribe) {
    return {200, true};
  }
  if (rename) {
    rename_machine(m, std::move(*name));
  }
  if (redescribe) {
    m.description = std::move(*description);
  }
  m.updated_ms = now;
  return {200, true, changed()};
}

// machines/stop: `force` (pull the plug) is accepted; the sandbox's
// guests always shut down at once. Stopping a HALTED machine is a no-op.
Reply Cloud::Call::stop_machine(const Params& p) {
  Machine& m = machine(p.integer("machineId"));
  p.optional_flag("force");
  if (!m.running) {
    return {200, true};
  }
  m.running = false;
  m.updated_ms = now;
  return {200, true, changed()};
}

// machines/start: a size stored while it ran takes effect here.
Reply Cloud::Call::start_machine(const Params& p) {
  Machine& m = machine(p.integer("machineId"));
  if (m.running) {
    return {200, true};
  }
  m.running = true;
  m.awaiting_restart = false;
  ++m.boots;
  m.updated_ms = now;
  return {200, true, changed()};
}

// machines/reboot: a RUNNING machine restarts (and is RUNNING again when
// the call returns, like start and stop); a HALTED one cannot reboot. A
// reboot is no stop and start: a size awaiting a restart still waits.
Reply Cloud::Call::reboot_machine(const Params& p) {
  Machine& m = machine(p.integer("machineId"));
  if (!m.running) {
    refuse(409, fmt::format("machine {} is HALTED; it cannot be rebooted (start it)", m.id));
  }
  ++m.boots;
  m.updated_ms = now;
  return {200, true, changed()};
}

// machines/delete: without `permanently` the machine is DELETED (and
// keeps its name); with it, DESTROYED and forgotten.
Reply Cloud::Call::delete_machine(const Params& p) {
  int64_t id = p.integer("machineId");
  bool permanently = p.optional_flag("permanently").value_or(false);
  Machine& m = machine(id, /*deleted_too=*/true);
  if (permanently) {
    forget_machine(m);
    data().machines.erase(id);
    return {200, true, changed()};
  }
  if (m.deleted) {
    return {200, true};
  }
  m.deleted = true;
  m.running = false;
  m.updated_ms = now;
  return {200, true, changed()};
}

} // namespace stove::sandbox
