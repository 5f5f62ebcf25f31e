#include "util/error.hpp"
#include "state/lock.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <optional>
#include <regex>
#include <string>
#include <sys/file.h>
#include <thread>
#include <unistd.h>

using namespace std::chrono_literals;
using stove::Error;
using stove::ErrorKind;
using stove::LockInfo;
using stove::StateLock;
using stove::test::ChildProcess;
using stove::test::Link;
using stove::test::TempDir;

namespace {

// The message of the state error that acquiring `state_path` throws.
std::string refusal(const std::string& state_path, std::chrono::milliseconds timeout = 0ms) {
  try {
    StateLock::acquire(state_path, "plan", timeout);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::state);
    return e.what();
  }
  FAIL("the lock was granted");
  return {};
}

std::string expected_refusal(const LockInfo& holder) {
  return fmt::format("state is locked by pid {} on host {} (user {}) for \"{}\" since {}; lock id "
                     "{}\n  wait for it with --lock-timeout DURATION, or stop that process: the "
                     "lock is released when it exits",
                     holder.pid, holder.host, holder.user, holder.operation, holder.created_at,
                     holder.id);
}

bool can_acquire(const std::string& state_path) {
  try {
    StateLock::acquire(state_path, "plan", 0ms);
    return true;
  } catch (const Error&) {
    return false;
  }
}

void check_same(const LockInfo& a, const LockInfo& b) {
  CHECK(a.id == b.id);
  CHECK(a.pid == b.pid);
  CHECK(a.host == b.host);
  CHECK(a.user == b.user);
  CHECK(a.operation == b.operation);
  CHECK(a.created_at == b.created_at);
}

} // namespace

TEST_SUITE("StateLock") {

  TEST_CASE("acquire writes a holder record into STATE_PATH.lock") {
    TempDir dir;
    auto state_path = (dir / "s.json").string();
    StateLock lock = StateLock::acquire(state_path, "apply", 0ms);
    CHECK(lock.lock_path() == state_path + ".lock");
    const LockInfo& info = lock.info();
    CHECK(info.pid == ::getpid());
    CHECK(info.operation == "apply");
    CHECK_FALSE(info.host.empty());
    CHECK_FALSE(info.user.empty());
    CHECK(std::regex_match(
        info.id,
        std::regex("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")));
    CHECK(std::regex_match(info.created_at,
                           std::regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")));
    auto record = stove::read_lock_info(state_path);
    REQUIRE(record);
    check_same(*record, info);
  }

  TEST_CASE("acquire creates missing parent directories") {
    TempDir dir;
    auto state_path = (dir / "state" / "deep" / "s.json").string();
    StateLock lock = StateLock::acquire(state_path, "apply", 0ms);
    CHECK(std::filesystem::exists(state_path + ".lock"));
  }

  TEST_CASE("a second acquire in the same process is refused, naming the holder") {
    TempDir dir;
    auto state_path = (dir / "s.json").string();
    StateLock lock = StateLock::acquire(state_path, "apply", 0ms);
    CHECK(refusal(state_path) == expected_refusal(lock.info()));
    // The refused attempt must not have disturbed the holder's record.
    auto record = stove::read_lock_info(state_path);
    REQUIRE(record);
    check_same(*record, lock.info());
  }

  TEST_CASE("the lock is released on destruction, and its file stays") {
    TempDir dir;
    auto state_path = (dir / "s.json").string();
    {
      StateLock lock = StateLock::acquire(state_path, "apply", 0ms);
      CHECK_FALSE(can_acquire(state_path));
    }
    CHECK(std::filesystem::exists(state_path + ".lock"));
    CHECK(std::filesystem::file_size(state_path + ".lock") == 0);
    CHECK_FALSE(stove::read_lock_info(state_path));
    CHECK(can_acquire(state_path));
  }

  TEST_CASE("moving a lock moves the ownership") {
    TempDir dir;
    auto a = (dir / "a.json").string();
    auto b = (dir / "b.json").string();
    std::optional<StateLock> holder;
    {
      StateLock first = StateLock::acquire(a, "apply", 0ms);
      holder.emplace(std::move(first));
    } // the moved-from lock is destroyed here and must not release
    CHECK_FALSE(can_acquire(a));
    CHECK(holder->lock_path() == a + ".lock");
    CHECK(holder->info().operation == "apply");

    StateLock other = StateLock::acquire(b, "destroy", 0ms);
    other = std::move(*holder); // releases b, takes over a
    CHECK(can_acquire(b));
    CHECK_FALSE(can_acquire(a));
    CHECK(other.info().operation == "apply");
    holder.reset();
    CHECK_FALSE(can_acquire(a));
    { StateLock sink = std::move(other); }
    CHECK(can_acquire(a));
  }

  TEST_CASE("a lock held by another process is refused, naming that process") {
    TempDir dir;
    auto state_path = (dir / "s.json").string();
    ChildProcess child([&](Link& link) {
      StateLock lock = StateLock::acquire(state_path, "apply", 0ms);
      link.send(lock.info().id);
      return link.receive() == "done" ? 0 : 1;
    });
    auto id = child.link().receive();
    REQUIRE(id);
    auto holder = stove::read_lock_info(state_path);
    REQUIRE(holder);
    CHECK(holder->pid == child.pid());
    CHECK(holder->id == *id);
    CHECK(holder->operation == "apply");
    std::string message = refusal(state_path);
    CHECK(message == expected_refusal(*holder));
    CHECK(message.find(fmt::format("pid {} ", child.pid())) != std::string::npos);
    child.link().send("done");
    CHECK(child.wait() == 0);
    CHECK(can_acquire(state_path));
  }

  TEST_CASE("acquire waits for a holder that lets go within the timeout") {
    TempDir dir;
    auto state_path = (dir / "s.json").string();
    ChildProcess child([&](Link& link) {
      StateLock lock = StateLock::acquire(state_path, "apply", 0ms);
      link.send("locked");
      if (link.receive() != "release soon") {
        return 1;
      }
      std::this_thread::sleep_for(200ms);
      return 0;
    });
    REQUIRE(child.link().receive() == "locked");
    CHECK_FALSE(can_acquire(state_path));
    child.link().send("release soon");
    StateLock lock = StateLock::acquire(state_path, "apply", 30s);
    CHECK(lock.info().pid == ::getpid());
    CHECK(child.wait() == 0);
  }

  TEST_CASE("a holder without a readable record is reported as such") {
    TempDir dir;
    auto state_path = (dir / "s.json").string();
    int fd = ::open((state_path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::flock(fd, LOCK_EX) == 0);
    CHECK(refusal(state_path) ==
          "state is locked by another process, which has left no readable record in " + state_path +
              ".lock\n  wait for it with --lock-timeout DURATION");
    ::close(fd);
    CHECK(can_acquire(state_path));
  }

  TEST_CASE("read_lock_info gives nothing for a missing, empty or garbled record") {
    TempDir dir;
    auto state_path = (dir / "s.json").string();
    CHECK_FALSE(stove::read_lock_info(state_path));
    for (std::string text : {"", "{", "[]", R"({"id": "x"})",
                             R"({"id": 1, "pid": 2, "host": "h", "user": "u", )"
                             R"("operation": "o", "created_at": "t"})"}) {
      CAPTURE(text);
      dir.write("s.json.lock", text);
      CHECK_FALSE(stove::read_lock_info(state_path));
    }
    dir.write("s.json.lock", R"({"id": "x", "pid": 2, "host": "h", "user": "u", )"
                             R"("operation": "o", "created_at": "t"})");
    auto info = stove::read_lock_info(state_path);
    REQUIRE(info);
    CHECK(info->id == "x");
    CHECK(info->pid == 2);
    CHECK(info->host == "h");
    CHECK(info->user == "u");
    CHECK(info->operation == "o");
    CHECK(info->created_at == "t");
  }

  TEST_CASE("an unusable lock path is an io error") {
    TempDir dir;
    auto blocker = dir.write("blocker", "x");
    try {
      StateLock::acquire(blocker + "/s.json", "apply", 0ms);
      FAIL("the lock was granted");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::io);
      CHECK(std::string(e.what()) ==
            blocker + "/s.json.lock: cannot create its directory: Not a directory");
    }
  }

} // TEST_SUITE
 // TEST_SUITE

namespace {

// The message of the state error that force_unlock throws.
std::string force_unlock_refusal(const std::string& state_path, const std::string& id) {
  try {
    stove::force_unlock(state_path, id);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::state);
    return e.what();
  }
  FAIL("force_unlock succeeded");
  return {};
}

// Leaves a holder record behind: a child takes the lock and dies without
// releasing it, so that the kernel drops its flock and the record stays.
LockInfo dead_holder(const std::string& state_path) {
  ChildProcess child([&](Link& link) {
    StateLock lock = StateLock::acquire(state_path, "apply", 0ms);
    link.send(lock.info().id);
    ::_exit(0);
    return 0;
  });
  auto id = child.link().receive();
  REQUIRE(id);
  CHECK(child.wait() == 0);
  auto record = stove::read_lock_info(state_path);
  REQUIRE(record);
  CHECK(record->id == *id);
  return *record;
}

} // namespace

TEST_SUITE("force_unlock") {

  TEST_CASE("a holder that died leaves its record, which blocks nobody") {
    TempDir dir;
    auto state_path = (dir / "s.json").string();
    LockInfo left = dead_holder(state_path);
    CHECK(left.pid != ::getpid());
    {
      StateLock lock = StateLock::acquire(state_path, "plan", 0ms);
      CHECK(lock.info().id != left.id);
    }
  }

  TEST_CASE("the record of a dead holder is cleared when given its id") {
    TempDir dir;
    auto state_path = (dir / "s.json").string();
    LockInfo left = dead_holder(state_path);
    LockInfo cleared = stove::force_unlock(state_path, left.id);
    check_same(cleared, left);
    CHECK(std::filesystem::exists(state_path + ".lock"));
    CHECK(std::filesystem::file_size(state_path + ".lock") == 0);
    CHECK(force_unlock_refusal(state_path, left.id) ==
          fmt::format("{}.lock: no lock is held: nothing to unlock", state_path));
    CHECK(can_acquire(state_path));
  }

  TEST_CASE("another id is refused and changes nothing") {
    TempDir dir;
    auto state_path = (dir / "s.json").string();
    LockInfo left = dead_holder(state_path);
    std::string before = stove::test::read_file(dir / "s.json.lock");
    CHECK(force_unlock_refusal(state_path, "nope") ==
          fmt::format("lock ID nope does not match the lock's ID {}, taken by pid {} on host {} "
                      "(user {}) for \"apply\" since {}; nothing was changed",
                      left.id, left.pid, left.host, left.user, left.created_at));
    CHECK(stove::test::read_file(dir / "s.json.lock") == before);
  }

  TEST_CASE("no lock file, an empty one or an unreadable record: nothing to unlock") {
    TempDir dir;
    auto state_path = (dir / "s.json").string();
    CHECK(force_unlock_refusal(state_path, "x") ==
          fmt::format("{}.lock: no lock is held (there is no lock file): nothing to unlock",
                      state_path));
    CHECK_FALSE(std::filesystem::exists(state_path + ".lock"));
    dir.write("s.json.lock", "");
    CHECK(force_unlock_refusal(state_path, "x") ==
          fmt::format("{}.lock: no lock is held: nothing to unlock", state_path));
    dir.write("s.json.lock", "{");
    CHECK(force_unlock_refusal(state_path, "x") ==
          fmt::format("{}.lock: no lock is held (the file holds no readable lock record): "
                      "nothing to unlock",
                      state_path));
  }

  TEST_CASE("a running holder keeps its lock, even with the right id") {
    TempDir dir;
    auto state_path = (dir / "s.json").string();
    StateLock lock = StateLock::acquire(state_path, "apply", 0ms);
    const LockInfo& info = lock.info();
    CHECK(force_unlock_refusal(state_path, info.id) ==
          fmt::format("lock {} is still held by pid {} on host {} (user {}) for \"apply\" since "
                      "{}, which is running on this host; force-unlock cannot take a lock from a "
                      "running process\n  wait for it with --lock-timeout DURATION, or stop that "
                      "process: the lock is released when it exits",
                      info.id, info.pid, info.host, info.user, info.created_at));
    auto record = stove::read_lock_info(state_path);
    REQUIRE(record);
    check_same(*record, info);
    CHECK_FALSE(can_acquire(state_path));
  }

  TEST_CASE("a lock held open after its recorded pid ended is still refused") {
    TempDir dir;
    auto state_path = (dir / "s.json").string();
    LockInfo left = dead_holder(state_path);
    // Another process (here: this one) holds the flock under the dead pid's record.
    int fd = ::open((state_path + ".lock").c_str(), O_RDWR | O_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(::flock(fd, LOCK_EX) == 0);
    std::string message = force_unlock_refusal(state_path, left.id);
    CHECK(message.find(fmt::format("; pid {} is no longer running, but a process it started "
                                   "still has the lock file open; force-unlock cannot take",
                                   left.pid)) != std::string::npos);
    ::close(fd);
    CHECK(stove::force_unlock(state_path, left.id).id == left.id);
  }

  TEST_CASE("a running holder without a record is refused") {
    TempDir dir;
    auto state_path = (dir / "s.json").string();
    int fd = ::open((state_path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::flock(fd, LOCK_EX) == 0);
    CHECK(force_unlock_refusal(state_path, "x") ==
          fmt::format("{}.lock: the lock is held by a running process that has left no readable "
                      "record; force-unlock cannot take a lock from a running process\n  wait "
                      "for it with --lock-timeout DURATION",
                      state_path));
    ::close(fd);
  }

} // TEST_SUITE
