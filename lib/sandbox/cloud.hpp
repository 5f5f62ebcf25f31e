#pragma once

// The sandbox's cloud: cloud spaces, machines and their disks, and the
// cloudapi methods on them, without HTTP. server.cpp puts it on the wire;
// keeping the two apart lets the rules be read (and changed) in one place.

#include "sandbox/cloud_data.hpp"
#include "sandbox/reply.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stove::sandbox {

class Cloud {
public:
  using Clock = std::function<int64_t()>; // Unix time in milliseconds

  explicit Cloud(std::chrono::milliseconds deploy_delay, Clock clock = {});

  // Replaces everything with `data` (at start, before serving).
  void load(CloudData data);

  // Runs cloudapi method `actor`/`method` with `params` (a JSON object).
  // Thread-safe.
  Reply call(std::string_view actor, std::string_view method, const nlohmann::json& params);

  // Whether the method changes the cloud (counted as mutating whatever it
  // answers).
  static bool is_mutating(std::string_view actor, std::string_view method);
  // Whether the cloudapi has this method at all.
  static bool is_known(std::string_view actor, std::string_view method);

  // One call's work; declared in cloud_call.hpp.
  struct Call;

  // The admin endpoint's changes, made behind the cloudapi's back
  // (server.cpp, /sandbox/admin/; man/stove-sandbox.1, ADMIN). `attributes`
  // is the request's JSON body, checked strictly (lib/sandbox/admin.hpp).
  // Errors are {"error": "..."}: 400 a bad attribute, 404 no such object,
  // 409 a name already taken. Thread-safe.
  Reply admin_update_machine(int64_t id, const nlohmann::json& attributes);
  Reply admin_delete_machine(int64_t id);
  // An unmanaged machine in cloud space `space_id` (even DEPLOYING): 201.
  Reply admin_create_machine(int64_t space_id, const nlohmann::json& attributes);
  Reply admin_update_space(int64_t id, const nlohmann::json& attributes);
  // With its machines, even while DEPLOYING.
  Reply admin_delete_space(int64_t id);

  // Whether a machine with IP address `ip` is RUNNING (any machine that has
  // it, if several spaces reuse it); nullopt when no machine has it. How
  // the sandbox's Bacula reaches a file daemon. Thread-safe.
  std::optional<bool> address_running(std::string_view ip) const;

  struct Snapshot {
    uint64_t version = 0;
    CloudData data;
  };
  Snapshot snapshot() const;
  uint64_t version() const;

private:
  template <typename Action>
  Reply run_admin(Action action);

  mutable std::mutex m_mutex;
  std::chrono::milliseconds m_deploy_delay;
  Clock m_clock;
  CloudData m_data;
  uint64_t m_version = 0;
  // Indexes over m_data, rebuilt by load(): machines by space and name, and
  // the machine that owns each disk.
  std::map<int64_t, std::map<std::string, int64_t, std::less<>>> m_machines_by_space;
  std::map<int64_t, int64_t> m_disk_owner;
};

} // namespace stove::sandbox
