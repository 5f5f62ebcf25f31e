#pragma once

// The apply journal: an append-only log beside the state (STATE.journal)
// that records each step of an apply as it happens, so that nothing done to
// the cloud is lost when stove dies half-way, and so that an apply of 10,000
// resources writes each result once instead of rewriting the state 10,000
// times. The state file is rewritten once, at the end (compaction); a journal
// found at the start of the next run is replayed into the state first.
//
// One JSON document per line:
//   {"t":"begin","lineage":"…","serial":7,"operation":"apply","at":"…"}
//   {"t":"intent","resource":{…}}    before a create call: the object may exist
//   {"t":"updating","address":"…","observed":{…}}
//                                    before an update call, with what was observed
//                                    before it (a machine stopped for a resize is
//                                    started again if the update is cut short)
//   {"t":"recorded","resource":{…}}  after the provider confirmed a create or update
//   {"t":"deleted","address":"…"}    after the provider confirmed a delete
//   {"t":"failed","address":"…","error":"…"}
// A record is durable (fdatasync) before append() returns. Appends from
// concurrent workers are committed in groups: one write and one sync cover
// every record queued meanwhile.

#include "state/state.hpp"

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace stove {

std::string journal_path_for(const std::string& state_path);

class Journal {
public:
  // Opens (creating, appending to) the journal for `state_path`. Throws
  // stove::Error(io).
  explicit Journal(const std::string& state_path);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  void begin(const State& state, const std::string& operation);
  void intent(const ResourceState& resource);
  void updating(const std::string& address, const nlohmann::json& observed_before);
  void recorded(const ResourceState& resource);
  void deleted(const std::string& address);
  void failed(const std::string& address, const std::string& error);

  // Deletes the journal file: call once the state it was folded into is
  // written.
  void remove();
  const std::string& path() const { return m_path; }
  uint64_t records() const;

private:
  void append(std::string line);

  std::string m_path;
  int m_fd = -1;
  mutable std::mutex m_mutex;
  std::condition_variable m_flushed_cv;
  std::vector<std::string> m_pending;
  uint64_t m_queued = 0;    // records handed to append()
  uint64_t m_flushed = 0;   // records durable on disk
  bool m_flushing = false;
  std::string m_error;      // a failed write, reported to every later caller
};

// What replaying a journal did to a state.
struct ReplayResult {
  bool found = false;            // there was a journal
  size_t records = 0;
  size_t interrupted_creates = 0; // intents with no result: objects that may exist
  bool truncated_tail = false;    // the last line was cut short by the crash
};

// Folds the journal of `state_path` (if any) into `state`: recorded
// resources replace or join the state, deleted ones leave it, and an intent
// with no result becomes a resource with status "processing" and no remote
// id, which the next plan creates again and the adapter adopts (by name in
// its parent) instead of duplicating. An update with no result leaves the
// resource "processing", with what was observed before it under the
// observed key "interrupted_update", so that the next plan updates it again
// and its adapter can put back what the cut-short update undid. Throws stove::Error(state) for a
// journal that is unreadable or written against another lineage.
ReplayResult replay_journal(const std::string& state_path, State& state);

} // namespace stove
