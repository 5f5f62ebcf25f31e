// The apply engine's walk, against an in-memory cloud: ordering, parents'
// ids, failure isolation, the parallelism cap, interrupts and adoption. The
// adapters' HTTP side is tested against the sandbox elsewhere.

#include "apply/engine.hpp"

#include "util/error.hpp"
#include "plan/plan_fixtures.hpp"
#include "state/journal.hpp"
#include "state/statefile.hpp"

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace stove;
using stove::test::config_from;
using stove::test::k_estate;
using stove::test::state_from;
using stove::test::TempDir;

namespace {

// A cloud in memory: objects by id, and a log of calls.
class MemoryCloud final : public providers::KindAdapter, public providers::Provider {
public:
  std::mutex mutex;
  std::map<std::string, std::string> objects;  // id -> "kind name parent-id"
  std::vector<std::string> calls;
  std::set<std::string> fail_names;            // creates of these names fail
  std::set<std::string> taken_names;           // creates of these are refused, nothing made
  std::set<std::string> undeletable_ids;       // deletes of these fail, the object stays
  std::chrono::milliseconds delay{0};
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  std::vector<bool> adopt_flags;
  int next_id = 1;

  providers::KindAdapter* adapter(Kind) override { return this; }
  http::Stats stats() const override { return {}; }

  std::optional<providers::Remote> read(const providers::Target&,
                                        const providers::OpContext&) override {
    return std::nullopt;
  }

  std::string describe(const providers::Target& t) {
    return fmt::format("{} {} {}", to_string(t.kind), t.spec.value("name", ""),
                       t.parents.empty() ? "-" : t.parents.front().remote_id);
  }

  providers::Remote create(const providers::Target& t, const providers::OpContext&) override {
    Busy busy(*this);
    std::lock_guard lock(mutex);
    calls.push_back("create " + describe(t));
    adopt_flags.push_back(t.adopt);
    if (fail_names.count(t.spec.value("name", "")) != 0) {
      throw providers::ProviderError("create refused: quota exceeded", 400);
    }
    if (taken_names.count(t.spec.value("name", "")) != 0 && !t.adopt) {
      throw providers::NothingCreated("the name is taken by an object stove does not manage", 409);
    }
    if (t.adopt) {
      for (const auto& [id, what] : objects) {
        if (what == describe(t)) {
          return {id, {{"name", t.spec.value("name", "")}}};
        }
      }
    }
    std::string id = std::to_string(next_id++);
    objects[id] = describe(t);
    return {id, {{"name", t.spec.value("name", "")}}};
  }

  providers::Remote update(const providers::Target& t, const providers::OpContext&) override {
    Busy busy(*this);
    std::lock_guard lock(mutex);
    calls.push_back("update " + t.remote_id);
    return {t.remote_id, {}};
  }

  void destroy(const providers::Target& t, const providers::OpContext&) override {
    Busy busy(*this);
    std::lock_guard lock(mutex);
    calls.push_back("destroy " + t.remote_id);
    if (undeletable_ids.count(t.remote_id) != 0) {
      throw providers::ProviderError("bucket is not empty", 409);
    }
    objects.erase(t.remote_id);
  }

  std::optional<providers::Remote> find(const providers::Target& t,
                                        const providers::OpContext&) override {
    std::lock_guard lock(mutex);
    calls.push_back("find " + describe(t));
    for (const auto& [id, what] : objects) {
      if (what == describe(t)) {
        return providers::Remote{id, {}};
      }
    }
    return std::nullopt;
  }

  std::vector<providers::Remote> list(const std::vector<providers::Parent>&,
                                      const providers::OpContext&) override {
    return {};
  }

private:
  struct Busy {
    explicit Busy(MemoryCloud& c) : cloud(c) {
      int now = ++cloud.in_flight;
      int seen = cloud.max_in_flight.load();
      while (now > seen && !cloud.max_in_flight.compare_exchange_weak(seen, now)) {
      }
      if (cloud.delay.count() > 0) {
        std::this_thread::sleep_for(cloud.delay);
      }
    }
    ~Busy() { --cloud.in_flight; }
    MemoryCloud& cloud;
  };
};

struct Fixture {
  TempDir dir;
  std::string state_path = (dir / "state.json").string();
  MemoryCloud cloud;
  ProviderSet providers{{implicit_sandbox_provider()},
                        [this](const ProviderConfig&) {
                          // The set owns what it makes; hand it a forwarding shell.
                          struct Shell final : providers::Provider {
                            explicit Shell(MemoryCloud& c) : cloud(c) {}
                            providers::KindAdapter* adapter(Kind) override { return &cloud; }
                            http::Stats stats() const override { return {}; }
                            MemoryCloud& cloud;
                          };
                          return std::make_unique<Shell>(cloud);
                        }};

  ApplyResult apply(const Plan& plan, State& state, ApplyOptions options = {}) {
    Journal journal(state_path);
    journal.begin(state, "apply");
    return apply_plan(plan, state, providers, journal, options);
  }
};

const ResourceState* find(const State& state, const std::string& address) {
  for (const auto& r : state.resources) {
    if (r.address == address) {
      return &r;
    }
  }
  return nullptr;
}

} // namespace

TEST_SUITE("apply_plan") {
  TEST_CASE("creates parents first and hands children their parent's remote id") {
    Fixture f;
    State state;
    Plan plan = make_plan(config_from(k_estate), state, f.state_path);
    ApplyResult result = f.apply(plan, state);
    CHECK(result.ok());
    CHECK(result.added == 5);
    REQUIRE(state.resources.size() == 5);
    const ResourceState* space = find(state, R"(cloud_space["web"])");
    const ResourceState* machine = find(state, R"(cloud_space["web"].machine["app"])");
    REQUIRE(space != nullptr);
    REQUIRE(machine != nullptr);
    CHECK(machine->parent == space->address);
    CHECK(machine->status == ResourceStatus::completed);
    // The machine's create saw the space's id as its parent.
    std::string expected = fmt::format("create machine app {}", space->remote_id);
    CHECK(std::find(f.cloud.calls.begin(), f.cloud.calls.end(), expected) != f.cloud.calls.end());
    // A second plan of the same file against the result has nothing to do.
    CHECK_FALSE(make_plan(config_from(k_estate), state, f.state_path).summary().has_changes());
  }

  TEST_CASE("a failed delete leaves the record exactly as it was") {
    Fixture f;
    State state;
    ApplyResult created =
        f.apply(make_plan(config_from("- {type: bucket, name: logs}\n"), state, f.state_path), state);
    REQUIRE(created.ok());
    REQUIRE(state.resources.size() == 1);
    const ResourceState before = state.resources[0];
    f.cloud.undeletable_ids = {before.remote_id};
    ApplyResult deleted = f.apply(make_plan(config_from("[]\n"), state, f.state_path), state);
    CHECK_FALSE(deleted.ok());
    REQUIRE(deleted.failed.size() == 1);
    CHECK(deleted.failed[0].message == "bucket is not empty");
    REQUIRE(state.resources.size() == 1);
    CHECK(state.resources[0].status == ResourceStatus::completed);
    CHECK(state.resources[0].remote_id == before.remote_id);
    CHECK(state.resources[0].spec == before.spec);
    // Put back in the file, it is what it was: nothing to do.
    CHECK_FALSE(make_plan(config_from("- {type: bucket, name: logs}\n"), state, f.state_path)
                    .summary()
                    .has_changes());
  }

  TEST_CASE("a failed create skips its dependents and lets independent branches finish") {
    Fixture f;
    f.cloud.fail_names = {"app"};
    State state;
    Plan plan = make_plan(config_from(k_estate), state, f.state_path);
    ApplyResult result = f.apply(plan, state);
    CHECK_FALSE(result.ok());
    REQUIRE(result.failed.size() == 1);
    CHECK(result.failed[0].address == R"(cloud_space["web"].machine["app"])");
    CHECK(result.failed[0].message == "create refused: quota exceeded");
    CHECK(result.skipped ==
          std::vector<std::string>{R"(cloud_space["web"].machine["app"].backup["nightly"])"});
    CHECK(result.added == 3);  // web, db, assets
    CHECK(find(state, R"(cloud_space["db"])")->status == ResourceStatus::completed);
    CHECK(find(state, R"(bucket["assets"])")->status == ResourceStatus::completed);
    // The failed create is recorded as such, with no remote id.
    const ResourceState* app = find(state, R"(cloud_space["web"].machine["app"])");
    REQUIRE(app != nullptr);
    CHECK(app->status == ResourceStatus::failed);
    CHECK(app->remote_id.empty());
    CHECK(find(state, R"(cloud_space["web"].machine["app"].backup["nightly"])") == nullptr);

    // The journal alone tells the same story.
    State replayed;
    ReplayResult replay = replay_journal(f.state_path, replayed);
    CHECK(replay.found);
    CHECK(replayed.resources.size() == state.resources.size());
    CHECK(find(replayed, R"(cloud_space["web"].machine["app"])")->status ==
          ResourceStatus::failed);

    // Once the cause is gone, a re-run converges: the failed create is made
    // again (adopting if it had got through), then its backup.
    f.cloud.fail_names.clear();
    Plan again = make_plan(config_from(k_estate), state, f.state_path);
    CHECK(again.summary().add == 2);
    ApplyResult second = f.apply(again, state);
    CHECK(second.ok());
    CHECK(second.added == 2);
    CHECK(f.cloud.adopt_flags.back() == false);  // the backup was never tried before
    CHECK_FALSE(make_plan(config_from(k_estate), state, f.state_path).summary().has_changes());
  }

  TEST_CASE("a create refused before anything was made leaves no record to adopt later") {
    Fixture f;
    f.cloud.taken_names = {"assets"};
    f.cloud.objects["41"] = "bucket assets -";  // someone else's
    State state;
    const std::string file = "- {type: bucket, name: assets}\n- {type: bucket, name: logs}\n";
    Plan plan = make_plan(config_from(file), state, f.state_path);
    ApplyResult result = f.apply(plan, state);
    CHECK_FALSE(result.ok());
    REQUIRE(result.failed.size() == 1);
    CHECK(result.failed[0].address == R"(bucket["assets"])");
    CHECK(result.failed[0].message == "the name is taken by an object stove does not manage");
    CHECK(result.added == 1);
    REQUIRE(state.resources.size() == 1);
    CHECK(state.resources[0].address == R"(bucket["logs"])");
    // The journal agrees.
    State replayed;
    replay_journal(f.state_path, replayed);
    REQUIRE(replayed.resources.size() == 1);
    CHECK(replayed.resources[0].address == R"(bucket["logs"])");

    // The next run tries a plain create again, not an adoption; destroy
    // leaves the other object alone.
    Plan again = make_plan(config_from(file), state, f.state_path);
    REQUIRE(again.summary().add == 1);
    for (const auto& change : again.changes) {
      if (change.address == R"(bucket["assets"])") {
        CHECK(change.action == Action::create);
        CHECK(change.reason != ChangeReason::status_incomplete);
      }
    }
    CHECK_FALSE(f.apply(again, state).ok());
    CHECK(f.cloud.adopt_flags == std::vector<bool>{false, false, false});
    Plan teardown = make_destroy_plan(config_from(file), State(state), f.state_path);
    CHECK(f.apply(teardown, state).ok());
    CHECK(f.cloud.objects == std::map<std::string, std::string>{{"41", "bucket assets -"}});
  }

  TEST_CASE("an interrupted create is adopted instead of made twice") {
    Fixture f;
    State state;
    Plan plan = make_plan(config_from("- {type: bucket, name: assets}\n"), state, f.state_path);
    // The first run died after the provider made the bucket and before the
    // result was recorded: the journal holds only the intent.
    {
      Journal journal(f.state_path);
      journal.begin(state, "apply");
      ResourceState intent;
      intent.address = R"(bucket["assets"])";
      intent.kind = "bucket";
      intent.provider = "sandbox";
      intent.spec = plan.changes[0].after;
      intent.status = ResourceStatus::processing;
      journal.intent(intent);
    }
    f.cloud.objects["41"] = "bucket assets -";
    State recovered;
    ReplayResult replay = replay_journal(f.state_path, recovered);
    CHECK(replay.interrupted_creates == 1);
    REQUIRE(recovered.resources.size() == 1);
    CHECK(recovered.resources[0].status == ResourceStatus::processing);
    std::remove(journal_path_for(f.state_path).c_str());

    Plan again = make_plan(config_from("- {type: bucket, name: assets}\n"), recovered,
                           f.state_path);
    REQUIRE(again.changes.size() == 1);
    CHECK(again.changes[0].action == Action::create);
    CHECK(again.changes[0].reason == ChangeReason::status_incomplete);
    ApplyResult result = f.apply(again, recovered);
    CHECK(result.ok());
    CHECK(f.cloud.adopt_flags == std::vector<bool>{true});
    CHECK(f.cloud.objects.size() == 1);
    CHECK(recovered.resources[0].remote_id == "41");
  }

  TEST_CASE("no more than --parallelism operations run at once") {
    Fixture f;
    f.cloud.delay = std::chrono::milliseconds(20);
    std::string file;
    for (int i = 0; i < 24; ++i) {
      file += fmt::format("- {{type: bucket, name: bucket-{}}}\n", i);
    }
    State state;
    Plan plan = make_plan(config_from(file), state, f.state_path);
    ApplyOptions options;
    options.parallelism = 4;
    ApplyResult result = f.apply(plan, state, options);
    CHECK(result.ok());
    CHECK(result.added == 24);
    CHECK(f.cloud.max_in_flight.load() == 4);
  }

  TEST_CASE("after an interrupt nothing new starts and the rest is reported not started") {
    Fixture f;
    f.cloud.delay = std::chrono::milliseconds(50);
    std::string file;
    for (int i = 0; i < 6; ++i) {
      file += fmt::format("- {{type: bucket, name: bucket-{}}}\n", i);
    }
    State state;
    Plan plan = make_plan(config_from(file), state, f.state_path);
    std::atomic<bool> stop{false};
    ApplyOptions options;
    options.parallelism = 2;
    options.stop = &stop;
    options.on_progress = [&](const Progress& p) {
      if (p.event == ProgressEvent::started) {
        stop.store(true);  // as if Ctrl-C came with the first operation
      }
    };
    ApplyResult result = f.apply(plan, state, options);
    CHECK(result.interrupted);
    CHECK(result.added >= 1);
    CHECK(result.added <= 2);
    CHECK(result.added + result.not_started.size() == 6);
    CHECK(state.resources.size() == result.added);
  }

  TEST_CASE("destroy removes children before their parents") {
    Fixture f;
    State state;
    Plan create = make_plan(config_from(k_estate), state, f.state_path);
    REQUIRE(f.apply(create, state).ok());
    f.cloud.calls.clear();
    std::string space = find(state, R"(cloud_space["web"])")->remote_id;
    std::string machine = find(state, R"(cloud_space["web"].machine["app"])")->remote_id;
    std::string backup =
        find(state, R"(cloud_space["web"].machine["app"].backup["nightly"])")->remote_id;
    Plan destroy = make_destroy_plan(config_from(k_estate), State(state), f.state_path);
    ApplyResult result = f.apply(destroy, state);
    CHECK(result.ok());
    CHECK(result.destroyed == 5);
    CHECK(state.resources.empty());
    CHECK(f.cloud.objects.empty());
    auto position = [&](const std::string& id) {
      return std::find(f.cloud.calls.begin(), f.cloud.calls.end(), "destroy " + id) -
             f.cloud.calls.begin();
    };
    CHECK(position(backup) < position(machine));
    CHECK(position(machine) < position(space));
    CHECK(position(space) < static_cast<long>(f.cloud.calls.size()));
  }
}

TEST_SUITE("make_destroy_plan") {
  TEST_CASE("destroys everything in the state, and prevent_destroy in the file refuses it") {
    State state = state_from(config_from(k_estate));
    Plan plan = make_destroy_plan(config_from(k_estate), State(state), "s.json");
    CHECK(plan.summary().destroy == 5);
    CHECK(plan.summary().add == 0);
    std::string guarded = k_estate;
    guarded.replace(guarded.find("  name: db\n"), 11,
                    "  name: db\n  lifecycle: {prevent_destroy: true}\n");
    CHECK_THROWS_WITH_AS(
        make_destroy_plan(config_from(guarded), State(state), "s.json"),
        "infra.yaml:12:3: error: cloud_space[\"db\"] has lifecycle.prevent_destroy set, but this "
        "plan would destroy it; remove prevent_destroy from the file first if it is really "
        "meant to go",
        Error);
  }
}

TEST_SUITE("progress lines") {
  TEST_CASE("read like terraform's") {
    Progress p;
    p.address = R"(cloud_space["web"].machine["app"])";
    CHECK(format_progress(p) == R"(cloud_space["web"].machine["app"]: Creating...)");
    p.event = ProgressEvent::still_running;
    p.elapsed = std::chrono::seconds(12);
    CHECK(format_progress(p) ==
          R"(cloud_space["web"].machine["app"]: Still creating... [12s elapsed])");
    p.event = ProgressEvent::succeeded;
    p.elapsed = std::chrono::seconds(14);
    p.remote_id = "7";
    CHECK(format_progress(p) ==
          R"(cloud_space["web"].machine["app"]: Creation complete after 14s [id=7])");
    p.action = Action::destroy;
    p.phase = Phase::destroy;
    p.event = ProgressEvent::started;
    CHECK(format_progress(p) == R"(cloud_space["web"].machine["app"]: Destroying... [id=7])");
    p.event = ProgressEvent::failed;
    p.elapsed = std::chrono::seconds(1);
    p.message = "404";
    CHECK(format_progress(p) ==
          R"(cloud_space["web"].machine["app"]: Destruction failed after 1s: 404)");
  }

  TEST_CASE("the summary names what failed and what was skipped") {
    ApplyResult ok;
    ok.added = 3;
    ok.changed = 1;
    CHECK(format_apply_summary(ok, false) ==
          "Apply complete! Resources: 3 added, 1 changed, 0 destroyed.\n");
    ApplyResult partial;
    partial.added = 2;
    partial.failed = {{"a", "boom"}};
    partial.skipped = {"b"};
    CHECK(format_apply_summary(partial, false) ==
          "Apply incomplete! Resources: 2 added, 0 changed, 0 destroyed; 1 failed, 1 skipped.\n"
          "  failed:      a: boom\n"
          "  skipped:     b (a resource it needs failed)\n"
          "What succeeded is recorded in the state; run the same command again to finish.\n");
  }
}
