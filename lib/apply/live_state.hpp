#pragma once

// The state as an apply changes it: the engine's workers read and write it
// at once, so every access goes through here, under one lock. Records
// removed during the walk are only marked; compact() drops them at the end,
// so that indexes stay valid meanwhile.

#include "model/kind.hpp"
#include "plan/plan.hpp"
#include "providers/provider.hpp"
#include "state/record_index.hpp"
#include "state/state.hpp"

#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace stove {

// What an operation needs to know of a resource's record before it runs.
struct RecordedBefore {
  std::string remote_id;   // empty: its create was interrupted
  std::string parent;
  nlohmann::json observed = nlohmann::json::object();
};

class LiveState {
public:
  explicit LiveState(State& state);

  // The record of `address` as it is now; nullopt when there is none.
  std::optional<RecordedBefore> before(const std::string& address) const;
  // The provider that made the object a replace destroys: the state's, or
  // `fallback` when the record names none.
  std::string provider_of(const std::string& address, const std::string& fallback) const;
  // The record's created_at; nullopt when there is no record.
  std::optional<std::string> created_at(const std::string& address) const;
  // The parents of the resource at `parent_address`, nearest first, as the
  // state has them now. Throws stove::Error(state) when one has no remote
  // id (its create did not complete).
  std::vector<providers::Parent> parents_of(std::string parent_address) const;

  void upsert(ResourceState r);
  void remove(const std::string& address);
  void mark_failed(const std::string& address);
  // Drops the records removed. Call once, when no worker runs.
  void compact();

private:
  mutable std::mutex m_mutex;  // m_records and the state under it
  RecordIndex m_records;
};

// A record as the parent of an operation's target.
providers::Parent parent_from(const ResourceState& r, Kind kind);

// The record an operation leaves once the provider confirmed it.
ResourceState record_of(const ResourceChange& change, const providers::Remote& remote);

} // namespace stove
