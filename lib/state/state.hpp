#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stove {

// The newest state format this build reads and the one it writes.
inline constexpr int k_state_format_version = 1;

// Where a resource's last request stands: processing -> completed | failed.
enum class ResourceStatus { processing, completed, failed };

std::string_view to_string(ResourceStatus status);
// Returns false for an unknown name.
bool parse_status(std::string_view text, ResourceStatus& out);

// One managed object, as stove last applied and observed it.
struct ResourceState {
  std::string address;                    // canonical address, see model/address.hpp
  std::string kind;                       // canonical kind name: cloud_space, machine, ...
  std::string provider;                   // provider configuration name
  std::string remote_id;                  // the provider's id; empty until created
  std::string parent;                     // parent's address; empty at the top
  nlohmann::json spec = nlohmann::json::object();      // applied spec: schema fields
  nlohmann::json observed = nlohmann::json::object();  // last attributes read back
  ResourceStatus status = ResourceStatus::completed;
  std::vector<std::string> dependencies;  // addresses this one needs (parent first)
  std::string created_at;                 // RFC 3339, UTC
  std::string updated_at;                 // RFC 3339, UTC
};

// The whole state file. `serial` grows by one on every write; `lineage` is a
// UUID fixed when the state is first written, so that a plan made against one
// state is never applied to another.
struct State {
  int format_version = k_state_format_version;
  uint64_t serial = 0;
  std::string lineage;
  std::string stove_version;
  std::vector<ResourceState> resources;
  nlohmann::json outputs = nlohmann::json::object();

  // False when it was loaded from a path that does not exist yet.
  bool exists = false;
};

} // namespace stove
