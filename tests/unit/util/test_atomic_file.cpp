#include "util/error.hpp"
#include "util/atomic_file.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <string>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using stove::Error;
using stove::ErrorKind;
using stove::write_file_atomically;
using stove::test::ChildProcess;
using stove::test::Link;
using stove::test::read_file;
using stove::test::TempDir;

namespace {

// The names in `dir`, sorted.
std::vector<std::string> entries(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The message of the io error that `f` throws.
template <typename F>
std::string io_error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::io);
    return e.what();
  }
  FAIL("no stove::Error was thrown");
  return {};
}

ino_t inode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_ino;
}

} // namespace

TEST_SUITE("write_file_atomically") {

  TEST_CASE("it creates a file with the given content") {
    TempDir dir;
    auto path = (dir / "new.json").string();
    write_file_atomically(path, "{}\n");
    CHECK(read_file(path) == "{}\n");
    CHECK(entries(dir.path()) == std::vector<std::string>{"new.json"});
  }

  TEST_CASE("it replaces an existing file and can write nothing") {
    TempDir dir;
    auto path = dir.write("f", "old");
    write_file_atomically(path, std::string(200000, 'n'));
    CHECK(read_file(path) == std::string(200000, 'n'));
    write_file_atomically(path, "");
    CHECK(read_file(path).empty());
    CHECK(entries(dir.path()) == std::vector<std::string>{"f"});
  }

  TEST_CASE("it keeps the previous content as the backup") {
    TempDir dir;
    auto path = dir.write("s.json", "first");
    auto backup = path + ".backup";
    write_file_atomically(path, "second", backup);
    CHECK(read_file(path) == "second");
    CHECK(read_file(backup) == "first");
    write_file_atomically(path, "third", backup);
    CHECK(read_file(path) == "third");
    CHECK(read_file(backup) == "second");
    CHECK(entries(dir.path()) == std::vector<std::string>{"s.json", "s.json.backup"});
  }

  TEST_CASE("the backup is the old file itself, linked rather than copied") {
    TempDir dir;
    auto path = dir.write("s.json", "first");
    ino_t old_inode = inode_of(path);
    write_file_atomically(path, "second", path + ".backup");
    CHECK(inode_of(path + ".backup") == old_inode);
    CHECK(inode_of(path) != old_inode);
  }

  TEST_CASE("no backup is made when there was no file") {
    TempDir dir;
    auto path = (dir / "s.json").string();
    write_file_atomically(path, "first", path + ".backup");
    CHECK_FALSE(std::filesystem::exists(path + ".backup"));
  }

  TEST_CASE("a backup on another filesystem is copied") {
    TempDir dir;
    std::filesystem::path shm = "/dev/shm";
    struct stat here {};
    struct stat there {};
    if (::stat(shm.c_str(), &there) != 0 || ::stat(dir.path().c_str(), &here) != 0 ||
        here.st_dev == there.st_dev) {
      MESSAGE("skipped: no second filesystem at /dev/shm");
      return;
    }
    auto backup_dir = shm / ("stove-test-" + std::to_string(::getpid()));
    struct Cleanup {
      std::filesystem::path path;
      ~Cleanup() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
      }
    } cleanup{backup_dir};
    auto path = dir.write("s.json", "first");
    auto backup = (backup_dir / "s.json.backup").string();
    write_file_atomically(path, "second", backup);
    CHECK(read_file(path) == "second");
    CHECK(read_file(backup) == "first");
    CHECK(entries(backup_dir) == std::vector<std::string>{"s.json.backup"});
  }

  TEST_CASE("it creates missing parent directories") {
    TempDir dir;
    auto path = (dir / "a" / "b" / "s.json").string();
    write_file_atomically(path, "x", (dir / "c" / "s.json.backup").string());
    CHECK(read_file(path) == "x");
  }

  TEST_CASE("new files get mode 0644 less the umask") {
    TempDir dir;
    mode_t saved = ::umask(022);
    write_file_atomically((dir / "a").string(), "x");
    ::umask(077);
    write_file_atomically((dir / "b").string(), "x");
    ::umask(saved);
    CHECK((std::filesystem::status(dir / "a").permissions() & std::filesystem::perms::all) ==
          static_cast<std::filesystem::perms>(0644));
    CHECK((std::filesystem::status(dir / "b").permissions() & std::filesystem::perms::all) ==
          static_cast<std::filesystem::perms>(0600));
  }

  TEST_CASE("a write that fails midway leaves the old file untouched and no temp file") {
    TempDir dir;
    auto path = dir.write("s.json", "old content");
    // A file size limit makes write(2) fail with EFBIG partway through.
    ChildProcess child([&](Link& link) {
      std::signal(SIGXFSZ, SIG_IGN);
      rlimit limit{4096, 4096};
      if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) {
        return 3;
      }
      try {
        write_file_atomically(path, std::string(1 << 20, 'x'), path + ".backup");
      } catch (const Error& e) {
        link.send(e.what());
        return e.kind() == ErrorKind::io ? 0 : 2;
      }
      return 1;
    });
    auto message = child.link().receive();
    CHECK(child.wait() == 0);
    CHECK(message == path + ": cannot write: File too large");
    CHECK(read_file(path) == "old content");
    CHECK(entries(dir.path()) == std::vector<std::string>{"s.json"});
  }

  TEST_CASE("a path below a regular file is an io error naming the path") {
    TempDir dir;
    auto blocker = dir.write("blocker", "x");
    auto path = blocker + "/s.json";
    CHECK(io_error_of([&] { write_file_atomically(path, "x"); }) ==
          path + ": cannot write: Not a directory");
    CHECK(read_file(blocker) == "x");
  }

  TEST_CASE("a backup that cannot be kept leaves the old file untouched") {
    TempDir dir;
    auto path = dir.write("s.json", "old");
    auto blocker = dir.write("blocker", "x");
    auto backup = blocker + "/s.json.backup";
    CHECK(io_error_of([&] { write_file_atomically(path, "new", backup); }) ==
          backup + ": cannot write: Not a directory");
    CHECK(read_file(path) == "old");
    CHECK(entries(dir.path()) == std::vector<std::string>{"blocker", "s.json"});
  }

  TEST_CASE("a directory in the way is left alone") {
    TempDir dir;
    std::filesystem::create_directories(dir / "s.json" / "inside");
    auto path = (dir / "s.json").string();
    CHECK(io_error_of([&] { write_file_atomically(path, "x"); }) ==
          path + ": cannot write: Is a directory");
    CHECK(io_error_of([&] { write_file_atomically(path, "x", path + ".backup"); }) ==
          path + ": cannot write: Is a directory");
    CHECK(std::filesystem::is_directory(dir / "s.json" / "inside"));
    CHECK(entries(dir.path()) == std::vector<std::string>{"s.json"});
    CHECK(io_error_of([&] { write_file_atomically(path + "/", "x"); }) ==
          path + "/: cannot write: Is a directory");
  }

} // TEST_SUITE
