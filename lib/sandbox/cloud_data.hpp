#pragma once

// What the sandbox's cloud holds: its locations, cloud spaces, machines and
// their disks, and the document data_dir/cloud.json keeps them in
// (cloud_document.cpp). The rules on them are cloud.hpp's.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace stove::sandbox {

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

} // namespace stove::sandbox
