#include "providers/bacularis_listing.hpp"

#include "providers/bacularis_directives.hpp"

namespace stove::providers::bacularis {

using nlohmann::json;

namespace {

// What a Job the director does not run lacks.
const std::string k_not_loaded = "a director reload (the director does not run this Job yet)";

} // namespace

Directory fetch_directory(Api& api, const OpContext& context) {
  Directory directory;
  for (const char* type : {"Job", "Schedule", "Fileset", "Pool", "Client"}) {
    auto& named = directory.resources[type];
    for (auto& directives : api.list(type, context)) {
      std::string name = string_of(directives, "Name");
      if (!name.empty()) {
        named.emplace(std::move(name), std::move(directives));
      }
    }
  }
  for (auto& name : api.loaded_jobs(context)) {
    directory.loaded.insert(std::move(name));
  }
  const Lookup lookup = [&](std::string_view type, const std::string& name) {
    return directory.find(type, name);
  };
  for (const auto& [name, job] : directory.resources["Job"]) {
    directory.by_client[string_of(job, "Client")].push_back(directory.all.size());
    Remote remote{name, observed_of(name, job, lookup), {}};
    if (!directory.loaded.contains(name)) {
      remote.missing.push_back(k_not_loaded);
    }
    directory.all.push_back(std::move(remote));
  }
  return directory;
}

} // namespace stove::providers::bacularis
