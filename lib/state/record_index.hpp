#pragma once

// A state's records by address, for code that changes them one at a time
// (the journal's replay, the apply engine's live state). A removed record
// is only marked, so that the indexes of the others stay valid; compact()
// takes the marked ones out at the end. Not thread-safe: callers that share
// one lock it.

#include "state/state.hpp"

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace stove {

class RecordIndex {
public:
  explicit RecordIndex(State& state);

  // The record at `address`, unless there is none or it was removed.
  ResourceState* find(const std::string& address);
  const ResourceState* find(const std::string& address) const;
  // Replaces the record at r.address, or adds it.
  void upsert(ResourceState r);
  // Marks the record at `address` removed (nothing if there is none).
  void remove(const std::string& address);
  // Takes the removed records out of the state. Call once, at the end.
  void compact();

private:
  State& m_state;
  std::unordered_map<std::string, size_t> m_index;
  std::vector<bool> m_removed;

  std::optional<size_t> index_of(const std::string& address) const;
};

} // namespace stove
