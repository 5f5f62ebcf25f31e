#include "model/config.hpp"

namespace stove {

std::vector<std::string> Resource::dependencies() const {
  std::vector<std::string> out;
  out.reserve(depends_on.size() + 1);
  if (!parent_address.empty()) {
    out.push_back(parent_address);
  }
  for (const auto& d : depends_on) {
    if (d != parent_address) {
      out.push_back(d);
    }
  }
  return out;
}

const std::string& Resource::name() const { return attrs.at("name").get_ref<const std::string&>(); }

const Resource* Config::find(const std::string& address) const {
  auto it = index.find(address);
  return it == index.end() ? nullptr : &resources[it->second];
}

const ProviderConfig* Config::provider(const std::string& name) const {
  for (const auto& p : providers) {
    if (p.name == name) {
      return &p;
    }
  }
  return nullptr;
}

} // namespace stove
