// stove import end to end: the built binary against `stove sandbox serve` on
// loopback. Objects stove does not manage are made behind its back (the
// sandbox's admin endpoint, a signed S3 request of the test's own), imported,
// and then planned against the file.

#include "support/background.hpp"
#include "support/run.hpp"
#include "support/s3_client.hpp"
#include "support/temp_dir.hpp"

#include "state/journal.hpp"
#include "state/lock.hpp"
#include "state/statefile.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

using namespace stove::test;
using Json = nlohmann::json;

namespace {

const std::string k_space = R"(cloud_space["web"])";
const std::string k_app = R"(cloud_space["web"].machine["app"])";
const std::string k_nightly = R"(cloud_space["web"].machine["app"].backup["app-nightly"])";
const std::string k_db = R"(cloud_space["web"].machine["db"])";

// A machine entry of the file, nested under its cloud space.
std::string machine_yaml(const std::string& name, int memory) {
  return fmt::format(R"(
    machines:
      - {{name: {}, image_id: 12, memory: {}, vcpus: 2, disk_boot_size: 20}})",
                     name, memory);
}

// What `stove import` prints when it succeeds.
std::string imported(const std::string& address, const std::string& id, const std::string& kind,
                     const std::string& differences = {}) {
  return fmt::format("{0}: Importing from ID \"{1}\"...\n"
                     "{0}: Import prepared!\n"
                     "  Prepared {2} for import\n"
                     "{3}"
                     "\n"
                     "Import successful!\n"
                     "\n"
                     "The imported {2} is now in the state and managed by stove.\n"
                     "`stove plan` shows any difference from the file.\n",
                     address, id, kind, differences);
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// One test's world: a sandbox, a file of sandbox-provider resources, and its
// state.
struct World {
  TempDir dir;
  SandboxProcess sandbox{(dir / "cloud").string(), {"--deploy-delay", "20"}};
  std::string file = (dir / "infra.yaml").string();
  std::string state = (dir / "infra.state.json").string();

  // The file: `resources` is the YAML list of resources.
  void write(const std::string& resources) const {
    dir.write("infra.yaml", fmt::format(R"(providers:
  sb:
    type: sandbox
    endpoint: {}
resources:
{})",
                                        sandbox.url(), resources));
  }

  // The cloud space "web", with `inside` appended to its entry.
  void write_space(const std::string& inside = {}) const {
    write(fmt::format("  - type: cloud_space\n    name: web\n    location_id: 1{}\n", inside));
  }

  RunResult stove(const std::vector<std::string>& args) const {
    RunOptions options;
    options.env["STOVE_SANDBOX_TOKEN"] = sandbox.token();
    return run_stove(args, options);
  }
  RunResult apply() const {
    return stove({"--no-color", "apply", "--auto-approve", "--state", state, file});
  }
  RunResult import(const std::string& address, const std::string& id) const {
    return stove({"--no-color", "import", "--state", state, file, address, id});
  }
  RunResult plan(bool detailed = true) const {
    std::vector<std::string> args{"--no-color", "plan", "--state", state, file};
    if (detailed) {
      args.insert(args.begin() + 2, "--detailed-exitcode");
    }
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

  // POST /sandbox/admin/PATH: a change behind stove's back.
  Json admin(const std::string& path, const Json& body) const {
    httplib::Client client("127.0.0.1", sandbox.port());
    httplib::Headers headers{{"Authorization", fmt::format("Bearer {}", sandbox.token())}};
    auto res = client.Post(fmt::format("/sandbox/admin/{}", path), headers, body.dump(),
                           "application/json");
    REQUIRE(res);
    INFO(res->body);
    REQUIRE(res->status / 100 == 2);
    return Json::parse(res->body);
  }

  // A machine stove does not manage, in the cloud space `space_id`: its id.
  std::string unmanaged_machine(const std::string& space_id, const std::string& name,
                                int memory) const {
    Json made = admin(
        fmt::format("cloudspaces/{}/machines", space_id),
        {{"name", name}, {"memory", memory}, {"vcpus", 2}, {"disk_size", 20}, {"image_id", 12}});
    return std::to_string(made.at("id").get<int64_t>());
  }

  Json counters() const {
    httplib::Client client("127.0.0.1", sandbox.port());
    auto res = client.Get("/sandbox/counters");
    REQUIRE(res);
    return Json::parse(res->body);
  }

  // The cloud space "web" applied; its id.
  std::string applied_space() const {
    write_space();
    RunResult applied = apply();
    INFO(applied.out, applied.err);
    REQUIRE(applied.exit_code == 0);
    return record(k_space).at("remote_id").get<std::string>();
  }
};

} // namespace

TEST_SUITE("import against stove sandbox serve") {
  TEST_CASE("an unmanaged machine that matches the file is imported, and the next plan is a "
            "no-op") {
    World w;
    const std::string space_id = w.applied_space();
    const std::string id = w.unmanaged_machine(space_id, "app", 2048);
    w.write_space(machine_yaml("app", 2048));
    const std::string before = read_file(w.state);
    const uint64_t serial = w.state_json().at("serial").get<uint64_t>();

    RunResult r = w.import(k_app, id);
    INFO(r.out, r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == imported(k_app, id, "machine"));
    CHECK(r.err.empty());

    CHECK(w.state_json().at("serial") == serial + 1);
    CHECK(read_file(fmt::format("{}.backup", w.state)) == before);
    Json app = w.record(k_app);
    CHECK(app.at("remote_id") == id);
    CHECK(app.at("kind") == "machine");
    CHECK(app.at("provider") == "sb");
    CHECK(app.at("parent") == k_space);
    CHECK(app.at("dependencies") == Json::array({k_space}));
    CHECK(app.at("status") == "completed");
    CHECK(app.at("spec").at("name") == "app");
    CHECK(app.at("spec").at("memory") == 2048);
    CHECK(app.at("spec").at("vcpus") == 2);
    CHECK(app.at("spec").at("disk_boot_size") == 20);
    CHECK(app.at("spec").at("image_id") == 12);
    CHECK(app.at("observed").at("cloudspace_id") == space_id);
    CHECK(app.at("observed").at("status") == "RUNNING");
    CHECK_FALSE(app.at("created_at").get<std::string>().empty());

    RunResult plan = w.plan();
    INFO(plan.out, plan.err);
    CHECK(plan.exit_code == 0);
  }

  TEST_CASE("an unmanaged machine that differs from the file is imported with its real memory, "
            "and the next plan updates it in place") {
    World w;
    const std::string space_id = w.applied_space();
    const std::string id = w.unmanaged_machine(space_id, "app", 1024);
    w.write_space(machine_yaml("app", 2048));

    RunResult r = w.import(k_app, id);
    INFO(r.out, r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == imported(k_app, id, "machine",
                            "  The real machine differs from the file in 1 field:\n"
                            "    memory: file 2048, real 1024\n"));
    CHECK(w.record(k_app).at("spec").at("memory") == 1024);

    RunResult plan = w.plan();
    INFO(plan.out, plan.err);
    CHECK(plan.exit_code == 2);
    CHECK(contains(plan.out, fmt::format("{} will be updated in-place\n", k_app)));
    CHECK(contains(plan.out, "memory = 1024 -> 2048"));
    CHECK(contains(plan.out, "Plan: 0 to add, 1 to change, 0 to destroy."));

    // Applying it makes the machine match the file.
    RunResult applied = w.apply();
    INFO(applied.out, applied.err);
    REQUIRE(applied.exit_code == 0);
    CHECK(w.plan().exit_code == 0);
  }

  TEST_CASE("an unmanaged bucket is imported into a state that does not exist yet, and the next "
            "plan is a no-op") {
    World w;
    S3Client s3(fmt::format("{}/s3", w.sandbox.url()), "sandbox", w.sandbox.token());
    REQUIRE(s3.send("PUT", "/logs").status == 200);
    w.write("  - {type: bucket, name: logs}\n");
    REQUIRE_FALSE(std::filesystem::exists(w.state));

    RunResult r = w.import("bucket.logs", "logs");
    INFO(r.out, r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == imported(R"(bucket["logs"])", "logs", "bucket"));
    CHECK(w.state_json().at("serial") == 1);
    Json bucket = w.record(R"(bucket["logs"])");
    CHECK(bucket.at("remote_id") == "logs");
    CHECK(bucket.at("parent") == "");
    CHECK(bucket.at("observed").at("versioning") == "suspended");

    RunResult plan = w.plan();
    INFO(plan.out, plan.err);
    CHECK(plan.exit_code == 0);
  }

  TEST_CASE("a backup forgotten with state rm is imported back, and one of another machine's "
            "client is refused") {
    World w;
    // Machines app and db; the backup under `owner`.
    auto write = [&w](const std::string& owner) {
      const std::string backup = R"(
        backups:
          - {name: app-nightly, schedule: Level=Incremental mon-sat at 02:00, fileset: [/etc]})";
      w.write_space(fmt::format(R"(
    machines:
      - name: app
        image_id: 12
        memory: 2048
        vcpus: 2
        disk_boot_size: 20{}
      - name: db
        image_id: 12
        memory: 1024
        vcpus: 1
        disk_boot_size: 10{})",
                                owner == "app" ? backup : "", owner == "db" ? backup : ""));
    };
    write("app");
    RunResult applied = w.apply();
    INFO(applied.out, applied.err);
    REQUIRE(applied.exit_code == 0);
    RunResult removed = w.stove({"state", "rm", "--state", w.state, k_nightly});
    REQUIRE(removed.exit_code == 0);
    REQUIRE(w.plan().exit_code == 2);

    // The same job under machine db: its client is app-fd, not db-fd.
    write("db");
    const std::string misplaced = R"(cloud_space["web"].machine["db"].backup["app-nightly"])";
    const std::string before = read_file(w.state);
    RunResult wrong = w.import(misplaced, "app-nightly");
    INFO(wrong.out, wrong.err);
    CHECK(wrong.exit_code == 1);
    CHECK(wrong.err == fmt::format("stove: error: {}: backup \"app-nightly\" at provider \"sb\" "
                                   "backs up the client \"app-fd\", not {}'s (\"db-fd\")\n",
                                   misplaced, k_db));
    CHECK(read_file(w.state) == before);

    write("app");
    RunResult r = w.import("cloud_space.web.machine.app.bacula.app-nightly", "app-nightly");
    INFO(r.out, r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == imported(k_nightly, "app-nightly", "backup"));
    CHECK(w.record(k_nightly).at("observed").at("client") == "app-fd");
    CHECK(w.plan().exit_code == 0);
  }

  TEST_CASE("import refuses, changing nothing: no such object, an address the file does not "
            "declare, one already managed, a missing parent, an id already bound, a machine "
            "of another cloud space, a bad address") {
    World w;
    // Two cloud spaces, web and other; a machine stove does not manage in
    // each.
    const std::string other = R"(cloud_space["other"])";
    w.write("  - type: cloud_space\n    name: web\n    location_id: 1\n"
            "  - type: cloud_space\n    name: other\n    location_id: 1\n");
    RunResult applied = w.apply();
    INFO(applied.out, applied.err);
    REQUIRE(applied.exit_code == 0);
    const std::string web_id = w.record(k_space).at("remote_id").get<std::string>();
    const std::string other_id = w.record(other).at("remote_id").get<std::string>();
    const std::string app_id = w.unmanaged_machine(web_id, "app", 2048);
    const std::string stray_id = w.unmanaged_machine(other_id, "stray", 2048);
    // The file: app in web (to import), a machine in a space the state lacks.
    w.write(fmt::format("  - type: cloud_space\n    name: web\n    location_id: 1{}\n"
                        "  - type: cloud_space\n    name: other\n    location_id: 1\n"
                        "  - type: cloud_space\n    name: new\n    location_id: 1{}\n",
                        fmt::format("{}\n      - {{name: app2, image_id: 12, memory: 2048, "
                                    "vcpus: 2, disk_boot_size: 20}}",
                                    machine_yaml("app", 2048)),
                        machine_yaml("m", 2048)));

    struct Case {
      std::string address;
      std::string id;
      std::string out;
      std::string err;
    };
    const std::vector<Case> cases = {
        {k_app, "999", fmt::format("{}: Importing from ID \"999\"...\n", k_app),
         fmt::format("stove: error: {}: no machine with id \"999\" at provider \"sb\"\n", k_app)},
        {k_app, stray_id, fmt::format("{}: Importing from ID \"{}\"...\n", k_app, stray_id),
         fmt::format("stove: error: {}: machine \"{}\" at provider \"sb\" is in cloud space "
                     "\"{}\", not in {} (id \"{}\")\n",
                     k_app, stray_id, other_id, k_space, web_id)},
        {R"(cloud_space["web"].machine["ap"])", app_id, "",
         fmt::format("stove: error: {} declares no resource cloud_space[\"web\"].machine[\"ap\"]; "
                     "did you mean {}?\n",
                     w.file, k_app)},
        {"cloud_space.web", web_id, "",
         fmt::format("stove: error: {} is already managed (id \"{}\"); `stove state rm` it first "
                     "to import another object\n",
                     k_space, web_id)},
        {R"(cloud_space["new"].machine["m"])", app_id, "",
         "stove: error: cloud_space[\"new\"].machine[\"m\"]: its parent cloud_space[\"new\"] is "
         "not in the state; import its parent first\n"},
        {"cloud_space[web]", app_id, "",
         "stove: error: bad address \"cloud_space[web]\": expected '\"' after '[' (at character "
         "13)\n"},
    };
    const std::string before = read_file(w.state);
    const Json counters = w.counters();
    for (const auto& c : cases) {
      RunResult r = w.import(c.address, c.id);
      INFO(c.address, " ", c.id, "\n", r.out, r.err);
      CHECK(r.exit_code == 1);
      CHECK(r.out == c.out);
      CHECK(r.err == c.err);
      CHECK(read_file(w.state) == before);
    }
    CHECK(w.counters().at("mutating") == counters.at("mutating"));
    CHECK(w.counters().at("admin") == counters.at("admin"));

    // Once app is imported, its id is bound: app2 cannot take it too.
    REQUIRE(w.import(k_app, app_id).exit_code == 0);
    const std::string imported_state = read_file(w.state);
    RunResult bound = w.import(R"(cloud_space["web"].machine["app2"])", app_id);
    INFO(bound.out, bound.err);
    CHECK(bound.exit_code == 1);
    CHECK(bound.out.empty());
    CHECK(bound.err == fmt::format("stove: error: machine \"{}\" at provider \"sb\" is already "
                                   "managed as {}; `stove state mv` it to "
                                   "cloud_space[\"web\"].machine[\"app2\"] instead, or `stove "
                                   "state rm` it first\n",
                                   app_id, k_app));
    CHECK(read_file(w.state) == imported_state);
    CHECK(w.counters().at("mutating") == counters.at("mutating"));
  }

  TEST_CASE("import refuses a state locked by another stove, and folds in an interrupted apply's "
            "journal first") {
    World w;
    const std::string space_id = w.applied_space();
    const std::string id = w.unmanaged_machine(space_id, "app", 2048);
    w.write_space(machine_yaml("app", 2048));
    const std::string before = read_file(w.state);
    {
      stove::StateLock held =
          stove::StateLock::acquire(w.state, "apply", std::chrono::milliseconds(0));
      RunResult locked = w.import(k_app, id);
      INFO(locked.out, locked.err);
      CHECK(locked.exit_code == 1);
      CHECK(locked.out.empty());
      CHECK(locked.err.starts_with("stove: error: state is locked by pid "));
      CHECK(read_file(w.state) == before);
    }
    {
      // An apply that recorded the space's status, then died.
      stove::State state = stove::load_state(w.state);
      stove::Journal journal(w.state);
      journal.begin(state, "apply");
      stove::ResourceState space = state.resources.at(0);
      space.observed["status"] = "MIGRATING";
      journal.recorded(space);
    }
    const uint64_t serial = w.state_json().at("serial").get<uint64_t>();
    RunResult r = w.import(k_app, id);
    INFO(r.out, r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == imported(k_app, id, "machine"));
    CHECK(r.err == fmt::format("stove: note: recovered 2 step(s) of an interrupted apply from "
                               "{}.journal\n",
                               w.state));
    CHECK_FALSE(std::filesystem::exists(fmt::format("{}.journal", w.state)));
    CHECK(w.state_json().at("serial") == serial + 2);
    CHECK(w.record(k_space).at("observed").at("status") == "MIGRATING");
    CHECK(w.record(k_app).at("remote_id") == id);
    // The backup is the recovered state, before the import.
    Json backup = Json::parse(read_file(fmt::format("{}.backup", w.state)));
    CHECK(backup.at("serial") == serial + 1);
    REQUIRE(backup.at("resources").size() == 1);
    CHECK(backup.at("resources").at(0).at("observed").at("status") == "MIGRATING");
  }
}
