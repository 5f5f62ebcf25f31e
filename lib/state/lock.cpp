#include "state/lock.hpp"

#include "util/error.hpp"
#include "state/statefile.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <limits>
#include <pwd.h>
#include <sys/file.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <vector>

namespace stove {

namespace {

constexpr std::chrono::milliseconds k_poll_interval{75};
constexpr std::size_t k_max_record_size = 64 * 1024;

std::string lock_path_for(const std::string& state_path) {
  return state_path + ".lock";
}

[[noreturn]] void lock_io_error(const std::string& lock_path, std::string_view what, int err) {
  throw Error(ErrorKind::io, fmt::format("{}: cannot {}: {}", lock_path, what, std::strerror(err)));
}

std::string host_name() {
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof buffer - 1) != 0 || buffer[0] == '\0') {
    return "unknown";
  }
  return buffer;
}

std::string user_name() {
  uid_t uid = ::geteuid();
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr &&
      found->pw_name != nullptr) {
    return found->pw_name;
  }
  if (const char* user = std::getenv("USER"); user != nullptr && *user != '\0') {
    return user;
  }
  return std::to_string(uid);
}

std::string serialize_lock_info(const LockInfo& info) {
  nlohmann::ordered_json record;
  record["id"] = info.id;
  record["pid"] = info.pid;
  record["host"] = info.host;
  record["user"] = info.user;
  record["operation"] = info.operation;
  record["created_at"] = info.created_at;
  // Host and user names are not always UTF-8; the record must still be written.
  return record.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::optional<LockInfo> parse_lock_info(const std::string& text) {
  auto record = nlohmann::json::parse(text, nullptr, false);
  if (record.is_discarded() || !record.is_object()) {
    return std::nullopt;
  }
  auto text_field = [&](const char* name, std::string& out) {
    auto it = record.find(name);
    if (it == record.end() || !it->is_string()) {
      return false;
    }
    out = it->get<std::string>();
    return true;
  };
  LockInfo info;
  auto pid = record.find("pid");
  if (pid == record.end() || !pid->is_number_integer()) {
    return std::nullopt;
  }
  info.pid = pid->get<long>();
  if (!text_field("id", info.id) || info.id.empty() || !text_field("host", info.host) ||
      !text_field("user", info.user) || !text_field("operation", info.operation) ||
      !text_field("created_at", info.created_at)) {
    return std::nullopt;
  }
  return info;
}

// Reads the holder record through `fd`, from the start; nullopt on failure.
std::optional<std::string> read_record(int fd) {
  std::string text;
  char buffer[4096];
  while (text.size() < k_max_record_size) {
    ssize_t got = ::pread(fd, buffer, sizeof buffer, static_cast<off_t>(text.size()));
    if (got > 0) {
      text.append(buffer, static_cast<std::size_t>(got));
    } else if (got == 0) {
      return text;
    } else if (errno != EINTR) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<LockInfo> read_record_info(int fd) {
  auto text = read_record(fd);
  if (!text || text->empty()) {
    return std::nullopt;
  }
  return parse_lock_info(*text);
}

std::string describe_holder(const LockInfo& holder) {
  return fmt::format("pid {} on host {} (user {}) for \"{}\" since {}", holder.pid, holder.host,
                     holder.user, holder.operation, holder.created_at);
}

std::string locked_message(const std::optional<LockInfo>& holder, const std::string& lock_path) {
  if (!holder) {
    return fmt::format("state is locked by another process, which has left no readable record "
                       "in {}\n  wait for it with --lock-timeout DURATION",
                       lock_path);
  }
  // The flock is held, so its holder is running: force-unlock cannot help,
  // and the message does not suggest it.
  return fmt::format("state is locked by {}; lock id {}\n  wait for it with --lock-timeout "
                     "DURATION, or stop that process: the lock is released when it exits",
                     describe_holder(*holder), holder->id);
}

// Replaces the file's content with `record` and makes it durable.
bool write_record(int fd, const std::string& record) {
  if (::ftruncate(fd, 0) != 0) {
    return false;
  }
  std::size_t done = 0;
  while (done < record.size()) {
    ssize_t put =
        ::pwrite(fd, record.data() + done, record.size() - done, static_cast<off_t>(done));
    if (put < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    done += static_cast<std::size_t>(put);
  }
  return ::fsync(fd) == 0;
}

} // namespace

StateLock StateLock::acquire(const std::string& state_path, const std::string& operation,
                             std::chrono::milliseconds timeout) {
  const std::string lock_path = lock_path_for(state_path);
  auto parent = std::filesystem::path(lock_path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      lock_io_error(lock_path, "create its directory", ec.value());
    }
  }
  // Each acquire opens the file anew: flock belongs to the open file
  // description, so two acquires in one process exclude each other too.
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    lock_io_error(lock_path, "open", errno);
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    if (err == EINTR) {
      continue;
    }
    if (err != EWOULDBLOCK) {
      ::close(fd);
      lock_io_error(lock_path, "lock", err);
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      auto holder = read_record_info(fd);
      ::close(fd);
      throw Error(ErrorKind::state, locked_message(holder, lock_path));
    }
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(k_poll_interval, deadline - now));
  }

  LockInfo info;
  info.pid = static_cast<long>(::getpid());
  info.host = host_name();
  info.user = user_name();
  info.operation = operation;
  info.created_at = now_rfc3339();
  try {
    info.id = new_uuid();
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (!write_record(fd, serialize_lock_info(info))) {
    int err = errno;
    ::ftruncate(fd, 0);
    ::close(fd); // closing the last descriptor releases the lock
    lock_io_error(lock_path, "write", err);
  }
  return StateLock(fd, lock_path, std::move(info));
}

StateLock::StateLock(int fd, std::string lock_path, LockInfo info)
    : m_fd(fd), m_lock_path(std::move(lock_path)), m_info(std::move(info)) {}

StateLock::StateLock(StateLock&& other) noexcept
    : m_fd(other.m_fd), m_lock_path(std::move(other.m_lock_path)), m_info(std::move(other.m_info)) {
  other.m_fd = -1;
}

StateLock& StateLock::operator=(StateLock&& other) noexcept {
  if (this != &other) {
    release();
    m_fd = other.m_fd;
    m_lock_path = std::move(other.m_lock_path);
    m_info = std::move(other.m_info);
    other.m_fd = -1;
  }
  return *this;
}

StateLock::~StateLock() {
  release();
}

void StateLock::release() noexcept {
  if (m_fd < 0) {
    return;
  }
  // The file stays: unlinking a flock'ed file lets a waiter lock the old inode
  // while a newcomer locks a new one. An empty file means "not held".
  (void)::ftruncate(m_fd, 0);
  ::flock(m_fd, LOCK_UN);
  ::close(m_fd);
  m_fd = -1;
}

LockInfo force_unlock(const std::string& state_path, const std::string& id) {
  const std::string lock_path = lock_path_for(state_path);
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      throw Error(
          ErrorKind::state,
          fmt::format("{}: no lock is held (there is no lock file): nothing to unlock", lock_path));
    }
    lock_io_error(lock_path, "open", errno);
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); } // also releases the flock if this took it
  } closer{fd};

  bool held = false;
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) {
      continue;
    }
    if (errno != EWOULDBLOCK) {
      lock_io_error(lock_path, "lock", errno);
    }
    held = true;
    break;
  }
  // Holding the flock, the record cannot change under us; otherwise it is
  // the live holder's.
  auto holder = read_record_info(fd);
  if (!holder) {
    if (held) {
      throw Error(ErrorKind::state,
                  fmt::format("{}: the lock is held by a running process that has left no "
                              "readable record; force-unlock cannot take a lock from a running "
                              "process\n  wait for it with --lock-timeout DURATION",
                              lock_path));
    }
    auto text = read_record(fd);
    throw Error(
        ErrorKind::state,
        fmt::format("{}: no lock is held{}: nothing to unlock", lock_path,
                    text && !text->empty() ? " (the file holds no readable lock record)" : ""));
  }
  if (id != holder->id) {
    throw Error(ErrorKind::state,
                fmt::format("lock ID {} does not match the lock's ID {}, taken by {}; nothing was "
                            "changed",
                            id, holder->id, describe_holder(*holder)));
  }
  if (held) {
    std::string why;
    if (holder->host == host_name()) {
      bool running =
          holder->pid > 0 && (::kill(static_cast<pid_t>(holder->pid), 0) == 0 || errno == EPERM);
      why = running ? std::string(", which is running on this host")
                    : fmt::format("; pid {} is no longer running, but a process it started "
                                  "still has the lock file open",
                                  holder->pid);
    }
    throw Error(ErrorKind::state,
                fmt::format("lock {} is still held by {}{}; force-unlock cannot take a lock from "
                            "a running process\n  wait for it with --lock-timeout DURATION, or "
                            "stop that process: the lock is released when it exits",
                            id, describe_holder(*holder), why));
  }
  if (!write_record(fd, "")) {
    lock_io_error(lock_path, "clear", errno);
  }
  return *holder;
}

std::optional<LockInfo> read_lock_info(const std::string& state_path) {
  int fd = ::open(lock_path_for(state_path).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return std::nullopt;
  }
  auto info = read_record_info(fd);
  ::close(fd);
  return info;
}


} // namespace stove
