#pragma once

// Binds an object that exists at its provider, made outside stove, to a
// resource the file declares (`stove import FILE ADDRESS REMOTE_ID`): reads
// it, checks that it sits where the file puts it, and makes the state record
// that a later plan compares the file with. The caller holds the state lock
// and writes the state afterwards.

#include "apply/engine.hpp"
#include "http/client.hpp"
#include "model/address.hpp"
#include "model/config.hpp"
#include "plan/drift.hpp"
#include "providers/provider.hpp"
#include "state/state.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace stove {

// An import checked against the file and the state, ready to read the
// object. Points into the Config it was made from, which must outlive it.
struct ImportRequest {
  const Resource* resource = nullptr; // the file's resource at the address
  providers::Target target;           // remote_id, the file's spec, parents from the state
};

// Checks an import of `remote_id` into the resource at `address`, before
// anything is contacted. Throws stove::Error(ErrorKind::usage) when the file
// declares no such resource (naming the closest address), the state already
// holds it, its parent is not in the state or was never created, or another
// resource of the same kind and provider in the state is bound to
// `remote_id` already.
ImportRequest prepare_import(const Config& config, const State& state, const Address& address,
                             const std::string& remote_id);

struct ImportOptions {
  // Longest the read may take.
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  const http::CancelToken* cancel = nullptr;
};

struct ImportResult {
  // The new record: status completed, the provider's observed attributes,
  // and as its spec the file's with every field the provider reports
  // replaced by the real value, so that the next plan is a no-op exactly
  // when the file matches the object.
  ResourceState record;
  // The fields where the object differs from the file, in schema order:
  // `state` is the file's value, `real` the object's.
  std::vector<AttributeDrift> differences;
};

// Reads the object `request` names through its provider and makes its
// record. Throws stove::Error(ErrorKind::input) when the provider has no
// such object, when it sits in another parent than the file's, or when the
// provider fails or refuses the read (with the provider's message). Changes
// nothing at the provider.
ImportResult import_resource(const ImportRequest& request, ProviderSet& providers,
                             const ImportOptions& options);

} // namespace stove
