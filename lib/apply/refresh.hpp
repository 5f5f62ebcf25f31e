#pragma once

// Refresh: reads every object the state records from its provider, through
// list endpoints (one call per managed parent, or one at the top level),
// never one read per object, with the calls spread over threads. Reports
// what drifted (plan/drift.hpp); changes nothing, in the cloud or in the
// state. apply_refresh() then brings an in-memory state in line with what
// was found.

#include "apply/engine.hpp"
#include "http/client.hpp"
#include "plan/drift.hpp"
#include "state/state.hpp"

#include <map>
#include <string>
#include <vector>

namespace stove {

struct RefreshOptions {
  // Listings in flight at once (each provider's HTTP client also caps its
  // own concurrent calls).
  int parallelism = 10;
  // Fields whose drift is not reported, by kind (`--ignore`).
  std::map<Kind, std::vector<std::string>> ignored;
  // Fields ignored for one resource (the file's lifecycle.ignore_changes),
  // by address.
  std::map<std::string, std::vector<std::string>> ignored_by_address;
  const http::CancelToken* cancel = nullptr;
};

// Reads the objects `state` records. Objects whose parent is gone are
// reported deleted without a call. Throws stove::Error(ErrorKind::io)
// naming every listing that failed; nothing is reported then.
DriftReport refresh_state(const State& state, ProviderSet& providers,
                          const RefreshOptions& options);

// Makes `state` say what `report` found: deleted objects are forgotten,
// drifted fields take their real values (ignored ones keep theirs), and
// every object read gets its new observed attributes. The serial is left
// alone (the writer bumps it).
void apply_refresh(State& state, const DriftReport& report);

} // namespace stove
