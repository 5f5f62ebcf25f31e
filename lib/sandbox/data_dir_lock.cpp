#include "sandbox/data_dir_lock.hpp"

#include "util/error.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/file.h>
#include <unistd.h>

namespace stove::sandbox {

namespace {

// The pid the lock's holder recorded, or "".
std::string read_holder(int fd) {
  char buffer[32] = {};
  ssize_t got = ::pread(fd, buffer, sizeof buffer - 1, 0);
  std::string text(buffer, got > 0 ? static_cast<size_t>(got) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  return text.find_first_not_of("0123456789") == std::string::npos ? text : std::string();
}

} // namespace

void DataDirLock::acquire(const std::string& data_dir) {
  std::string path = (std::filesystem::path(data_dir) / "cloud.lock").string();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw Error(ErrorKind::io, fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    std::string holder = read_holder(fd);
    ::close(fd);
    if (err == EWOULDBLOCK) {
      throw Error(ErrorKind::io,
                  fmt::format("{} is in use by another stove sandbox{}", data_dir,
                              holder.empty() ? "" : fmt::format(" (pid {})", holder)));
    }
    throw Error(ErrorKind::io, fmt::format("{}: cannot lock: {}", path, std::strerror(err)));
  }
  // The pid is only for the message above; failing to record it is harmless.
  std::string pid = fmt::format("{}\n", ::getpid());
  bool recorded = ::ftruncate(fd, 0) == 0 && ::pwrite(fd, pid.data(), pid.size(), 0) > 0;
  static_cast<void>(recorded);
  m_fd = fd;
}

void DataDirLock::release() {
  if (m_fd >= 0) {
    ::close(m_fd);
    m_fd = -1;
  }
}

} // namespace stove::sandbox
