// Backups end to end: the built binary against `stove sandbox serve`, whose
// Bacularis subset (/api/v2) stove drives through its bacularis adapter.

#include "support/background.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <string>

using namespace stove::test;
using Json = nlohmann::json;

namespace {

// The level and the hours, minute and weekdays of a Schedule's one Run, as
// bdirjson prints it.
Json when(const Json& schedule) {
  const Json& runs = schedule.at("Run");
  REQUIRE(runs.size() == 1);
  Json out;
  for (const char* key : {"Level", "Hour", "Minute", "DayOfWeek"}) {
    out[key] = runs[0].value(key, Json());
  }
  return out;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A cloud space, and when `with_machine`, its machine with one backup.
std::string infra(const std::string& url, const std::string& schedule, bool with_machine = true) {
  std::string out = fmt::format(R"(providers:
  lab:
    type: sandbox
    endpoint: {}
resources:
  - type: cloud_space
    name: web
    location_id: 1
)",
                                url);
  if (with_machine) {
    out += fmt::format(R"(    machines:
      - name: app
        image_id: 12
        memory: 2048
        vcpus: 2
        disk_boot_size: 20
        backups:
          - name: nightly
            schedule: {}
            fileset: [/var/www, /etc]
            excludes: [/var/www/cache]
            retention_days: 14
)",
                       schedule);
  }
  return out;
}

struct World {
  TempDir dir;
  SandboxProcess sandbox{(dir / "cloud").string(), {"--deploy-delay", "20"}};
  std::string file = (dir / "infra.yaml").string();
  std::string state = (dir / "infra.state.json").string();

  void write(const std::string& schedule, bool with_machine = true) const {
    dir.write("infra.yaml", infra(sandbox.url(), schedule, with_machine));
  }

  RunResult stove(std::vector<std::string> args) const {
    RunOptions options;
    options.env["STOVE_SANDBOX_TOKEN"] = sandbox.token();
    return run_stove(args, options);
  }

  RunResult apply() const {
    return stove({"--no-color", "apply", "--auto-approve", "--state", state, file});
  }

  // GET /api/v2/config/dir/TYPE/NAME: the error code and the output.
  std::pair<int, Json> director(const std::string& type, const std::string& name) const {
    httplib::Client client("127.0.0.1", sandbox.port());
    client.set_bearer_token_auth(sandbox.token());
    auto res = client.Get(fmt::format("/api/v3/config/dir/{}/{}", type, name));
    REQUIRE(res);
    Json body = Json::parse(res->body);
    return {body.at("error").get<int>(), body.at("output")};
  }

  Json counters() const {
    httplib::Client client("127.0.0.1", sandbox.port());
    auto res = client.Get("/sandbox/counters");
    REQUIRE(res);
    return Json::parse(res->body);
  }

  Json state_json() const { return Json::parse(read_file(state)); }
};

const Json* find(const Json& state, const std::string& address) {
  for (const auto& r : state.at("resources")) {
    if (r.at("address") == address) {
      return &r;
    }
  }
  return nullptr;
}

const std::string k_machine = R"(cloud_space["web"].machine["app"])";
const std::string k_backup = R"(cloud_space["web"].machine["app"].backup["nightly"])";

} // namespace

TEST_SUITE("backups against stove sandbox serve") {
  TEST_CASE("create, change the schedule in place, refuse a bad one, delete with the machine") {
    World w;

    // 1. create: the Client of the machine, then FileSet, Schedule, Pool, Job
    w.write("Level=Full sun at 02:00");
    RunResult created = w.apply();
    INFO(created.out, created.err);
    REQUIRE(created.exit_code == 0);
    CHECK(contains(created.out, "Apply complete! Resources: 3 added, 0 changed, 0 destroyed.\n"));
    Json s1 = w.state_json();
    const Json* backup = find(s1, k_backup);
    const Json* machine = find(s1, k_machine);
    REQUIRE(backup != nullptr);
    REQUIRE(machine != nullptr);
    CHECK(backup->at("remote_id") == "nightly");
    CHECK(backup->at("status") == "completed");
    const std::string ip = machine->at("observed").at("ip_address").get<std::string>();
    CHECK(!ip.empty());

    auto [job_error, job] = w.director("Job", "nightly");
    REQUIRE(job_error == 0);
    CHECK(job.at("Client") == "app-fd");
    CHECK(job.at("Schedule") == "nightly-schedule");
    CHECK(job.at("Fileset") == "nightly-fileset");
    CHECK(job.at("Pool") == "nightly-pool");
    auto [client_error, client] = w.director("Client", "app-fd");
    REQUIRE(client_error == 0);
    CHECK(client.at("Address") == ip);
    auto [schedule_error, schedule] = w.director("Schedule", "nightly-schedule");
    REQUIRE(schedule_error == 0);
    // As bdirjson prints a Run: its level and the times it fires, as bits.
    CHECK(when(schedule) == Json{{"Level", "Full"}, {"Hour", {2}}, {"Minute", 0},
                                 {"DayOfWeek", {0}}});
    auto [fileset_error, fileset] = w.director("Fileset", "nightly-fileset");
    REQUIRE(fileset_error == 0);
    CHECK(fileset.at("Include").at(0).at("File") == Json::array({"/var/www", "/etc"}));
    CHECK(fileset.at("Exclude").at("File") == Json::array({"/var/www/cache"}));
    auto [pool_error, pool] = w.director("Pool", "nightly-pool");
    REQUIRE(pool_error == 0);
    CHECK(pool.at("VolumeRetention") == 14 * 86400);
    CHECK(w.stove({"plan", "--detailed-exitcode", "--state", w.state, w.file}).exit_code == 0);

    // 2. a new schedule is an update in place of the backup alone
    w.write("Level=Incremental mon-sat at 03:30");
    RunResult plan = w.stove({"--no-color", "plan", "--state", w.state, w.file});
    INFO(plan.out, plan.err);
    CHECK(contains(plan.out, "  # " + k_backup + " will be updated in-place\n"));
    CHECK(contains(plan.out, "      ~ schedule = \"Level=Full sun at 02:00\" -> "
                             "\"Level=Incremental mon-sat at 03:30\"\n"));
    CHECK(contains(plan.out, "Plan: 0 to add, 1 to change, 0 to destroy.\n"));
    RunResult updated = w.apply();
    INFO(updated.out, updated.err);
    REQUIRE(updated.exit_code == 0);
    CHECK(contains(updated.out, "Apply complete! Resources: 0 added, 1 changed, 0 destroyed.\n"));
    CHECK(when(w.director("Schedule", "nightly-schedule").second) ==
          Json{{"Level", "Incremental"}, {"Hour", {3}}, {"Minute", 30},
               {"DayOfWeek", {1, 2, 3, 4, 5, 6}}});
    CHECK(find(w.state_json(), k_backup)->at("remote_id") == "nightly");
    CHECK(w.stove({"plan", "--detailed-exitcode", "--state", w.state, w.file}).exit_code == 0);

    // 3. a schedule the director would refuse never reaches it
    const std::string before = read_file(w.state);
    const int mutating = w.counters().at("mutating").get<int>();
    w.write("Level=Incremental mon-sat 03:30");
    RunResult refused = w.apply();
    CHECK(refused.exit_code == 1);
    CHECK(contains(refused.err,
                   "infra.yaml:17:49: error: backup \"nightly\": field \"schedule\" has the time "
                   "\"03:30\" without \"at\" before it (write \"at 03:30\")\n"));
    CHECK(read_file(w.state) == before);
    CHECK(w.counters().at("mutating").get<int>() == mutating);

    // 4. the machine goes, and its backup with it, backup first
    w.write("Level=Incremental mon-sat at 03:30", false);
    RunResult deleted = w.apply();
    INFO(deleted.out, deleted.err);
    REQUIRE(deleted.exit_code == 0);
    CHECK(contains(deleted.out, "Apply complete! Resources: 0 added, 0 changed, 2 destroyed.\n"));
    size_t backup_gone = deleted.out.find(k_backup + ": Destruction complete");
    size_t machine_gone = deleted.out.find(k_machine + ": Destruction complete");
    REQUIRE(backup_gone != std::string::npos);
    REQUIRE(machine_gone != std::string::npos);
    CHECK(backup_gone < machine_gone);
    for (auto [type, name] : {std::pair{"Job", "nightly"}, {"Schedule", "nightly-schedule"},
                              {"Fileset", "nightly-fileset"}, {"Pool", "nightly-pool"},
                              {"Client", "app-fd"}}) {
      CAPTURE(type);
      // What Bacularis answers for a resource that does not exist.
      CHECK(w.director(type, name) == std::pair{0, Json::array()});
    }
    Json s4 = w.state_json();
    CHECK(s4.at("resources").size() == 1);
    CHECK(find(s4, k_machine) == nullptr);
    CHECK(w.stove({"plan", "--detailed-exitcode", "--state", w.state, w.file}).exit_code == 0);
  }

  TEST_CASE("a backup whose Job went while its parts stayed is incomplete, and apply finishes it, and "
            "without the file, destroy removes what is left") {
    World w;
    w.write("Level=Full sun at 02:00");
    REQUIRE(w.apply().exit_code == 0);
    // What a destroy cut short after the Job's DELETE leaves: the Job gone,
    // the director not reloaded.
    httplib::Client admin("127.0.0.1", w.sandbox.port());
    admin.set_bearer_token_auth(w.sandbox.token());
    auto gone = admin.Delete("/sandbox/admin/bacula/Job/nightly");
    REQUIRE(gone);
    REQUIRE(gone->status == 200);

    RunResult drift = w.stove({"drift", "--json", "--state", w.state, w.file});
    INFO(drift.out, drift.err);
    CHECK(drift.exit_code == 2);
    Json report = Json::parse(drift.out);
    REQUIRE(report.at("drift").size() == 1);
    CHECK(report["drift"][0].at("address") == k_backup);
    CHECK(report["drift"][0].at("change") == "incomplete");
    CHECK(report["drift"][0].at("missing") ==
          Json::array({"Job \"nightly\"",
                       "a director reload (the director still runs this deleted Job)"}));
    CHECK(report.at("summary").at("incomplete") == 1);
    CHECK(report.at("summary").at("deleted") == 0);

    RunResult plan = w.stove({"--no-color", "plan", "--state", w.state, w.file});
    INFO(plan.out);
    CHECK(contains(plan.out, "  # " + k_backup +
                                 " is incomplete (a run cut short, or a change made by hand)\n"
                                 "  ! missing: Job \"nightly\"\n"));
    CHECK(contains(plan.out, "Plan: 0 to add, 1 to change, 0 to destroy.\n"));
    RunResult finished = w.apply();
    INFO(finished.out, finished.err);
    REQUIRE(finished.exit_code == 0);
    CHECK(w.director("Job", "nightly").second.at("Client") == "app-fd");
    CHECK(w.stove({"drift", "--state", w.state, w.file}).exit_code == 0);

    // Cut short again; now the file drops the machine: what is left goes.
    REQUIRE(admin.Delete("/sandbox/admin/bacula/Job/nightly")->status == 200);
    w.write("Level=Full sun at 02:00", false);
    RunResult removed = w.apply();
    INFO(removed.out, removed.err);
    REQUIRE(removed.exit_code == 0);
    CHECK(contains(removed.out, "Apply complete! Resources: 0 added, 0 changed, 2 destroyed.\n"));
    for (auto [type, name] : {std::pair{"Schedule", "nightly-schedule"},
                              {"Fileset", "nightly-fileset"}, {"Pool", "nightly-pool"},
                              {"Client", "app-fd"}}) {
      CAPTURE(type);
      CHECK(w.director(type, name) == std::pair{0, Json::array()});
    }
    auto loaded = admin.Get("/api/v3/jobs/resnames");
    REQUIRE(loaded);
    CHECK(Json::parse(loaded->body).at("output") == Json{{"sandbox-dir", Json::array()}});
  }
}
