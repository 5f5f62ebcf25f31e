#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace stove {

// Who holds a state lock. Written as JSON into the lock file while held.
struct LockInfo {
  std::string id; // a UUID; force-unlock must be given it exactly
  long pid = 0;
  std::string host;
  std::string user;
  std::string operation;  // "apply", "destroy", ...
  std::string created_at; // RFC 3339 UTC
};

// An exclusive flock on STATE_PATH.lock, held for the object's lifetime.
// Move-only; the destructor releases the lock and clears the holder record.
class StateLock {
public:
  // Takes the lock for `operation`, waiting up to `timeout` (0: try once).
  // On failure throws stove::Error(ErrorKind::state) that names the holder:
  // pid, host, user, operation, since when, and the lock id. A record left by
  // a holder that died does not block: its flock died with it.
  static StateLock acquire(const std::string& state_path, const std::string& operation,
                           std::chrono::milliseconds timeout);

  StateLock(StateLock&& other) noexcept;
  StateLock& operator=(StateLock&& other) noexcept;
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;
  ~StateLock();

  const LockInfo& info() const { return m_info; }
  const std::string& lock_path() const { return m_lock_path; }

private:
  StateLock(int fd, std::string lock_path, LockInfo info);
  void release() noexcept;

  int m_fd = -1;
  std::string m_lock_path;
  LockInfo m_info;
};

// `stove force-unlock`: clears the holder record that a process left in
// STATE_PATH.lock when it ended without releasing the lock (killed, crashed,
// machine reset). The lock itself is the flock, which the kernel released
// when that process ended; the record is what remains. Clears it only when
// `id` is the record's id and no process holds the flock, and returns the
// record cleared. Throws stove::Error(ErrorKind::state) when there is no
// record ("no lock is held"), when `id` is not the record's id (naming it),
// and when a live process holds the lock: a running holder cannot be
// unlocked from outside, only waited for or stopped (the message says whether
// its pid is running when it is on this host).
LockInfo force_unlock(const std::string& state_path, const std::string& id);

// Reads the holder record of STATE_PATH.lock, if any (it may be stale).
std::optional<LockInfo> read_lock_info(const std::string& state_path);

} // namespace stove
