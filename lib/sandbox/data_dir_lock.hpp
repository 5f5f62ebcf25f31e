#pragma once

#include <string>

namespace stove::sandbox {

// An exclusive flock on DATA_DIR/cloud.lock, so that two sandboxes never
// share a data directory (each would overwrite the other's file). The lock
// goes with the process, even when it is killed.
class DataDirLock {
public:
  DataDirLock() = default;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock() { release(); }

  // Throws stove::Error(ErrorKind::io) when the directory is another
  // sandbox's, or cannot be locked.
  void acquire(const std::string& data_dir);
  void release();

private:
  int m_fd = -1;
};

} // namespace stove::sandbox
