// The sandbox's locations, and locations/list.

#include "sandbox/cloud_call.hpp"

namespace stove::sandbox {

using nlohmann::json;

const std::vector<Location>& locations() {
  static const std::vector<Location> k_locations = {
      {1, 101, "be-g8-1", "Belgium, Ghent 1", "be"},
      {2, 102, "be-g8-2", "Belgium, Ghent 2", "be"},
      {3, 201, "ch-lug-1", "Switzerland, Lugano 1", "ch"},
  };
  return k_locations;
}

// locations/list
Reply Cloud::Call::list_locations(const Params&) {
  json list = json::array();
  for (const auto& l : locations()) {
    list.push_back({{"id", l.id},
                    {"gid", l.gid},
                    {"locationCode", l.code},
                    {"name", l.name},
                    {"flag", l.flag}});
  }
  return {200, std::move(list)};
}

} // namespace stove::sandbox
