// stove apply and destroy end to end: the built binary against `stove
// sandbox serve` on loopback, through the OpenVCloud adapter over real HTTP.

#include "support/background.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace stove::test;
using Json = nlohmann::json;

namespace {

struct Machine {
  Machine(std::string name_, int image, int memory_mb, int cpus, int disk_gb,
          std::string depends = {})
    : name(std::move(name_)), image_id(image), memory(memory_mb), vcpus(cpus), disk(disk_gb),
      depends_on(std::move(depends)) {}
  std::string name;
  int image_id;
  int memory;
  int vcpus;
  int disk;
  std::string depends_on;  // another machine's name in the same space, if any
};

struct Space {
  std::string name;
  std::vector<Machine> machines;
};

std::string infra(const std::string& url, const std::vector<Space>& spaces) {
  std::string out = fmt::format(R"(providers:
  cloud:
    type: openvcloud
    endpoint: {}
    account_id: 1
    access: stove@example      # the sandbox's token is no JWT naming its user
resources:
)",
                                url);
  for (const auto& s : spaces) {
    out += fmt::format("  - type: cloud_space\n    name: {}\n    location_id: 1\n", s.name);
    if (s.machines.empty()) {
      continue;
    }
    out += "    machines:\n";
    for (const auto& m : s.machines) {
      out += fmt::format("      - {{name: {}, image_id: {}, memory: {}, vcpus: {}, "
                         "disk_boot_size: {}",
                         m.name, m.image_id, m.memory, m.vcpus, m.disk);
      if (!m.depends_on.empty()) {
        out += fmt::format(", depends_on: ['cloud_space[\"{}\"].machine[\"{}\"]']", s.name,
                           m.depends_on);
      }
      out += "}\n";
    }
  }
  return out;
}

// One test's world: a sandbox, a file, a state.
struct World {
  TempDir dir;
  std::unique_ptr<SandboxProcess> sandbox;
  std::string file = (dir / "infra.yaml").string();
  std::string state = (dir / "infra.state.json").string();

  explicit World(const std::vector<std::string>& sandbox_flags = {"--deploy-delay", "50"}) {
    sandbox = std::make_unique<SandboxProcess>((dir / "cloud").string(), sandbox_flags);
  }

  // The same cloud, served again without fault injection, to inspect it.
  void restart_sandbox() {
    REQUIRE(sandbox->stop() == 0);
    sandbox = std::make_unique<SandboxProcess>((dir / "cloud").string(),
                                               std::vector<std::string>{});
  }

  void write(const std::vector<Space>& spaces) const {
    dir.write("infra.yaml", infra(sandbox->url(), spaces));
  }

  RunResult stove(std::vector<std::string> args, RunOptions options = {}) const {
    options.env["STOVE_OVC_TOKEN"] = sandbox->token();
    return run_stove(args, options);
  }

  RunResult apply(std::vector<std::string> extra = {}) const {
    std::vector<std::string> args{"--no-color", "apply", "--auto-approve", "--state", state};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(file);
    return stove(args);
  }

  int plan_exit() const {
    return stove({"plan", "--detailed-exitcode", "--state", state, file}).exit_code;
  }

  Json state_json() const { return Json::parse(read_file(state)); }

  const Json* resource(const Json& s, const std::string& address) const {
    for (const auto& r : s.at("resources")) {
      if (r.at("address") == address) {
        return &r;
      }
    }
    return nullptr;
  }

  Json call(const std::string& method, const Json& body) const {
    auto reply = sandbox->call(method, body.dump());
    REQUIRE_MESSAGE(reply.status == 200, method, " -> ", reply.status, " ", reply.body);
    return Json::parse(reply.body);
  }

  // The sandbox's view: space name -> {machine name -> machines/get}.
  std::map<std::string, std::map<std::string, Json>> cloud() const {
    std::map<std::string, std::map<std::string, Json>> out;
    for (const auto& space : call("cloudspaces/list", Json::object())) {
      auto& machines = out[space.at("name").get<std::string>()];
      for (const auto& m : call("machines/list", {{"cloudspaceId", space.at("id")}})) {
        std::string name = m.at("name").get<std::string>();
        REQUIRE_MESSAGE(machines.count(name) == 0, "duplicate machine ", name);
        machines[name] = call("machines/get", {{"machineId", m.at("id")}});
      }
    }
    return out;
  }

  Json counters() const {
    httplib::Client client("127.0.0.1", sandbox->port());
    auto res = client.Get("/sandbox/counters");
    REQUIRE(res);
    return Json::parse(res->body);
  }
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string remote_id(const Json& r) { return r.at("remote_id").get<std::string>(); }

} // namespace

TEST_SUITE("apply against stove sandbox serve") {
  TEST_CASE("lifecycle: create, update live and with stop/start, replace, delete, destroy") {
    World w;
    const std::string space = R"(cloud_space["web"])";
    const std::string app = R"(cloud_space["web"].machine["app"])";
    const std::string worker = R"(cloud_space["web"].machine["worker"])";

    // 1. create
    w.write({{"web", {{"app", 12, 2048, 2, 20}, {"worker", 12, 2048, 2, 10}}}});
    RunResult created = w.apply();
    INFO(created.out, created.err);
    REQUIRE(created.exit_code == 0);
    CHECK(contains(created.out, "Apply complete! Resources: 3 added, 0 changed, 0 destroyed.\n"));
    CHECK(contains(created.out, app + ": Creating...\n"));
    Json s1 = w.state_json();
    REQUIRE(s1.at("resources").size() == 3);
    std::string app_id = remote_id(*w.resource(s1, app));
    auto cloud = w.cloud();
    REQUIRE(cloud.size() == 1);
    REQUIRE(cloud["web"].size() == 2);
    CHECK(cloud["web"]["app"].at("id").dump() == app_id);
    CHECK(cloud["web"]["app"].at("status") == "RUNNING");
    CHECK(w.plan_exit() == 0);

    // 2. update in place: app grows (live), worker shrinks (stop/start)
    w.write({{"web", {{"app", 12, 4096, 4, 20}, {"worker", 12, 1024, 1, 10}}}});
    RunResult updated = w.apply();
    INFO(updated.out, updated.err);
    REQUIRE(updated.exit_code == 0);
    CHECK(contains(updated.out, "Apply complete! Resources: 0 added, 2 changed, 0 destroyed.\n"));
    cloud = w.cloud();
    CHECK(cloud["web"]["app"].at("memory") == 4096);
    CHECK(cloud["web"]["app"].at("vcpus") == 4);
    CHECK(cloud["web"]["worker"].at("memory") == 1024);
    CHECK(cloud["web"]["worker"].at("vcpus") == 1);
    CHECK(cloud["web"]["worker"].at("status") == "RUNNING");
    CHECK(remote_id(*w.resource(w.state_json(), app)) == app_id);
    CHECK(w.plan_exit() == 0);

    // 3. replace: a new image
    w.write({{"web", {{"app", 13, 4096, 4, 20}, {"worker", 12, 1024, 1, 10}}}});
    RunResult replaced = w.apply();
    INFO(replaced.out, replaced.err);
    REQUIRE(replaced.exit_code == 0);
    CHECK(contains(replaced.out, "Apply complete! Resources: 1 added, 0 changed, 1 destroyed.\n"));
    std::string new_app_id = remote_id(*w.resource(w.state_json(), app));
    CHECK(new_app_id != app_id);
    CHECK(w.sandbox->call("machines/get", fmt::format(R"({{"machineId": {}}})", app_id)).status ==
          404);
    cloud = w.cloud();
    CHECK(cloud["web"]["app"].at("id").dump() == new_app_id);
    CHECK(w.plan_exit() == 0);

    // 4. delete one machine
    w.write({{"web", {{"app", 13, 4096, 4, 20}}}});
    RunResult deleted = w.apply();
    INFO(deleted.out, deleted.err);
    REQUIRE(deleted.exit_code == 0);
    CHECK(contains(deleted.out, "Apply complete! Resources: 0 added, 0 changed, 1 destroyed.\n"));
    cloud = w.cloud();
    CHECK(cloud["web"].size() == 1);
    CHECK(w.resource(w.state_json(), worker) == nullptr);
    CHECK(w.plan_exit() == 0);

    // 5. destroy everything
    RunResult destroyed =
        w.stove({"--no-color", "destroy", "--auto-approve", "--state", w.state, w.file});
    INFO(destroyed.out, destroyed.err);
    REQUIRE(destroyed.exit_code == 0);
    CHECK(contains(destroyed.out, "Destroy complete! Resources: 2 destroyed.\n"));
    CHECK(w.call("cloudspaces/list", Json::object()).empty());
    CHECK(w.state_json().at("resources").empty());
    CHECK(w.stove({"plan", "--detailed-exitcode", "--state", w.state, w.file}).exit_code == 2);
  }

  TEST_CASE("destroy deletes machines before their cloud space, and stops at a machine stove "
            "does not manage, naming it") {
    World w;
    w.write({{"web", {{"app", 12, 1024, 1, 10}, {"db", 12, 1024, 1, 10}}}});
    REQUIRE(w.apply().exit_code == 0);
    Json s = w.state_json();
    std::string space_id = remote_id(*w.resource(s, R"(cloud_space["web"])"));

    // A machine made at the console: the G8 will not delete its space (409).
    httplib::Client admin("127.0.0.1", w.sandbox->port());
    auto stray = admin.Post(fmt::format("/sandbox/admin/cloudspaces/{}/machines", space_id),
                            {{"Authorization", "Bearer " + w.sandbox->token()}},
                            R"({"name": "stray"})", "application/json");
    REQUIRE(stray);
    REQUIRE(stray->status == 201);
    int64_t stray_id = Json::parse(stray->body).at("id");

    const std::vector<std::string> destroy{"--no-color", "destroy", "--auto-approve",
                                           "--state",    w.state,   w.file};
    RunResult refused = w.stove(destroy);
    INFO(refused.out, refused.err);
    CHECK(refused.exit_code == 1);
    CHECK(contains(refused.out,
                   fmt::format("cloudspaces/delete: 409 Conflict: In order to delete a CloudSpace "
                               "it can not contain Machines.; it holds machines stove does not "
                               "manage: \"stray\" (id {}); delete them first",
                               stray_id)));
    // Its own machines went first; the cloud space stays, and so does its record.
    auto cloud = w.cloud();
    CHECK(cloud["web"].size() == 1);
    CHECK(cloud["web"].count("stray") == 1);
    s = w.state_json();
    CHECK(w.resource(s, R"(cloud_space["web"].machine["app"])") == nullptr);
    CHECK(w.resource(s, R"(cloud_space["web"])") != nullptr);

    auto gone = admin.Delete(fmt::format("/sandbox/admin/machines/{}", stray_id),
                             {{"Authorization", "Bearer " + w.sandbox->token()}});
    REQUIRE(gone);
    REQUIRE(gone->status == 200);
    RunResult finished = w.stove(destroy);
    INFO(finished.out, finished.err);
    CHECK(finished.exit_code == 0);
    CHECK(w.call("cloudspaces/list", Json::object()).empty());
    CHECK(w.state_json().at("resources").empty());
  }

  TEST_CASE("partial failure: dependents are skipped, the rest is done, a re-run converges") {
    World w;
    // image 999999 does not exist in the sandbox: that create fails.
    Machine bad{"bad", 999999, 1024, 1, 10};
    Machine after{"after", 12, 1024, 1, 10, "bad"};
    Machine fine{"fine", 12, 1024, 1, 10};
    w.write({{"web", {bad, after}}, {"db", {fine}}});
    RunResult first = w.apply();
    INFO(first.out, first.err);
    CHECK(first.exit_code == 1);
    CHECK(contains(first.out, "Apply incomplete! Resources: 3 added, 0 changed, 0 destroyed; "
                              "1 failed, 1 skipped.\n"));
    CHECK(contains(first.out, R"(  failed:      cloud_space["web"].machine["bad"]: )"));
    CHECK(contains(first.out,
                   "  skipped:     cloud_space[\"web\"].machine[\"after\"] (a resource it needs "
                   "failed)\n"));
    Json s = w.state_json();
    CHECK(w.resource(s, R"(cloud_space["db"].machine["fine"])")->at("status") == "completed");
    CHECK(w.resource(s, R"(cloud_space["web"])")->at("status") == "completed");
    const Json* failed = w.resource(s, R"(cloud_space["web"].machine["bad"])");
    REQUIRE(failed != nullptr);
    CHECK(failed->at("status") == "failed");
    CHECK(failed->at("remote_id") == "");
    CHECK(w.resource(s, R"(cloud_space["web"].machine["after"])") == nullptr);
    auto cloud = w.cloud();
    CHECK(cloud["web"].empty());
    CHECK(cloud["db"].size() == 1);

    // Fix the file: the re-run does exactly what is left.
    bad.image_id = 12;
    w.write({{"web", {bad, after}}, {"db", {fine}}});
    RunResult second = w.apply();
    INFO(second.out, second.err);
    CHECK(second.exit_code == 0);
    CHECK(contains(second.out, "Apply complete! Resources: 2 added, 0 changed, 0 destroyed.\n"));
    cloud = w.cloud();
    CHECK(cloud["web"].size() == 2);
    CHECK(w.plan_exit() == 0);
  }

  TEST_CASE("with 30% of requests failing the apply converges to exactly the file") {
    World w({"--deploy-delay", "50", "--fail-rate", "0.3", "--seed", "42"});
    std::vector<Space> spaces;
    for (int s = 0; s < 2; ++s) {
      Space space{fmt::format("space-{}", s), {}};
      for (int m = 0; m < 4; ++m) {
        space.machines.push_back({fmt::format("vm-{}", m), 12, 1024, 1, 10});
      }
      spaces.push_back(space);
    }
    w.write(spaces);
    RunResult result;
    int runs = 0;
    do {
      result = w.apply();
      ++runs;
    } while (result.exit_code != 0 && runs < 3);
    INFO(result.out, result.err);
    CHECK(result.exit_code == 0);
    CHECK(w.counters().at("injected_failures").get<int>() > 0);
    w.restart_sandbox();
    w.write(spaces);  // the restarted sandbox listens on another port
    auto cloud = w.cloud();  // fails on any duplicate
    REQUIRE(cloud.size() == 2);
    for (const auto& space : spaces) {
      REQUIRE(cloud[space.name].size() == 4);
      for (const auto& m : space.machines) {
        CHECK(cloud[space.name][m.name].at("memory") == 1024);
      }
    }
    Json s = w.state_json();
    CHECK(s.at("resources").size() == 10);
    for (const auto& r : s.at("resources")) {
      CHECK(r.at("status") == "completed");
      CHECK(r.at("remote_id") != "");
    }
    CHECK(w.plan_exit() == 0);
  }

  TEST_CASE("a stale saved plan is refused and changes nothing") {
    World w;
    w.write({{"web", {}}});
    std::string plan_path = (w.dir / "plan.json").string();
    RunResult planned = w.stove({"plan", "--state", w.state, "--out", plan_path, w.file});
    REQUIRE(planned.exit_code == 0);
    // The state moves on: another apply of the same file.
    REQUIRE(w.apply().exit_code == 0);
    uint64_t mutating = w.counters().at("mutating").get<uint64_t>();
    RunResult stale = w.stove({"apply", plan_path});
    CHECK(stale.exit_code == 1);
    CHECK(contains(stale.err, "stove: error: the saved plan was made for an empty state, but "));
    CHECK(contains(stale.err, "; run stove plan again"));
    CHECK(w.counters().at("mutating").get<uint64_t>() == mutating);
    CHECK(w.cloud().size() == 1);
  }

  TEST_CASE("a saved plan applies without a prompt") {
    World w;
    w.write({{"web", {{"app", 12, 1024, 1, 10}}}});
    std::string plan_path = (w.dir / "plan.json").string();
    REQUIRE(w.stove({"plan", "--state", w.state, "--out", plan_path, w.file}).exit_code == 0);
    RunResult applied = w.stove({"--no-color", "apply", plan_path});
    INFO(applied.out, applied.err);
    CHECK(applied.exit_code == 0);
    CHECK(contains(applied.out, "Apply complete! Resources: 2 added, 0 changed, 0 destroyed.\n"));
    CHECK(w.cloud()["web"].size() == 1);
    // Applied once, the plan is stale.
    CHECK(w.stove({"apply", plan_path}).exit_code == 1);
  }

  TEST_CASE("without a terminal and without --auto-approve nothing changes") {
    World w;
    w.write({{"web", {{"app", 12, 1024, 1, 10}}}});
    RunResult r = w.stove({"--no-color", "apply", "--state", w.state, w.file});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.out, "Plan: 2 to add, 0 to change, 0 to destroy."));
    CHECK(contains(r.err, "stove: error: apply needs approval and standard input is not a "
                          "terminal: nothing was changed"));
    CHECK(w.counters().at("mutating").get<uint64_t>() == 0);
    CHECK_FALSE(std::filesystem::exists(w.state));
    RunResult d = w.stove({"destroy", "--state", w.state, w.file});
    CHECK(d.exit_code == 0);  // nothing to destroy: no question to ask
  }

  TEST_CASE("kill -9 in the middle of an apply: no duplicate, no orphan") {
    World w({"--deploy-delay", "50", "--latency", "40"});
    Space space{"web", {}};
    for (int m = 0; m < 24; ++m) {
      space.machines.push_back({fmt::format("vm-{:02}", m), 12, 1024, 1, 10});
    }
    w.write({space});
    RunOptions options;
    options.env["STOVE_OVC_TOKEN"] = w.sandbox->token();
    Background apply(STOVE_BINARY,
                     {"--no-color", "apply", "--auto-approve", "--parallelism", "4", "--state",
                      w.state, w.file},
                     options, (w.dir / "apply.err").string());
    int complete = 0;
    while (complete < 6) {
      auto line = apply.read_line();
      REQUIRE_MESSAGE(line.has_value(), "apply ended early: ", read_file(w.dir / "apply.err"));
      if (contains(*line, ".machine[") && contains(*line, "Creation complete")) {
        ++complete;
      }
    }
    apply.signal(SIGKILL);
    CHECK(apply.wait() == 128 + SIGKILL);
    CHECK(std::filesystem::exists(w.state + ".journal"));

    RunResult again = w.apply();
    INFO(again.out, again.err);
    REQUIRE(again.exit_code == 0);
    CHECK(contains(again.err, "recovered"));
    CHECK_FALSE(std::filesystem::exists(w.state + ".journal"));
    auto cloud = w.cloud();  // fails on a duplicate name
    REQUIRE(cloud["web"].size() == 24);
    Json s = w.state_json();
    REQUIRE(s.at("resources").size() == 25);
    // Every object in the sandbox is in the state under its id, and back.
    std::set<std::string> in_state;
    for (const auto& r : s.at("resources")) {
      CHECK(r.at("status") == "completed");
      if (r.at("kind") == "machine") {
        in_state.insert(remote_id(r));
      }
    }
    std::set<std::string> in_cloud;
    for (const auto& [name, machine] : cloud["web"]) {
      in_cloud.insert(machine.at("id").dump());
    }
    CHECK(in_state == in_cloud);
    CHECK(w.plan_exit() == 0);
  }
}

TEST_SUITE("apply against stove sandbox serve") {
  TEST_CASE("Ctrl-C: nothing new starts, what finished is saved, a re-run finishes") {
    World w({"--deploy-delay", "50", "--latency", "40"});
    Space space{"web", {}};
    for (int m = 0; m < 16; ++m) {
      space.machines.emplace_back(fmt::format("vm-{:02}", m), 12, 1024, 1, 10);
    }
    w.write({space});
    RunOptions options;
    options.env["STOVE_OVC_TOKEN"] = w.sandbox->token();
    Background apply(STOVE_BINARY,
                     {"--no-color", "apply", "--auto-approve", "--parallelism", "2", "--state",
                      w.state, w.file},
                     options, (w.dir / "apply.err").string());
    while (true) {
      auto line = apply.read_line();
      REQUIRE_MESSAGE(line.has_value(), "apply ended early: ", read_file(w.dir / "apply.err"));
      if (contains(*line, ".machine[") && contains(*line, "Creation complete")) {
        break;
      }
    }
    apply.signal(SIGINT);
    while (apply.read_line()) {
    }
    CHECK(apply.wait() == 1);
    std::string out;
    for (const auto& line : apply.lines()) {
      out += line + "\n";
    }
    CHECK(contains(read_file(w.dir / "apply.err"), "Interrupt received"));
    CHECK(contains(out, "Apply incomplete! Resources: "));
    CHECK(contains(out, "(interrupted)\n"));
    CHECK_FALSE(std::filesystem::exists(w.state + ".journal"));
    Json s = w.state_json();
    size_t saved = s.at("resources").size();
    CHECK(saved >= 2);
    CHECK(saved < 17);
    CHECK(w.cloud()["web"].size() == saved - 1);

    RunResult again = w.apply();
    INFO(again.out, again.err);
    CHECK(again.exit_code == 0);
    CHECK(contains(again.out, fmt::format("Apply complete! Resources: {} added, 0 changed, 0 "
                                          "destroyed.\n",
                                          17 - saved)));
    CHECK(w.cloud()["web"].size() == 16);
  }
}

TEST_SUITE("apply on the embedded sandbox") {
  // What the README's first command does, from a fresh directory.
  TEST_CASE("the quickstart playbook applies, plans clean and destroys") {
    TempDir dir;
    std::filesystem::copy_file(std::string(STOVE_SOURCE_DIR) + "/playbooks/quickstart.yaml",
                               dir / "quickstart.yaml");
    RunOptions in_dir;
    in_dir.cwd = dir.path().string();
    RunResult applied =
        run_stove({"--no-color", "apply", "--auto-approve", "quickstart.yaml"}, in_dir);
    INFO(applied.out, applied.err);
    REQUIRE(applied.exit_code == 0);
    CHECK(contains(applied.err,
                   "stove: note: the file declares no providers: using the embedded sandbox "
                   "cloud\n"));
    CHECK(contains(applied.out, "Apply complete! Resources: 4 added, 0 changed, 0 destroyed.\n"));
    CHECK(std::filesystem::is_directory(dir / "state" / "sandbox"));
    Json state = Json::parse(read_file(dir / "state" / "quickstart.json"));
    REQUIRE(state.at("resources").size() == 4);
    for (const auto& r : state.at("resources")) {
      CHECK(r.at("status") == "completed");
      CHECK(r.at("remote_id") != "");
    }
    // The sandbox keeps its objects between runs: the next plan is empty,
    // and a second apply has nothing to do.
    CHECK(run_stove({"plan", "--detailed-exitcode", "quickstart.yaml"}, in_dir).exit_code == 0);
    RunResult again = run_stove({"--no-color", "apply", "--auto-approve", "quickstart.yaml"},
                                in_dir);
    CHECK(again.exit_code == 0);
    CHECK(contains(again.out, "No changes."));
    RunResult destroyed =
        run_stove({"--no-color", "destroy", "--auto-approve", "quickstart.yaml"}, in_dir);
    INFO(destroyed.out, destroyed.err);
    CHECK(destroyed.exit_code == 0);
    CHECK(contains(destroyed.out, "Destroy complete! Resources: 4 destroyed.\n"));
    CHECK(Json::parse(read_file(dir / "state" / "quickstart.json")).at("resources").empty());
  }

  TEST_CASE("the original design's example applies") {
    TempDir dir;
    std::filesystem::copy_file(std::string(STOVE_SOURCE_DIR) + "/playbooks/example.json",
                               dir / "example.json");
    RunOptions in_dir;
    in_dir.cwd = dir.path().string();
    RunResult applied =
        run_stove({"--no-color", "apply", "--auto-approve", "example.json"}, in_dir);
    INFO(applied.out, applied.err);
    REQUIRE(applied.exit_code == 0);
    CHECK(contains(applied.out, "Apply complete! Resources: 3 added, 0 changed, 0 destroyed.\n"));
    CHECK(contains(applied.out, "bucket[\"my_bucket\"]: Creation complete after "));
    CHECK(run_stove({"plan", "--detailed-exitcode", "example.json"}, in_dir).exit_code == 0);
  }
}
