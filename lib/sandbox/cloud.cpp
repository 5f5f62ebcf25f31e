// The cloud's cloudapi methods by name, and what the cloud does under its
// lock: loading, calls, snapshots. The methods themselves are Cloud::Call's
// (cloud_call.hpp).

#include "sandbox/cloud.hpp"

#include "sandbox/clock.hpp"
#include "sandbox/cloud_call.hpp"

#include <fmt/format.h>

#include <utility>

namespace stove::sandbox {

using nlohmann::json;

namespace {

struct Method {
  std::string_view actor;
  std::string_view name;
  bool mutating;
  Reply (Cloud::Call::*run)(const Params&);
};

constexpr Method k_methods[] = {
    {"locations", "list", false, &Cloud::Call::list_locations},
    {"cloudspaces", "create", true, &Cloud::Call::create_space},
    {"cloudspaces", "get", false, &Cloud::Call::get_space},
    {"cloudspaces", "list", false, &Cloud::Call::list_spaces},
    {"cloudspaces", "update", true, &Cloud::Call::update_space},
    {"cloudspaces", "delete", true, &Cloud::Call::delete_space},
    {"machines", "create", true, &Cloud::Call::create_machine},
    {"machines", "get", false, &Cloud::Call::get_machine},
    {"machines", "list", false, &Cloud::Call::list_machines},
    {"machines", "update", true, &Cloud::Call::update_machine},
    {"machines", "resize", true, &Cloud::Call::resize_machine},
    {"machines", "stop", true, &Cloud::Call::stop_machine},
    {"machines", "start", true, &Cloud::Call::start_machine},
    {"machines", "reboot", true, &Cloud::Call::reboot_machine},
    {"machines", "delete", true, &Cloud::Call::delete_machine},
    {"disks", "resize", true, &Cloud::Call::resize_disk},
};

const Method* find_method(std::string_view actor, std::string_view name) {
  for (const auto& m : k_methods) {
    if (m.actor == actor && m.name == name) {
      return &m;
    }
  }
  return nullptr;
}

} // namespace

Cloud::Cloud(std::chrono::milliseconds deploy_delay, Clock clock)
    : m_deploy_delay(deploy_delay), m_clock(clock ? std::move(clock) : Clock(system_now_ms)) {}

void Cloud::load(CloudData data) {
  std::lock_guard lock(m_mutex);
  m_data = std::move(data);
  m_machines_by_space.clear();
  m_disk_owner.clear();
  for (const auto& [id, m] : m_data.machines) {
    m_machines_by_space[m.space_id].emplace(m.name, id);
    for (const auto& d : m.disks) {
      m_disk_owner.emplace(d.id, id);
    }
  }
}

Reply Cloud::call(std::string_view actor, std::string_view method, const json& params) {
  const Method* found = find_method(actor, method);
  if (found == nullptr) {
    return {404, fmt::format("no method cloudapi.{}.{}", actor, method)};
  }
  if (!params.is_object()) {
    return {400, "the parameters must be a JSON object"};
  }
  std::lock_guard lock(m_mutex);
  Call call{*this, m_clock()};
  try {
    return (call.*(found->run))(Params(params));
  } catch (const ApiError& e) {
    return {e.status(), e.message()};
  }
}

bool Cloud::is_mutating(std::string_view actor, std::string_view method) {
  const Method* found = find_method(actor, method);
  return found != nullptr && found->mutating;
}

bool Cloud::is_known(std::string_view actor, std::string_view method) {
  return find_method(actor, method) != nullptr;
}

std::optional<bool> Cloud::address_running(std::string_view ip) const {
  std::lock_guard lock(m_mutex);
  std::optional<bool> found;
  for (const auto& [id, m] : m_data.machines) {
    if (m.ip_address == ip && !m.deleted) {
      found = found.value_or(false) || m.running;
    }
  }
  return found;
}

Cloud::Snapshot Cloud::snapshot() const {
  std::lock_guard lock(m_mutex);
  return {m_version, m_data};
}

uint64_t Cloud::version() const {
  std::lock_guard lock(m_mutex);
  return m_version;
}

} // namespace stove::sandbox
