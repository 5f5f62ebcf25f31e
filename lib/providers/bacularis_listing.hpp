#pragma once

// The director as one refresh sees it (internal to lib/providers): every
// resource a backup is made of, listed once (config/dir/Job, Schedule,
// Fileset, Pool, Client: five GETs), and the Jobs the director runs
// (jobs/resnames), with every Job observed as read() observes it.

#include "providers/bacularis_api.hpp"
#include "providers/provider.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace stove::providers::bacularis {

// Every backup-related resource of the director, as listed once.
struct Directory {
  std::map<std::string, std::map<std::string, nlohmann::json, std::less<>>, std::less<>> resources;
  std::set<std::string, std::less<>> loaded; // Jobs the director runs
  std::vector<Remote> all;                   // every Job, observed
  std::map<std::string, std::vector<size_t>, std::less<>> by_client;

  std::optional<nlohmann::json> find(std::string_view type, const std::string& name) const {
    auto t = resources.find(type);
    if (t == resources.end()) {
      return std::nullopt;
    }
    auto r = t->second.find(name);
    return r == t->second.end() ? std::nullopt : std::optional<nlohmann::json>(r->second);
  }
};

// Lists the director. A Job it does not run yet is observed incomplete
// (missing a reload).
Directory fetch_directory(Api& api, const OpContext& context);

} // namespace stove::providers::bacularis
