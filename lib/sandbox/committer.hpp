#pragma once

// Group commit for the sandbox's data file. A call that changed the cloud
// must not be answered before the change is on disk, but rewriting the
// whole file once per call makes N concurrent creates cost N full
// rewrites. Instead one writer thread writes the latest snapshot whenever
// something is waiting, and every call whose change that snapshot covers is
// released by the one write.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace stove::sandbox {

class Committer {
public:
  struct Snapshot {
    uint64_t version = 0; // the last change it includes
    std::string content;
  };
  // Takes a snapshot of the data; called on the writer thread.
  using Take = std::function<Snapshot()>;

  // Writes to `path` (atomically: temp file, fsync, rename, fsync of the
  // directory). `durable` is the version already on disk.
  Committer(std::string path, Take take, uint64_t durable);
  ~Committer();
  Committer(const Committer&) = delete;
  Committer& operator=(const Committer&) = delete;

  // Blocks until the change at `version` is on disk. Returns nullopt once
  // it is, or why the write that should have covered it failed.
  std::optional<std::string> commit(uint64_t version);

  // Writes what is not yet on disk (retrying once a write that failed) and
  // ends the writer. Returns why the last write failed, if it did.
  // Idempotent; commit() must not be called after it.
  std::optional<std::string> stop();

  uint64_t writes() const; // files written so far

private:
  void run();

  std::string m_path;
  Take m_take;
  mutable std::mutex m_mutex;
  std::condition_variable m_wake;     // the writer: something to write, or stop
  std::condition_variable m_done;     // the callers: a write finished
  uint64_t m_wanted = 0;              // the highest version a caller waits for
  uint64_t m_attempted = 0;           // the highest version a write was attempted for
  uint64_t m_durable = 0;             // the highest version on disk
  std::optional<std::string> m_error; // why the last write failed
  uint64_t m_writes = 0;
  bool m_stopping = false;
  std::optional<std::string> m_stop_result;
  std::thread m_thread; // last: started once the rest is set up
};

} // namespace stove::sandbox
