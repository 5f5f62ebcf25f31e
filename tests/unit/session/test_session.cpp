// The session layer, driven as a service would drive it: no binary, no
// terminal. Real adapters over real HTTP against a sandbox started in this
// process; a recording reporter keeps every event, and the tests assert
// them in order along with the state and the cloud.

#include "session/session.hpp"

#include "plan/inputs.hpp"
#include "providers/sandbox_provider.hpp"
#include "sandbox/server.hpp"
#include "state/state_edit.hpp"
#include "state/statefile.hpp"
#include "util/error.hpp"

#include "support/printing.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <httplib.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using namespace stove;
using stove::test::TempDir;

namespace {

// Every event, as "type address" (or "type: message" for notes), in order.
class RecordingReporter final : public session::Reporter {
public:
  void report(const session::Event& event) override {
    std::lock_guard lock(m_mutex);
    std::string line(session::to_string(event.type));
    if (event.type == session::EventType::note) {
      line += ": " + event.message;
    } else if (!event.address.empty()) {
      line += " " + event.address;
    }
    if (event.type == session::EventType::summary) {
      const ApplyResult& r = *event.result;
      line += fmt::format(" +{} ~{} -{} failed {} skipped {}", r.added, r.changed, r.destroyed,
                          r.failed.size(), r.skipped.size());
    }
    if (event.type == session::EventType::planned) {
      const PlanSummary s = event.plan->summary();
      line += fmt::format(" +{} ~{} -{}", s.add, s.change, s.destroy);
    }
    if (event.type == session::EventType::refreshed) {
      line += fmt::format(" {} drifted", event.drift->drift.size());
    }
    events.push_back(std::move(line));
  }
  // The events but still_running ones (their number depends on timing).
  std::vector<std::string> steady() const {
    std::vector<std::string> out;
    for (const auto& e : events) {
      if (!e.starts_with("operation_progress")) {
        out.push_back(e);
      }
    }
    return out;
  }
  std::vector<std::string> events;

private:
  std::mutex m_mutex;
};

class Refuse final : public session::Approver {
public:
  bool approve(session::Question question, const Plan*) override {
    asked.push_back(question);
    return false;
  }
  std::vector<session::Question> asked;
};

constexpr const char* k_token = "session-test-token";

const char* const k_file = R"(providers:
  cloud:
    type: sandbox
    endpoint: {url}
resources:
  - type: cloud_space
    name: web
    location_id: 1
    machines:
      - name: app
        image_id: 12
        memory: 2048
        vcpus: 2
        disk_boot_size: 20
        backups:
          - name: app-nightly
            schedule: Level=Incremental mon-sat at 02:00
            fileset: [/etc]
            retention_days: 7
{broken}  - type: bucket
    name: assets
)";

// A machine whose image the cloud does not have: its create fails, and the
// backup it carries is skipped.
const char* const k_broken = R"(      - name: broken
        image_id: 100
        memory: 1024
        vcpus: 1
        disk_boot_size: 10
        backups:
          - name: broken-nightly
            schedule: Level=Full sun at 03:00
            fileset: [/etc]
            retention_days: 7
)";

struct Fixture {
  TempDir dir;
  std::unique_ptr<sandbox::Server> cloud;
  std::string state_path = (dir / "state" / "infra.json").string();
  RecordingReporter reporter;

  Fixture() {
    sandbox::Options o;
    o.data_dir = (dir / "cloud").string();
    o.token = k_token;
    o.deploy_delay = 0ms;
    o.job_duration = 50ms;
    o.threads = 8;
    cloud = std::make_unique<sandbox::Server>(o);
    cloud->start();
  }

  std::string file(bool broken) const {
    std::string text = fmt::format(fmt::runtime(k_file), fmt::arg("url", cloud->url()),
                                   fmt::arg("broken", broken ? k_broken : ""));
    return dir.write("infra.yaml", text);
  }

  std::unique_ptr<session::Session> session(int parallelism = 1) {
    session::SessionOptions options;
    options.state_path = state_path;
    options.reporter = &reporter;
    options.parallelism = parallelism;
    options.make_provider = [](const ProviderConfig& config,
                               const providers::ProviderOptions& given) {
      providers::ProviderOptions with_token = given;
      with_token.environment = [](std::string_view name) -> std::optional<std::string> {
        if (name == providers::k_sandbox_token_variable) {
          return std::string(k_token);
        }
        return std::nullopt;
      };
      return providers::make_provider(config, with_token);
    };
    return std::make_unique<session::Session>(std::move(options));
  }

  session::ApplyOutcome apply(bool broken, bool destroy = false) {
    session::ApplyRequest request;
    request.file = file(broken);
    request.destroy = destroy;
    session::AlwaysApprove yes;
    return session()->apply(std::move(request), yes);
  }

  const ResourceState* record(const State& state, const std::string& address) const {
    for (const auto& r : state.resources) {
      if (r.address == address) {
        return &r;
      }
    }
    return nullptr;
  }
  // The record points into the state: a temporary one would leave it dangling.
  const ResourceState* record(State&& state, const std::string& address) const = delete;

  // A change behind stove's back, through the sandbox's admin endpoint.
  void admin_post(const std::string& path, const std::string& body) const {
    httplib::Client client("127.0.0.1", cloud->port());
    httplib::Headers headers{{"Authorization", fmt::format("Bearer {}", k_token)}};
    auto res = client.Post("/sandbox/admin/" + path, headers, body, "application/json");
    REQUIRE(res);
    REQUIRE(res->status == 200);
  }
};

const std::string k_space = R"(cloud_space["web"])";
const std::string k_app = R"(cloud_space["web"].machine["app"])";
const std::string k_app_backup = R"(cloud_space["web"].machine["app"].backup["app-nightly"])";
const std::string k_broken_machine = R"(cloud_space["web"].machine["broken"])";
const std::string k_broken_backup =
    R"(cloud_space["web"].machine["broken"].backup["broken-nightly"])";
const std::string k_bucket = R"(bucket["assets"])";

} // namespace

TEST_SUITE("session") {
  TEST_CASE("apply with a partial failure reports every operation in order and records what succeeded") {
    Fixture f;
    session::ApplyOutcome outcome = f.apply(true);
    CHECK(outcome.status == session::ApplyStatus::applied);
    CHECK_FALSE(outcome.ok());
    CHECK(outcome.result.failed.size() == 1);
    CHECK(f.reporter.steady() ==
          std::vector<std::string>{
              "planned +6 ~0 -0",
              "apply_start",
              "operation_start " + k_space,
              "operation_complete " + k_space,
              "operation_start " + k_bucket,
              "operation_complete " + k_bucket,
              "operation_start " + k_app,
              "operation_complete " + k_app,
              "operation_start " + k_broken_machine,
              "operation_errored " + k_broken_machine,
              "operation_skipped " + k_broken_backup,
              "operation_start " + k_app_backup,
              "operation_complete " + k_app_backup,
              "summary +4 ~0 -0 failed 1 skipped 1",
          });
    State state = load_state(f.state_path);
    CHECK(state.resources.size() == 5);  // the failed machine's record stays, not completed
    REQUIRE(f.record(state, k_app) != nullptr);
    CHECK(f.record(state, k_app)->status == ResourceStatus::completed);
    REQUIRE(f.record(state, k_broken_machine) != nullptr);
    CHECK(f.record(state, k_broken_machine)->status != ResourceStatus::completed);
    CHECK(f.record(state, k_broken_backup) == nullptr);
    CHECK_FALSE(std::filesystem::exists(f.state_path + ".journal"));

    // Without the broken machine the next run converges: it deletes what
    // the failed create left and changes nothing else.
    f.reporter.events.clear();
    session::ApplyOutcome second = f.apply(false);
    CHECK(second.ok());
    State after = load_state(f.state_path);
    CHECK(after.resources.size() == 4);
    CHECK(f.record(after, k_broken_machine) == nullptr);
  }

  TEST_CASE("destroy reports each delete, children first, and leaves an empty state") {
    Fixture f;
    REQUIRE(f.apply(false).ok());
    f.reporter.events.clear();
    session::ApplyOutcome outcome = f.apply(false, true);
    CHECK(outcome.ok());
    CHECK(f.reporter.steady() == std::vector<std::string>{
                                     "planned +0 ~0 -4",
                                     "apply_start",
                                     "operation_start " + k_bucket,
                                     "operation_complete " + k_bucket,
                                     "operation_start " + k_app_backup,
                                     "operation_complete " + k_app_backup,
                                     "operation_start " + k_app,
                                     "operation_complete " + k_app,
                                     "operation_start " + k_space,
                                     "operation_complete " + k_space,
                                     "summary +0 ~0 -4 failed 0 skipped 0",
                                 });
    CHECK(load_state(f.state_path).resources.empty());
  }

  TEST_CASE("a plan the approver refuses changes nothing, in the cloud or the state") {
    Fixture f;
    Refuse no;
    session::ApplyRequest request;
    request.file = f.file(false);
    session::ApplyOutcome outcome = f.session()->apply(std::move(request), no);
    CHECK(outcome.status == session::ApplyStatus::cancelled);
    CHECK(no.asked == std::vector<session::Question>{session::Question::apply});
    CHECK(f.reporter.events == std::vector<std::string>{"planned +4 ~0 -0", "cancelled"});
    CHECK(f.cloud->counters().mutating == 0);
    CHECK_FALSE(load_state(f.state_path).exists);
  }

  TEST_CASE("refresh reports what changed outside of stove and records it once approved") {
    Fixture f;
    REQUIRE(f.apply(false).ok());
    State before = load_state(f.state_path);
    const uint64_t mutating = f.cloud->counters().mutating;
    f.admin_post("machines/" + f.record(before, k_app)->remote_id, R"({"memory": 4096})");
    f.reporter.events.clear();

    Refuse no;
    session::RefreshOutcome refused = f.session()->refresh(f.file(false), no);
    CHECK(refused.status == session::RefreshStatus::cancelled);
    CHECK(load_state(f.state_path).serial == before.serial);

    session::AlwaysApprove yes;
    session::RefreshOutcome outcome = f.session()->refresh(f.file(false), yes);
    CHECK(outcome.status == session::RefreshStatus::recorded);
    CHECK(outcome.updated == 1);
    CHECK(outcome.forgotten == 0);
    CHECK(f.reporter.events == std::vector<std::string>{"refreshed 1 drifted", "cancelled",
                                                        "refreshed 1 drifted"});
    State after = load_state(f.state_path);
    CHECK(f.record(after, k_app)->spec.at("memory") == 4096);
    CHECK(f.cloud->counters().mutating == mutating); // the cloud is only read
  }

  TEST_CASE("exec runs an action, reports it and records what it observed") {
    Fixture f;
    REQUIRE(f.apply(false).ok());
    f.reporter.events.clear();
    const KindSchema& schema = schema_of(Kind::machine);
    session::ExecRequest request{f.file(false), *parse_address(k_app), &find_action(schema, "stop"),
                                 action_params(schema, find_action(schema, "stop"), std::vector<std::string>{}), 1min};
    session::ExecOutcome outcome = f.session()->exec(request);
    REQUIRE(outcome.valid);
    CHECK(outcome.result.ok);
    CHECK(outcome.result.recorded);
    CHECK(f.reporter.events.front() == "exec_start " + k_app);
    CHECK(outcome.observed.at("status") == "HALTED");
    const State after = load_state(f.state_path);
    CHECK(f.record(after, k_app)->observed.at("status") == "HALTED");
  }

  TEST_CASE("import binds an object the state forgot, and a state edit folds in a journal first") {
    Fixture f;
    REQUIRE(f.apply(false).ok());
    f.session()->edit_state("state rm", [&](State& state) {
      remove_resources(state, f.state_path, {*parse_address(k_bucket)}, false);
    });
    const State forgotten = load_state(f.state_path);
    REQUIRE(f.record(forgotten, k_bucket) == nullptr);
    f.reporter.events.clear();

    session::ImportOutcome outcome =
        f.session()->import(f.file(false), *parse_address(k_bucket), "assets");
    REQUIRE(outcome.valid);
    CHECK(f.reporter.events ==
          std::vector<std::string>{"import_start " + k_bucket, "imported " + k_bucket});
    const State after = load_state(f.state_path);
    const ResourceState* bucket = f.record(after, k_bucket);
    REQUIRE(bucket != nullptr);
    CHECK(bucket->remote_id == "assets");
  }

  TEST_CASE("a file with errors is reported and nothing is locked, refreshed or written") {
    Fixture f;
    const std::string bad = f.dir.write("bad.yaml", "resources:\n  - type: cloud_spice\n");
    session::ApplyRequest request;
    request.file = bad;
    session::AlwaysApprove yes;
    session::ApplyOutcome outcome = f.session()->apply(std::move(request), yes);
    CHECK(outcome.status == session::ApplyStatus::invalid_file);
    CHECK(f.reporter.events == std::vector<std::string>{"diagnostic"});
    CHECK_FALSE(load_state(f.state_path).exists);
    CHECK(f.cloud->counters().requests == 0);
  }
}
