#include "state/journal.hpp"

#include "util/error.hpp"
#include "state/statefile.hpp"

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <thread>

using namespace stove;
using stove::test::read_file;
using stove::test::TempDir;
using nlohmann::json;

namespace {

ResourceState bucket(const std::string& name, const std::string& id) {
  ResourceState r;
  r.address = fmt::format("bucket[\"{}\"]", name);
  r.kind = "bucket";
  r.provider = "sandbox";
  r.remote_id = id;
  r.spec = {{"name", name}};
  r.created_at = r.updated_at = "2026-11-22T00:00:00Z";
  return r;
}

} // namespace

TEST_SUITE("journal") {
  TEST_CASE("replay folds recorded, deleted and failed steps into the state") {
    TempDir dir;
    std::string state_path = (dir / "s.json").string();
    State state;
    state.lineage = "00000000-0000-4000-8000-000000000001";
    state.resources = {bucket("old", "1"), bucket("kept", "2")};
    {
      Journal j(state_path);
      j.begin(state, "apply");
      j.deleted(R"(bucket["old"])");
      ResourceState fresh = bucket("new", "");
      j.intent(fresh);
      fresh.remote_id = "3";
      j.recorded(fresh);
      j.failed(R"(bucket["kept"])", "boom");
      CHECK(j.records() == 5);
    }
    ReplayResult result = replay_journal(state_path, state);
    CHECK(result.found);
    CHECK(result.records == 5);
    CHECK(result.interrupted_creates == 0);
    CHECK_FALSE(result.truncated_tail);
    REQUIRE(state.resources.size() == 2);
    CHECK(state.resources[0].address == R"(bucket["kept"])");
    CHECK(state.resources[0].status == ResourceStatus::failed);
    CHECK(state.resources[1].address == R"(bucket["new"])");
    CHECK(state.resources[1].remote_id == "3");
    CHECK(state.resources[1].status == ResourceStatus::completed);
  }

  TEST_CASE("an intent with no result becomes a processing resource with no remote id") {
    TempDir dir;
    std::string state_path = (dir / "s.json").string();
    State state;
    {
      Journal j(state_path);
      j.begin(state, "apply");
      j.intent(bucket("half", ""));
    }
    ReplayResult result = replay_journal(state_path, state);
    CHECK(result.interrupted_creates == 1);
    REQUIRE(state.resources.size() == 1);
    CHECK(state.resources[0].status == ResourceStatus::processing);
    CHECK(state.resources[0].remote_id.empty());
  }

  TEST_CASE("an update with no result leaves the resource processing, with what was observed "
            "before it") {
    TempDir dir;
    std::string state_path = (dir / "s.json").string();
    State state;
    state.resources = {bucket("cut", "1"), bucket("done", "2")};
    state.resources[0].observed = {{"status", "HALTED"}};
    {
      Journal j(state_path);
      j.begin(state, "apply");
      j.updating(R"(bucket["cut"])", {{"status", "RUNNING"}});
      j.updating(R"(bucket["done"])", {{"status", "RUNNING"}});
      ResourceState done = bucket("done", "2");
      done.observed = {{"status", "RUNNING"}, {"memory", 4096}};
      j.recorded(done);
    }
    ReplayResult result = replay_journal(state_path, state);
    CHECK(result.records == 4);
    REQUIRE(state.resources.size() == 2);
    CHECK(state.resources[0].status == ResourceStatus::processing);
    CHECK(state.resources[0].remote_id == "1");
    CHECK(state.resources[0].observed ==
          json{{"status", "HALTED"}, {"interrupted_update", {{"status", "RUNNING"}}}});
    // The update that finished replaced the record, marker and all.
    CHECK(state.resources[1].status == ResourceStatus::completed);
    CHECK(state.resources[1].observed == json{{"status", "RUNNING"}, {"memory", 4096}});
  }

  TEST_CASE("a record cut short by a crash is ignored") {
    TempDir dir;
    std::string state_path = (dir / "s.json").string();
    State state;
    {
      Journal j(state_path);
      j.begin(state, "apply");
      j.recorded(bucket("whole", "1"));
    }
    {
      std::ofstream out(journal_path_for(state_path), std::ios::app);
      out << R"({"t":"recorded","resource":{"address":"bu)";
    }
    ReplayResult result = replay_journal(state_path, state);
    CHECK(result.truncated_tail);
    CHECK(result.records == 2);
    REQUIRE(state.resources.size() == 1);
    CHECK(state.resources[0].remote_id == "1");
  }

  TEST_CASE("a journal of another lineage is refused") {
    TempDir dir;
    std::string state_path = (dir / "s.json").string();
    State other;
    other.lineage = "00000000-0000-4000-8000-00000000000a";
    {
      Journal j(state_path);
      j.begin(other, "apply");
    }
    State state;
    state.lineage = "00000000-0000-4000-8000-00000000000b";
    CHECK_THROWS_WITH_AS(replay_journal(state_path, state),
                         doctest::Contains("the journal belongs to state lineage "
                                           "00000000-0000-4000-8000-00000000000a"),
                         Error);
  }

  TEST_CASE("no journal: nothing changes") {
    TempDir dir;
    State state;
    state.resources = {bucket("a", "1")};
    ReplayResult result = replay_journal((dir / "s.json").string(), state);
    CHECK_FALSE(result.found);
    CHECK(state.resources.size() == 1);
  }

  TEST_CASE("concurrent appends all land, one whole line each") {
    TempDir dir;
    std::string state_path = (dir / "s.json").string();
    {
      Journal j(state_path);
      std::vector<std::thread> threads;
      for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&j, t] {
          for (int i = 0; i < 50; ++i) {
            j.recorded(bucket(fmt::format("b{}-{}", t, i), std::to_string(i + 1)));
          }
        });
      }
      for (auto& t : threads) {
        t.join();
      }
      CHECK(j.records() == 400);
    }
    State state;
    ReplayResult result = replay_journal(state_path, state);
    CHECK(result.records == 400);
    CHECK(state.resources.size() == 400);
    CHECK_FALSE(result.truncated_tail);
  }

  TEST_CASE("remove deletes the file") {
    TempDir dir;
    std::string state_path = (dir / "s.json").string();
    Journal j(state_path);
    j.deleted("x");
    CHECK(std::filesystem::exists(journal_path_for(state_path)));
    j.remove();
    CHECK_FALSE(std::filesystem::exists(journal_path_for(state_path)));
  }
}
