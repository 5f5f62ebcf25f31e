#include "util/atomic_file.hpp"

#include "util/error.hpp"
#include "util/random.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace stove {

namespace {

constexpr mode_t k_file_mode = 0644; // the umask still applies
constexpr int k_temp_name_attempts = 16;

[[noreturn]] void fail(const std::string& path, int err) {
  throw Error(ErrorKind::io, fmt::format("{}: cannot write: {}", path, std::strerror(err)));
}

// The directory holding `path`, as open(2) takes it.
std::string directory_of(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

// A fresh name beside `path`: DIR/.NAME.tmp.PID.RANDOM. Dot-prefixed so that
// globs over the directory skip it.
std::string temp_name_for(const std::string& path) {
  std::filesystem::path p(path);
  auto name = fmt::format(".{}.tmp.{}.{}", p.filename().string(), ::getpid(), random_hex(4));
  return (p.parent_path() / name).string();
}

void create_parent_directories(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) {
    return;
  }
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) {
    fail(path, ec.value());
  }
}

void write_all(int fd, std::string_view content, const std::string& path) {
  const char* data = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    ssize_t put = ::write(fd, data, left);
    if (put < 0) {
      if (errno == EINTR) {
        continue;
      }
      fail(path, errno);
    }
    data += put;
    left -= static_cast<std::size_t>(put);
  }
}

// Makes a rename or link inside `directory` durable.
void sync_directory(const std::string& directory, const std::string& path) {
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    fail(path, errno);
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  // Some filesystems cannot sync a directory; their renames are as durable as
  // they get.
  if (rc != 0 && err != EINVAL && err != ENOTSUP) {
    fail(path, err);
  }
}

// A temp file beside a target, removed again unless it was renamed into place.
// Errors name the target, which is what the user asked to write.
class TempFile {
public:
  explicit TempFile(const std::string& target) : m_target(target) {
    for (int attempt = 0; attempt < k_temp_name_attempts; ++attempt) {
      std::string name = temp_name_for(target);
      m_fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, k_file_mode);
      if (m_fd >= 0) {
        m_path = std::move(name);
        return;
      }
      if (errno != EEXIST) {
        break;
      }
    }
    fail(target, errno);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
    if (!m_path.empty()) {
      ::unlink(m_path.c_str());
    }
  }

  void write(std::string_view content) { write_all(m_fd, content, m_target); }

  // Flushes the data to disk and closes the file; it stays a temp file.
  void sync_and_close() {
    if (::fsync(m_fd) != 0) {
      fail(m_target, errno);
    }
    int rc = ::close(m_fd);
    m_fd = -1;
    if (rc != 0) {
      fail(m_target, errno);
    }
  }

  // Renames the file onto the target; from then on it is no longer ours.
  void rename_onto_target() {
    if (::rename(m_path.c_str(), m_target.c_str()) != 0) {
      fail(m_target, errno);
    }
    m_path.clear();
  }

private:
  std::string m_target;
  std::string m_path;
  int m_fd = -1;
};

// Copies `source` to a temp file beside `backup` and renames it there.
void copy_to_backup(const std::string& source, const std::string& backup) {
  int in = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    fail(backup, errno);
  }
  try {
    TempFile copy(backup);
    char buffer[65536];
    while (true) {
      ssize_t got = ::read(in, buffer, sizeof buffer);
      if (got < 0) {
        if (errno == EINTR) {
          continue;
        }
        fail(backup, errno);
      }
      if (got == 0) {
        break;
      }
      copy.write(std::string_view(buffer, static_cast<std::size_t>(got)));
    }
    copy.sync_and_close();
    copy.rename_onto_target();
  } catch (...) {
    ::close(in);
    throw;
  }
  ::close(in);
}

// Keeps the current `path`, if any, as `backup`; returns whether there was
// one. A hard link shares the old inode, so it costs nothing; where links are
// impossible (another filesystem, or one without them) the file is copied.
bool keep_backup(const std::string& path, const std::string& backup) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return false;
    }
    fail(path, errno);
  }
  if (S_ISDIR(st.st_mode)) {
    fail(path, EISDIR);
  }
  create_parent_directories(backup);
  for (int attempt = 0; attempt < k_temp_name_attempts; ++attempt) {
    std::string link_name = temp_name_for(backup);
    if (::link(path.c_str(), link_name.c_str()) == 0) {
      if (::rename(link_name.c_str(), backup.c_str()) != 0) {
        int err = errno;
        ::unlink(link_name.c_str());
        fail(backup, err);
      }
      return true;
    }
    if (errno != EEXIST) {
      break;
    }
  }
  copy_to_backup(path, backup);
  return true;
}

} // namespace

void write_file_atomically(const std::string& path, std::string_view content,
                           const std::string& backup_path) {
  if (std::filesystem::path(path).filename().empty()) {
    fail(path, EISDIR);
  }
  create_parent_directories(path);
  TempFile temp(path);
  temp.write(content);
  temp.sync_and_close();
  const std::string directory = directory_of(path);
  if (!backup_path.empty() && keep_backup(path, backup_path)) {
    const std::string backup_directory = directory_of(backup_path);
    if (backup_directory != directory) {
      sync_directory(backup_directory, backup_path);
    }
  }
  temp.rename_onto_target();
  sync_directory(directory, path);
}

} // namespace stove
