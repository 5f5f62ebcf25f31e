// stove exec end to end: the built binary against `stove sandbox serve` on
// loopback, through the OpenVCloud and Bacularis adapters over real HTTP:
// machine start, stop and reboot, backup job runs, and the state and the
// sandbox agreeing on what happened.

#include "support/background.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

using namespace stove::test;
using Json = nlohmann::json;

namespace {

const std::string k_space = R"(cloud_space["web"])";
const std::string k_app = R"(cloud_space["web"].machine["app"])";
const std::string k_nightly = R"(cloud_space["web"].machine["app"].backup["app-nightly"])";

std::string infra(const std::string& url) {
  return fmt::format(R"(providers:
  cloud:
    type: openvcloud
    endpoint: {0}
    account_id: 1
    access: stove@example
  backups:
    type: bacularis
    endpoint: {0}
    client_password_env: FD_PASSWORD
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
            fileset: [/etc, /srv]
)",
                     url);
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// One test's world: a sandbox whose jobs take 200 ms, a file, a state,
// everything applied.
struct World {
  TempDir dir;
  SandboxProcess sandbox{(dir / "cloud").string(),
                         {"--deploy-delay", "50", "--job-duration", "200"}};
  std::string file = (dir / "infra.yaml").string();
  std::string state = (dir / "infra.state.json").string();

  World() {
    dir.write("infra.yaml", infra(sandbox.url()));
    RunResult applied = stove({"--no-color", "apply", "--auto-approve", "--state", state, file});
    INFO(applied.out, applied.err);
    REQUIRE(applied.exit_code == 0);
  }

  RunResult stove(std::vector<std::string> args) const {
    RunOptions options;
    options.env["STOVE_OVC_TOKEN"] = sandbox.token();
    options.env["STOVE_BACULARIS_USER"] = "sandbox";
    options.env["STOVE_BACULARIS_PASSWORD"] = sandbox.token();
    options.env["FD_PASSWORD"] = "fd-password";
    return run_stove(args, options);
  }

  RunResult exec(const std::string& address, const std::string& action,
                 std::vector<std::string> extra = {}) const {
    std::vector<std::string> args{"--no-color", "exec", "--state", state, file, address, action};
    args.insert(args.end(), extra.begin(), extra.end());
    return stove(args);
  }

  Json state_json() const { return Json::parse(read_file(state)); }

  Json record(const std::string& address) const {
    const Json s = state_json();
    for (const auto& r : s.at("resources")) {
      if (r.at("address") == address) {
        return r;
      }
    }
    FAIL("no ", address, " in the state");
    return {};
  }

  // The sandbox's own view of the machine.
  Json machine() const {
    std::string id = record(k_app).at("remote_id").get<std::string>();
    auto reply = sandbox.call("machines/get", fmt::format(R"({{"machineId": {}}})", id));
    REQUIRE(reply.status == 200);
    return Json::parse(reply.body);
  }

  // The sandbox's own record of a backup job run.
  Json job(int id) const {
    httplib::Client client("127.0.0.1", sandbox.port());
    httplib::Headers headers{{"Authorization", fmt::format("Bearer {}", sandbox.token())}};
    auto res = client.Get(fmt::format("/api/v2/jobs/{}", id), headers);
    REQUIRE(res);
    Json reply = Json::parse(res->body);
    REQUIRE(reply.at("error") == 0);
    return reply.at("output");
  }

  // How often the sandbox has booted the machine (starts and reboots).
  int64_t boots() const {
    Json cloud = Json::parse(read_file(dir / "cloud" / "cloud.json"));
    return cloud.at("machines").at(0).at("boots").get<int64_t>();
  }
};

// "ADDRESS: ACTION complete after Ns [OUTCOME]\n", whatever N is.
void check_complete(const std::string& out, const std::string& address, const std::string& action,
                    const std::string& outcome) {
  const std::string head = fmt::format("{}: {} complete after ", address, action);
  auto at = out.find(head);
  REQUIRE_MESSAGE(at != std::string::npos, out);
  auto end = out.find('\n', at);
  REQUIRE(end != std::string::npos);
  std::string line = out.substr(at, end - at);
  CHECK(line.ends_with(fmt::format("s [{}]", outcome)));
}

} // namespace

TEST_SUITE("exec against stove sandbox serve") {
  TEST_CASE("exec stops, starts and reboots a machine, and the state and the sandbox agree") {
    World w;
    const uint64_t serial = w.state_json().at("serial").get<uint64_t>();

    RunResult stopped = w.exec(k_app, "stop");
    INFO(stopped.out, stopped.err);
    REQUIRE(stopped.exit_code == 0);
    CHECK(stopped.out.starts_with(k_app + ": Executing stop (force=false)...\n"));
    check_complete(stopped.out, k_app, "stop", "status=HALTED");
    CHECK(stopped.err.empty());
    Json app = w.record(k_app);
    CHECK(app.at("observed").at("status") == "HALTED");
    CHECK(app.at("status") == "completed");
    CHECK(w.state_json().at("serial") == serial + 1);
    CHECK(std::filesystem::exists(w.state + ".backup"));
    CHECK(w.machine().at("status") == "HALTED");
    // Observed attributes are not the spec: nothing to plan.
    CHECK(w.stove({"plan", "--detailed-exitcode", "--state", w.state, w.file}).exit_code == 0);

    RunResult again = w.exec(k_app, "stop", {"--param", "force=true"});
    INFO(again.out, again.err);
    CHECK(again.exit_code == 0);
    CHECK(contains(again.out, k_app + ": Executing stop (force=true)...\n" + k_app +
                                  ": already HALTED: nothing to do\n"));

    RunResult halted_reboot = w.exec(k_app, "reboot");
    INFO(halted_reboot.out, halted_reboot.err);
    CHECK(halted_reboot.exit_code == 1);
    CHECK(contains(halted_reboot.out, k_app + ": reboot failed after "));
    CHECK(contains(halted_reboot.out,
                   "s: " + k_app +
                       ": the machine is HALTED; only a RUNNING machine reboots (start it "
                       "instead)\n"));
    CHECK(halted_reboot.err ==
          "stove: error: " + k_app + " reboot failed; what was observed is in the state\n");
    CHECK(w.machine().at("status") == "HALTED");

    const int64_t boots = w.boots();
    RunResult started = w.exec(k_app, "start");
    INFO(started.out, started.err);
    REQUIRE(started.exit_code == 0);
    check_complete(started.out, k_app, "start", "status=RUNNING");
    CHECK(w.record(k_app).at("observed").at("status") == "RUNNING");
    CHECK(w.machine().at("status") == "RUNNING");

    // The alias-free bare form of the address works too.
    RunResult rebooted = w.exec("cloud_space.web.machine.app", "reboot");
    INFO(rebooted.out, rebooted.err);
    REQUIRE(rebooted.exit_code == 0);
    CHECK(rebooted.out.starts_with(k_app + ": Executing reboot...\n"));
    check_complete(rebooted.out, k_app, "reboot", "status=RUNNING");
    CHECK(w.record(k_app).at("observed").at("status") == "RUNNING");
    CHECK(w.machine().at("status") == "RUNNING");
    CHECK(w.boots() == boots + 2); // the start and the reboot
  }

  TEST_CASE("exec runs a backup job until it terminates, and records it") {
    World w;
    RunResult run = w.exec(k_nightly, "run");
    INFO(run.out, run.err);
    REQUIRE(run.exit_code == 0);
    CHECK(run.out.starts_with(k_nightly + ": Executing run...\n" + k_nightly +
                              ": job 1 queued (Incremental)\n"));
    check_complete(run.out, k_nightly, "run", "job 1 T (Incremental, 80 files, 655360 bytes)");
    Json last = w.record(k_nightly).at("observed").at("last_job");
    CHECK(last.at("id") == 1);
    CHECK(last.at("status") == "T");
    CHECK(last.at("level") == "Incremental");
    CHECK(last.at("files") == 80);
    CHECK(w.record(k_nightly).at("observed").at("client") == "app-fd");
    Json job = w.job(1);
    CHECK(job.at("jobstatus") == "T");
    CHECK(job.at("name") == "app-nightly");
    CHECK(job.at("level") == "I");
    CHECK(job.at("client") == "app-fd");

    // The kind's alias in the address, and a level of one's own.
    RunResult full =
        w.exec("cloud_space.web.machine.app.bacula.app-nightly", "run", {"--param", "level=Full"});
    INFO(full.out, full.err);
    REQUIRE(full.exit_code == 0);
    CHECK(full.out.starts_with(k_nightly + ": Executing run (level=Full)...\n"));
    check_complete(full.out, k_nightly, "run", "job 2 T (Full, 2400 files, 19660800 bytes)");
    CHECK(w.record(k_nightly).at("observed").at("last_job").at("level") == "Full");
    CHECK(w.job(2).at("level") == "F");
    CHECK(w.job(2).at("jobstatus") == "T");

    // --json, for CI.
    RunResult json_run = w.exec(k_nightly, "run", {"--json"});
    INFO(json_run.out, json_run.err);
    REQUIRE(json_run.exit_code == 0);
    Json out = Json::parse(json_run.out);
    CHECK(out.at("address") == k_nightly);
    CHECK(out.at("action") == "run");
    CHECK(out.at("params") == Json::object());
    CHECK(out.at("ok") == true);
    CHECK(out.at("message") == "job 3 T (Incremental, 80 files, 655360 bytes)");
    CHECK(out.at("recorded") == true);
    CHECK(out.at("observed").at("last_job").at("id") == 3);
    CHECK(out.at("serial") == w.state_json().at("serial"));
  }

  TEST_CASE("a backup job whose machine is stopped fails, exits 1 and is recorded as failed") {
    World w;
    REQUIRE(w.exec(k_app, "stop").exit_code == 0);
    const uint64_t serial = w.state_json().at("serial").get<uint64_t>();
    RunResult run = w.exec(k_nightly, "run");
    INFO(run.out, run.err);
    CHECK(run.exit_code == 1);
    const std::string ip = w.record(k_app).at("observed").at("ip_address").get<std::string>();
    CHECK(contains(run.out, k_nightly + ": run failed after "));
    CHECK(contains(run.out, fmt::format("s: job 1 ended f (fatal error): Fatal error: "
                                        "bsockcore.c:209 Unable to connect to Client: app-fd on "
                                        "{}:9102. ERR=Connection refused\n",
                                        ip)));
    CHECK(run.err ==
          "stove: error: " + k_nightly + " run failed; what was observed is in the state\n");
    CHECK(w.record(k_nightly).at("observed").at("last_job").at("status") == "f");
    CHECK(w.state_json().at("serial") == serial + 1);
    CHECK(w.job(1).at("jobstatus") == "f");
  }

  TEST_CASE("unknown actions, parameters and addresses exit 1, list the valid ones and change "
            "nothing") {
    World w;
    const std::string before = read_file(w.state);
    struct Case {
      std::string address;
      std::string action;
      std::vector<std::string> extra;
      std::string error;
    };
    const std::vector<Case> cases = {
        {k_app,
         "stp",
         {},
         R"(stove: error: machine has no action "stp"; did you mean "stop"? (actions: start, )"
         "stop, reboot)\n"},
        {k_app,
         "stop",
         {"--param", "forse=true"},
         R"(stove: error: machine action "stop" has no parameter "forse"; did you mean )"
         R"("force"? (parameters: force))"
         "\n"},
        {k_app,
         "stop",
         {"--param", "force=yes"},
         "stove: error: stop force=yes: force is true or false\n"},
        {k_app,
         "reboot",
         {"--param", "force=true"},
         R"(stove: error: machine action "reboot" takes no parameters, not "force")"
         "\n"},
        {k_nightly,
         "run",
         {"--param", "level=Fulll"},
         R"(stove: error: run level=Fulll: level is one of Full, Incremental, Differential; )"
         R"(did you mean "Full"?)"
         "\n"},
        {k_space,
         "start",
         {},
         R"(stove: error: cloud_space has no actions ("start" asked for))"
         "\n"},
        {R"(cloud_space["web"].machine["ap"])",
         "start",
         {},
         R"(stove: error: the state has no resource cloud_space["web"].machine["ap"]; did you )"
         R"(mean cloud_space["web"].machine["app"]?)"
         "\n"},
        {"cloud_space[web]",
         "start",
         {},
         "stove: error: bad address \"cloud_space[web]\": expected '\"' after '[' (at character "
         "13)\n"},
    };
    for (const auto& c : cases) {
      RunResult r = w.exec(c.address, c.action, c.extra);
      INFO(c.address, " ", c.action, "\n", r.out, r.err);
      CHECK(r.exit_code == 1);
      CHECK(r.out.empty());
      CHECK(r.err == c.error);
      CHECK(read_file(w.state) == before);
    }
    CHECK(w.machine().at("status") == "RUNNING");
  }
}

TEST_SUITE("exec on the embedded sandbox") {
  TEST_CASE("the quickstart's machine stops and its backup runs on the embedded sandbox") {
    TempDir dir;
    std::filesystem::copy_file(std::string(STOVE_SOURCE_DIR) + "/playbooks/quickstart.yaml",
                               dir / "quickstart.yaml");
    RunOptions in_dir;
    in_dir.cwd = dir.path().string();
    RunResult applied =
        run_stove({"--no-color", "apply", "--auto-approve", "quickstart.yaml"}, in_dir);
    INFO(applied.out, applied.err);
    REQUIRE(applied.exit_code == 0);

    const std::string drupal = R"(cloud_space["My VDC"].machine["drupal"])";
    RunResult run = run_stove({"exec", "quickstart.yaml", drupal + R"(.backup["drupal-nightly"])",
                               "run", "--param", "level=Differential"},
                              in_dir);
    INFO(run.out, run.err);
    REQUIRE(run.exit_code == 0);
    CHECK(run.err ==
          "stove: note: the file declares no providers: using the embedded sandbox cloud\n");
    check_complete(run.out, drupal + R"(.backup["drupal-nightly"])", "run",
                   "job 1 T (Differential, 80 files, 655360 bytes)");

    RunResult stopped = run_stove({"exec", "quickstart.yaml", drupal, "stop"}, in_dir);
    INFO(stopped.out, stopped.err);
    REQUIRE(stopped.exit_code == 0);
    check_complete(stopped.out, drupal, "stop", "status=HALTED");
    Json state = Json::parse(read_file(dir / "state" / "quickstart.json"));
    for (const auto& r : state.at("resources")) {
      if (r.at("address") == drupal) {
        CHECK(r.at("observed").at("status") == "HALTED");
      }
    }
    // The sandbox kept it: a start finds it HALTED.
    RunResult started = run_stove({"exec", "quickstart.yaml", drupal, "start"}, in_dir);
    INFO(started.out, started.err);
    CHECK(started.exit_code == 0);
    CHECK_FALSE(contains(started.out, "already RUNNING"));
    check_complete(started.out, drupal, "start", "status=RUNNING");
  }
}
