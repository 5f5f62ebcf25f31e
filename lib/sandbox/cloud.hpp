#pragma once

// The sandbox's cloud: cloud spaces, machines and their disks, and the
// cloudapi methods on them, without HTTP. server.cpp puts it on the wire;
// keeping the two apart lets the rules be read (and changed) in one place.

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

// What a call answers: an HTTP status and a JSON body. Errors carry the
// message as a JSON string, as OpenVCloud does.
struct Reply {
  Reply() = default;
  Reply(int status_, nlohmann::json body_, uint64_t version_ = 0, std::string content_type_ = {})
    : status(status_), body(std::move(body_)), version(version_),
      content_type(std::move(content_type_)) {}

  int status = 200;
  nlohmann::json body;
  // The cloud's version after the call changed it; 0 when it changed
  // nothing. The server answers only once that version is on disk.
  uint64_t version = 0;
  // Empty: `body` is sent as JSON. Otherwise `body` is a string, sent as it
  // is with this Content-Type (a PHP error page is text/html).
  std::string content_type;
};

struct Location {
  int64_t id;
  int64_t gid;      // the grid it runs on
  std::string code; // what cloudspaces/create takes as `location`
  std::string name;
  std::string flag;
};

// The locations the sandbox offers; the example playbooks use ids 1 and 2.
const std::vector<Location>& locations();

// A cloud space is VIRTUAL from its create until deploying_ms, DEPLOYING
// until deployed_ms, then DEPLOYED; DELETED once deleted without
// `permanently` (it keeps its name). A DESTROYED one is forgotten.
struct Space {
  int64_t id = 0;
  int64_t account_id = 0;
  std::string name;
  std::string location; // a location code
  std::string description;
  std::string access;     // the user cloudspaces/create gave full access
  int64_t created_ms = 0; // Unix time in milliseconds
  int64_t updated_ms = 0;
  int64_t deploying_ms = 0; // when VIRTUAL turns DEPLOYING
  int64_t deployed_ms = 0;  // when DEPLOYING turns DEPLOYED
  bool deleted = false;     // DELETED
  int64_t next_host = 0;    // the index of the next machine's IP address
};

struct Disk {
  int64_t id = 0;
  int64_t size_gb = 0;
};

struct Size {
  int64_t memory = 0; // MB
  int64_t vcpus = 0;
};

// A machine is RUNNING or HALTED; DELETED once deleted without
// `permanently` (it keeps its name, and its cloud space may then be
// deleted). A DESTROYED one is forgotten.
struct Machine {
  int64_t id = 0;
  int64_t space_id = 0;
  std::string name;
  std::string description;
  int64_t image_id = 0;
  Size size;                     // as stored: what machines/get shows
  bool running = true;           // RUNNING, else HALTED
  bool deleted = false;          // DELETED
  int64_t boots = 0;             // starts and reboots since it was created
  bool live_resize = true;       // whether the hypervisor can resize it while it runs
  bool awaiting_restart = false; // a size stored but not live until a stop and start
  std::vector<Disk> disks;       // the boot disk first
  std::string ip_address;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
};

// Everything that persists. Copied whole for each snapshot: a copy under
// the lock is much cheaper than serialising under it.
struct CloudData {
  int64_t next_space_id = 1;
  int64_t next_machine_id = 1;
  int64_t next_disk_id = 1;
  std::map<int64_t, Space> spaces;
  std::map<int64_t, Machine> machines;
};

// The document data_dir/cloud.json holds, and back. from_document throws
// std::runtime_error saying what is wrong.
nlohmann::json to_document(const CloudData& data);
CloudData from_document(const nlohmann::json& document);

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

  // One call's work; defined in cloud.cpp.
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
