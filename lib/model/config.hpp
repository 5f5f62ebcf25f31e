#pragma once

#include "model/kind.hpp"
#include "model/provider.hpp"
#include "model/mark.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace stove {

struct Lifecycle {
  bool prevent_destroy = false;
  std::vector<std::string> ignore_changes;  // field names of the resource's kind
};

// One resource the file wants, validated and with defaults applied.
struct Resource {
  Kind kind = Kind::cloud_space;
  std::string key;            // the address label: `key:` if given, else the name
  std::string address;        // canonical, see model/address.hpp
  std::string parent_address; // empty at the top
  int32_t parent = -1;        // index in Config::resources, -1 at the top
  std::string provider;       // provider configuration name
  nlohmann::json attrs;       // every schema field of the kind, typed
  std::vector<std::string> depends_on;  // canonical addresses, as declared
  Lifecycle lifecycle;
  Mark mark;                  // where its entry starts
  std::vector<Mark> depends_on_marks;

  // Addresses this resource needs before it can be created: its parent
  // first, then depends_on.
  std::vector<std::string> dependencies() const;
  const std::string& name() const;
};

// The infrastructure file, as a model.
struct Config {
  std::string path;
  std::vector<ProviderConfig> providers;
  bool implicit_sandbox = false;   // no providers were declared
  std::vector<Resource> resources; // in file order
  std::unordered_map<std::string, uint32_t> index;  // address -> position

  const Resource* find(const std::string& address) const;
  const ProviderConfig* provider(const std::string& name) const;
};

} // namespace stove
