// stove state rm, stove state mv and stove force-unlock, run as a user runs
// them, on states each test writes itself.

#include "support/run.hpp"
#include "support/temp_dir.hpp"

#include "state/journal.hpp"
#include "state/lock.hpp"
#include "state/statefile.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

using stove::test::read_file;
using stove::test::run_stove;
using stove::test::RunOptions;
using stove::test::TempDir;

namespace {

RunOptions in(const TempDir& dir) {
  RunOptions options;
  options.cwd = dir.path().string();
  return options;
}

const char* k_space = R"(cloud_space["web"])";
const char* k_machine = R"(cloud_space["web"].machine["app"])";
const char* k_backup = R"(cloud_space["web"].machine["app"].backup["nightly"])";
const char* k_bucket = R"(bucket["logs"])";

// state/site.json: a cloud space with a machine that has a backup, and a
// bucket; written by stove itself (serial 1, no backup file yet).
stove::State site_state() {
  stove::State state;
  auto add = [&](std::string address, std::string kind, std::string parent, std::string id) {
    stove::ResourceState r;
    r.address = std::move(address);
    r.kind = std::move(kind);
    r.provider = "sandbox";
    r.remote_id = std::move(id);
    r.parent = parent;
    if (!parent.empty()) {
      r.dependencies = {parent};
    }
    r.spec = {{"name", r.remote_id}};
    r.created_at = r.updated_at = "2026-11-22T00:00:00Z";
    state.resources.push_back(std::move(r));
  };
  add(k_space, "cloud_space", "", "7");
  add(k_machine, "machine", k_space, "42");
  add(k_backup, "backup", k_machine, "3");
  add(k_bucket, "bucket", "", "logs");
  return state;
}

std::string write_site(const TempDir& dir) {
  auto path = (dir / "state" / "site.json").string();
  stove::State state = site_state();
  stove::write_state(path, state);
  return path;
}

std::vector<std::string> addresses_in(const std::string& path) {
  std::vector<std::string> out;
  for (const auto& r : stove::load_state(path).resources) {
    out.push_back(r.address);
  }
  return out;
}

// The command failed with `message`, and the state and its backup are as
// they were.
void check_refused(const stove::test::RunResult& r, const std::string& message, const TempDir& dir,
                   const std::string& before) {
  CHECK(r.exit_code == 1);
  CHECK(r.out == "");
  CHECK(r.err == message);
  CHECK(read_file(dir / "state" / "site.json") == before);
  CHECK_FALSE(std::filesystem::exists(dir / "state" / "site.json.backup"));
}

} // namespace

TEST_SUITE("stove state rm") {
  TEST_CASE("rm forgets a resource, keeps the previous state as PATH.backup and bumps the serial") {
    TempDir dir;
    auto path = write_site(dir);
    const std::string before = read_file(path);
    auto r = run_stove({"state", "rm", "bucket.logs"}, in(dir));
    CHECK(r.exit_code == 0);
    CHECK(r.err == "");
    CHECK(r.out == "Removed bucket[\"logs\"]\nSuccessfully removed 1 resource instance(s).\n");
    CHECK(addresses_in(path) == std::vector<std::string>{k_space, k_machine, k_backup});
    CHECK(stove::load_state(path).serial == 2);
    CHECK(read_file(path + ".backup") == before);
    CHECK(std::filesystem::file_size(path + ".lock") == 0);
    // Copying the backup back restores the previous state, byte for byte.
    std::filesystem::copy_file(path + ".backup", path,
                               std::filesystem::copy_options::overwrite_existing);
    CHECK(read_file(path) == before);
  }

  TEST_CASE("rm refuses to orphan children, and removes them when named or with --recursive") {
    TempDir dir;
    auto path = write_site(dir);
    const std::string before = read_file(path);
    check_refused(run_stove({"state", "rm", "--state", "state/site.json", k_space}, in(dir)),
                  "stove: error: cannot remove cloud_space[\"web\"] alone: 2 resource(s) under it "
                  "would be left without their parent:\n"
                  "    cloud_space[\"web\"].machine[\"app\"]\n"
                  "    cloud_space[\"web\"].machine[\"app\"].backup[\"nightly\"]\n"
                  "  name them too, or pass --recursive to remove cloud_space[\"web\"] and "
                  "everything under it\n",
                  dir, before);

    auto named = run_stove({"state", "rm", k_backup, k_machine}, in(dir));
    CHECK(named.exit_code == 0);
    CHECK(named.err == "");
    CHECK(named.out == "Removed cloud_space[\"web\"].machine[\"app\"]\n"
                       "Removed cloud_space[\"web\"].machine[\"app\"].backup[\"nightly\"]\n"
                       "Successfully removed 2 resource instance(s).\n");
    CHECK(addresses_in(path) == std::vector<std::string>{k_space, k_bucket});

    auto recursive = run_stove(
        {"state", "rm", "-f", "site.yaml", "--recursive", "bucket.logs", "cloud_space.web"},
        in(dir));
    CHECK(recursive.exit_code == 0);
    CHECK(recursive.out == "Removed cloud_space[\"web\"]\nRemoved bucket[\"logs\"]\n"
                           "Successfully removed 2 resource instance(s).\n");
    CHECK(addresses_in(path).empty());
    CHECK(stove::load_state(path).serial == 3);
  }

  TEST_CASE("rm of an unknown or malformed address exits 1 and changes nothing") {
    TempDir dir;
    auto path = write_site(dir);
    const std::string before = read_file(path);
    check_refused(run_stove({"state", "rm", "bucket.logs", "bucket.lgos"}, in(dir)),
                  "stove: error: state/site.json has no resource bucket[\"lgos\"]; did you mean "
                  "\"bucket[\"logs\"]\"?\n",
                  dir, before);
    auto bad = run_stove({"state", "rm", "vm.x"}, in(dir));
    CHECK(bad.exit_code == 1);
    CHECK(bad.err.starts_with("stove: error: bad address \"vm.x\": unknown resource kind"));
    CHECK(read_file(path) == before);
    auto none = run_stove({"state", "rm", "--state", "nope.json", "bucket.logs"}, in(dir));
    CHECK(none.exit_code == 1);
    CHECK(none.err == "stove: error: nope.json: no such state file\n");
    CHECK_FALSE(std::filesystem::exists(dir / "nope.json.lock"));
    auto usage = run_stove({"state", "rm"}, in(dir));
    CHECK(usage.exit_code == 1);
    CHECK(usage.err.starts_with("stove: error: ADDRESS is required"));
  }
}

TEST_SUITE("stove state mv") {
  TEST_CASE("mv renames a parent, and what is under it follows") {
    TempDir dir;
    auto path = write_site(dir);
    const std::string before = read_file(path);
    auto r = run_stove({"state", "mv", "cloud_space.web", R"(cloud_space["www"])"}, in(dir));
    CHECK(r.exit_code == 0);
    CHECK(r.err == "");
    CHECK(r.out == "Move \"cloud_space[\"web\"]\" to \"cloud_space[\"www\"]\"\n"
                   "Move \"cloud_space[\"web\"].machine[\"app\"]\" to "
                   "\"cloud_space[\"www\"].machine[\"app\"]\"\n"
                   "Move \"cloud_space[\"web\"].machine[\"app\"].backup[\"nightly\"]\" to "
                   "\"cloud_space[\"www\"].machine[\"app\"].backup[\"nightly\"]\"\n"
                   "Successfully moved 3 object(s).\n");
    auto state = stove::load_state(path);
    CHECK(state.serial == 2);
    REQUIRE(state.resources.size() == 4);
    CHECK(state.resources[0].address == R"(cloud_space["www"])");
    CHECK(state.resources[0].remote_id == "7");
    CHECK(state.resources[1].address == R"(cloud_space["www"].machine["app"])");
    CHECK(state.resources[1].parent == R"(cloud_space["www"])");
    CHECK(state.resources[1].dependencies == std::vector<std::string>{R"(cloud_space["www"])"});
    CHECK(state.resources[2].parent == R"(cloud_space["www"].machine["app"])");
    CHECK(state.resources[2].dependencies ==
          std::vector<std::string>{R"(cloud_space["www"].machine["app"])"});
    CHECK(state.resources[3].address == k_bucket);
    CHECK(read_file(path + ".backup") == before);
    std::filesystem::copy_file(path + ".backup", path,
                               std::filesystem::copy_options::overwrite_existing);
    CHECK(read_file(path) == before);
  }

  TEST_CASE("mv of a leaf moves one object") {
    TempDir dir;
    auto path = write_site(dir);
    auto r = run_stove({"state", "mv", "--state", path, "bucket.logs", "bucket.audit"}, in(dir));
    CHECK(r.exit_code == 0);
    CHECK(r.out == "Move \"bucket[\"logs\"]\" to \"bucket[\"audit\"]\"\n"
                   "Successfully moved 1 object(s).\n");
    CHECK(addresses_in(path) ==
          std::vector<std::string>{k_space, k_machine, k_backup, R"(bucket["audit"])"});
  }

  TEST_CASE("mv errors exit 1 and change nothing") {
    TempDir dir;
    auto path = write_site(dir);
    {
      stove::State state = stove::load_state(path);
      stove::ResourceState other = state.resources[0];
      other.address = R"(cloud_space["db"])";
      other.remote_id = "8";
      state.resources.push_back(other);
      stove::write_state(path, state);
      std::filesystem::remove(path + ".backup");
    }
    const std::string before = read_file(path);
    check_refused(run_stove({"state", "mv", "bucket.lgos", "bucket.x"}, in(dir)),
                  "stove: error: state/site.json has no resource bucket[\"lgos\"]; did you mean "
                  "\"bucket[\"logs\"]\"?\n",
                  dir, before);
    check_refused(run_stove({"state", "mv", "bucket.logs", "cloud_space.logs"}, in(dir)),
                  "stove: error: cannot move bucket[\"logs\"] to cloud_space[\"logs\"]: a bucket "
                  "cannot become a cloud_space; TO must be a bucket too\n",
                  dir, before);
    check_refused(run_stove({"state", "mv", "cloud_space.web", "cloud_space.db"}, in(dir)),
                  "stove: error: cannot move cloud_space[\"web\"] to cloud_space[\"db\"]: the "
                  "state already has a resource at cloud_space[\"db\"]; remove it first (stove "
                  "state rm) if it is no longer wanted\n",
                  dir, before);
    check_refused(
        run_stove({"state", "mv", k_machine, R"(cloud_space["db"].machine["app"])"}, in(dir)),
        "stove: error: cannot move cloud_space[\"web\"].machine[\"app\"] to "
        "cloud_space[\"db\"].machine[\"app\"]: that would change its parent from "
        "cloud_space[\"web\"] to cloud_space[\"db\"]\n  state mv only renames: a machine stays "
        "under its parent, as it does in the cloud; to rename the parent, move the parent, and "
        "what is under it follows\n",
        dir, before);
    check_refused(run_stove({"state", "mv", "bucket.logs", "bucket.logs"}, in(dir)),
                  "stove: error: cannot move bucket[\"logs\"] to itself: FROM and TO are the same "
                  "address\n",
                  dir, before);
    auto one = run_stove({"state", "mv", "bucket.logs"}, in(dir));
    CHECK(one.exit_code == 1);
    CHECK(one.err.starts_with("stove: error: TO is required"));
    CHECK(read_file(path) == before);
  }

  TEST_CASE("mv folds in the journal of an interrupted apply first") {
    TempDir dir;
    auto path = write_site(dir);
    {
      stove::State state = stove::load_state(path);
      stove::Journal journal(path);
      journal.begin(state, "apply");
      stove::ResourceState machine = state.resources[1];
      machine.observed = {{"status", "HALTED"}};
      journal.recorded(machine);
      journal.deleted(k_bucket);
    } // not removed: the apply was interrupted
    auto r = run_stove({"state", "mv", k_machine, R"(cloud_space["web"].machine["api"])"}, in(dir));
    CHECK(r.exit_code == 0);
    CHECK(r.err == "stove: note: recovered 3 step(s) of an interrupted apply from "
                   "state/site.json.journal\n");
    CHECK_FALSE(std::filesystem::exists(path + ".journal"));
    auto state = stove::load_state(path);
    CHECK(state.serial == 3);
    CHECK(addresses_in(path) ==
          std::vector<std::string>{k_space, R"(cloud_space["web"].machine["api"])",
                                   R"(cloud_space["web"].machine["api"].backup["nightly"])"});
    CHECK(state.resources[1].observed["status"] == "HALTED");
    // The backup is the recovered state, before the move.
    auto backup = stove::load_state(path + ".backup");
    CHECK(backup.serial == 2);
    CHECK(addresses_in(path + ".backup") == std::vector<std::string>{k_space, k_machine, k_backup});
  }
}

TEST_SUITE("stove state rm and mv") {
  TEST_CASE("a held lock is reported with its id, and the state is left alone") {
    TempDir dir;
    auto path = write_site(dir);
    const std::string before = read_file(path);
    stove::StateLock lock = stove::StateLock::acquire(path, "apply", std::chrono::milliseconds(0));
    const auto& info = lock.info();
    const std::string locked = fmt::format(
        "stove: error: state is locked by pid {} on host {} (user {}) for \"apply\" since {}; "
        "lock id {}\n  wait for it with --lock-timeout DURATION, or stop that process: the lock "
        "is released when it exits\n",
        info.pid, info.host, info.user, info.created_at, info.id);
    check_refused(run_stove({"state", "rm", "bucket.logs"}, in(dir)), locked, dir, before);
    check_refused(
        run_stove({"state", "mv", "bucket.logs", "bucket.x", "--lock-timeout", "100ms"}, in(dir)),
        locked, dir, before);
    check_refused(
        run_stove({"state", "mv", "bucket.logs", "bucket.x", "--lock-timeout", "soon"}, in(dir)),
        "stove: error: --lock-timeout soon: not a duration (examples: 0, 500ms, 30s, "
        "5m, 1h)\n",
        dir, before);
  }
}

TEST_SUITE("stove force-unlock") {
  // A lock record as a stove that was killed leaves it: nobody holds the flock.
  std::string leave_record(const TempDir& dir, const std::string& id) {
    return dir.write("state/site.json.lock",
                     fmt::format(R"({{"id": "{}", "pid": 999999999, "host": "build-7", )"
                                 R"("user": "ci", "operation": "apply", )"
                                 R"("created_at": "2026-11-22T02:26:15Z"}})",
                                 id));
  }

  TEST_CASE("force-unlock clears the record a dead stove left, given its id") {
    TempDir dir;
    auto path = write_site(dir);
    const std::string before = read_file(path);
    auto lock_path = leave_record(dir, "0f6c1b7e-3a52-4d8e-9b1a-5c2d7e8f9a01");
    auto r = run_stove({"force-unlock", "0f6c1b7e-3a52-4d8e-9b1a-5c2d7e8f9a01"}, in(dir));
    CHECK(r.exit_code == 0);
    CHECK(r.err == "");
    CHECK(r.out == "Released lock 0f6c1b7e-3a52-4d8e-9b1a-5c2d7e8f9a01 of state/site.json: it was "
                   "taken by pid 999999999 on host build-7 (user ci) for \"apply\" since "
                   "2026-11-22T02:26:15Z, which has ended without releasing it.\n");
    CHECK(read_file(lock_path) == "");
    CHECK(read_file(path) == before);
    CHECK_FALSE(std::filesystem::exists(path + ".backup"));

    auto again = run_stove({"force-unlock", "0f6c1b7e-3a52-4d8e-9b1a-5c2d7e8f9a01"}, in(dir));
    CHECK(again.exit_code == 1);
    CHECK(again.out == "");
    CHECK(again.err == "stove: error: state/site.json.lock: no lock is held: nothing to unlock\n");
  }

  TEST_CASE("force-unlock points at the journal of the run it unlocks") {
    TempDir dir;
    auto path = write_site(dir);
    leave_record(dir, "abc");
    dir.write("state/site.json.journal", "");
    auto r = run_stove({"force-unlock", "-f", "site.yaml", "abc"}, in(dir));
    CHECK(r.exit_code == 0);
    CHECK(r.err == "stove: note: state/site.json.journal holds what that run did: the next "
                   "apply, destroy, exec, state rm or state mv folds it into the state\n");
  }

  TEST_CASE("force-unlock refuses another id, no lock, and a running holder") {
    TempDir dir;
    auto path = write_site(dir);
    auto lock_path = leave_record(dir, "abc");
    const std::string record = read_file(lock_path);
    auto wrong = run_stove({"force-unlock", "abd"}, in(dir));
    CHECK(wrong.exit_code == 1);
    CHECK(wrong.out == "");
    CHECK(wrong.err == "stove: error: lock ID abd does not match the lock's ID abc, taken by pid "
                       "999999999 on host build-7 (user ci) for \"apply\" since "
                       "2026-11-22T02:26:15Z; nothing was changed\n");
    CHECK(read_file(lock_path) == record);

    auto none = run_stove({"force-unlock", "--state", "other.json", "abc"}, in(dir));
    CHECK(none.exit_code == 1);
    CHECK(none.err == "stove: error: other.json.lock: no lock is held (there is no lock file): "
                      "nothing to unlock\n");
    CHECK_FALSE(std::filesystem::exists(dir / "other.json.lock"));

    stove::StateLock lock = stove::StateLock::acquire(path, "apply", std::chrono::milliseconds(0));
    const auto& info = lock.info();
    auto held = run_stove({"force-unlock", info.id}, in(dir));
    CHECK(held.exit_code == 1);
    CHECK(held.err ==
          fmt::format("stove: error: lock {} is still held by pid {} on host {} (user {}) for "
                      "\"apply\" since {}, which is running on this host; force-unlock cannot "
                      "take a lock from a running process\n  wait for it with --lock-timeout "
                      "DURATION, or stop that process: the lock is released when it exits\n",
                      info.id, info.pid, info.host, info.user, info.created_at));
    auto still = stove::read_lock_info(path);
    REQUIRE(still);
    CHECK(still->id == info.id);
    auto missing = run_stove({"force-unlock"}, in(dir));
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.starts_with("stove: error: LOCK_ID is required"));
  }
}

TEST_SUITE("stove state rm, mv and force-unlock help") {
  TEST_CASE("each command has --help") {
    for (std::vector<std::string> command :
         {std::vector<std::string>{"state", "rm"}, {"state", "mv"}, {"force-unlock"}}) {
      command.push_back("--help");
      auto r = run_stove(command);
      CHECK(r.exit_code == 0);
      CHECK(r.out.find("Usage:") != std::string::npos);
      CHECK(r.out.find("Exit status:") != std::string::npos);
    }
    auto top = run_stove({"--help"});
    CHECK(top.out.find("force-unlock") != std::string::npos);
  }
}
