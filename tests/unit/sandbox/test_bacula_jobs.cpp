// The sandbox director's job runs: jobs/run as Bacularis checks it, the
// catalog's records and logs as a run goes, and their persistence.

#include "sandbox/bacula_jobs.hpp"
#include "sandbox/bacularis.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <map>

using namespace stove;
using namespace stove::sandbox;
using nlohmann::json;

namespace {

std::string config_body(const json& directives) {
  return json{{"config", directives.dump()}}.dump();
}

json reply(int error, json output) {
  return {{"output", std::move(output)}, {"error", error}};
}

// A director whose jobs run on a clock the test moves, against file daemons
// it says are up or down.
struct Runner {
  test::TempDir dir;
  int64_t now = 1'800'000'000'000;
  std::map<std::string, bool> daemons{{"10.0.0.5", true}};
  Bacularis bacula{dir.path().string(), "tok", options()};

  JobOptions options() {
    JobOptions o;
    o.duration = std::chrono::milliseconds(800);
    o.clock = [this] { return now; };
    o.client_reachable = [this](std::string_view address) -> std::optional<bool> {
      auto it = daemons.find(std::string(address));
      if (it == daemons.end()) {
        return std::nullopt;
      }
      return it->second;
    };
    return o;
  }

  void post(const std::string& type, const json& directives) {
    Reply r = bacula.call(
        "POST",
        fmt::format("/api/v3/config/dir/{}/{}", type, directives["Name"].get<std::string>()),
        config_body(directives));
    REQUIRE_MESSAGE(r.body["error"] == 0, r.body.dump());
  }

  void job(const std::string& name, const std::string& address = "10.0.0.5") {
    post("Client", {{"Name", name + "-fd"},
                    {"Address", address},
                    {"Catalog", "MyCatalog"},
                    {"Password", "x"}});
    post("Fileset", {{"Name", name + "-fs"}, {"Include", {{{"File", {"/etc", "/srv"}}}}}});
    post("Pool", {{"Name", name + "-pool"}, {"PoolType", "Backup"}});
    post("Job", {{"Name", name},
                 {"Type", "Backup"},
                 {"Level", "Incremental"},
                 {"Client", name + "-fd"},
                 {"Fileset", name + "-fs"},
                 {"Pool", name + "-pool"},
                 {"Storage", {"File1"}},
                 {"Messages", "Standard"}});
    REQUIRE(bacula.call("PUT", "/api/v3/console", R"(["reload"])").body["error"] == 0);
  }

  json run_body(const std::string& name, const std::string& level = "F") {
    return {{"name", name},           {"level", level},
            {"client", name + "-fd"}, {"fileset", name + "-fs"},
            {"storage", "File1"},     {"pool", name + "-pool"}};
  }

  Reply run(const json& body) { return bacula.call("POST", "/api/v3/jobs/run", body.dump()); }
  json record(int64_t id) {
    return bacula.call("GET", fmt::format("/api/v3/jobs/{}", id), "").body["output"];
  }
  json log(int64_t id) {
    return bacula.call("GET", fmt::format("/api/v2/joblog/{}", id), "").body["output"];
  }
};

} // namespace

TEST_SUITE("sandbox bacula jobs") {
  TEST_CASE("a run job is queued, runs and terminates normally") {
    Runner r;
    r.job("nightly");
    Reply queued = r.run(r.run_body("nightly"));
    CHECK(queued.status == 200);
    CHECK(queued.version != 0);
    REQUIRE(queued.body["error"] == 0);
    REQUIRE(queued.body["output"].is_array());
    CHECK(queued.body["output"].back() == "Job queued. JobId=1");
    CHECK(queued.body["output"][3] == "Level:    Full");

    json created = r.record(1);
    CHECK(created["jobid"] == 1);
    CHECK(created["name"] == "nightly");
    CHECK(created["type"] == "B");
    CHECK(created["level"] == "F");
    CHECK(created["client"] == "nightly-fd");
    CHECK(created["jobstatus"] == "C");
    CHECK(created["starttime"].is_null());
    CHECK(created["endtime"].is_null());
    CHECK(r.log(1) == json::array());

    r.now += 200; // a quarter of the duration: it starts
    json running = r.record(1);
    CHECK(running["jobstatus"] == "R");
    CHECK(running["starttime"].is_string());
    CHECK(running["endtime"].is_null());

    r.now += 600;
    json done = r.record(1);
    CHECK(done["jobstatus"] == "T");
    CHECK(done["endtime"].is_string());
    CHECK(done["jobfiles"] == 2400); // two paths, Full
    CHECK(done["jobbytes"] == 2400 * 8192);
    CHECK(done["joberrors"] == 0);
    json log = r.log(1);
    REQUIRE(log.size() == 3);
    CHECK(log.back().get<std::string>().find("Termination: Backup OK") != std::string::npos);

    // Ids keep counting; an Incremental is smaller.
    REQUIRE(r.run(r.run_body("nightly", "I")).body["output"].back() == "Job queued. JobId=2");
    r.now += 800;
    CHECK(r.record(2)["level"] == "I");
    CHECK(r.record(2)["jobfiles"] == 80);
  }

  TEST_CASE("a job whose file daemon cannot be reached fails with f") {
    Runner r;
    r.job("down", "10.0.0.9"); // no machine has that address
    r.daemons["10.0.0.7"] = false;
    r.job("halted", "10.0.0.7"); // its machine is HALTED
    REQUIRE(r.run(r.run_body("down")).body["error"] == 0);
    REQUIRE(r.run(r.run_body("halted")).body["error"] == 0);
    CHECK(r.record(1)["jobstatus"] == "C");
    r.now += 200;
    CHECK(r.record(1)["jobstatus"] == "f");
    CHECK(r.record(1)["joberrors"] == 1);
    CHECK(r.record(1)["endtime"].is_string());
    CHECK(r.record(2)["jobstatus"] == "f");
    json log = r.log(1);
    REQUIRE(log.size() == 3);
    CHECK(log[1] == "15-Jan 08:00 sandbox-dir JobId 1: Fatal error: bsockcore.c:209 Unable to "
                    "connect to Client: down-fd on 10.0.0.9:9102. ERR=No route to host");
    CHECK(r.log(2)[1].get<std::string>().find("ERR=Connection refused") != std::string::npos);
    r.now += 10'000;
    CHECK(r.record(1)["jobstatus"] == "f");
  }

  TEST_CASE("jobs/run checks what Bacularis checks, with its error codes") {
    Runner r;
    r.job("nightly");
    auto error = [&](json body) { return r.run(body).body; };
    json unloaded = r.run_body("nightly");
    unloaded["name"] = "other";
    CHECK(error(unloaded) == reply(50, "Job does not exist."));
    json no_level = r.run_body("nightly");
    no_level.erase("level");
    CHECK(error(no_level) == reply(51, "Inputted job level is invalid."));
    CHECK(error(r.run_body("nightly", "Full")) == reply(51, "Inputted job level is invalid."));
    json fileset = r.run_body("nightly");
    fileset["fileset"] = "nope";
    CHECK(error(fileset) == reply(52, "FileSet resource does not exist."));
    json client = r.run_body("nightly");
    client.erase("client");
    CHECK(error(client) == reply(53, "Client does not exist."));
    json storage = r.run_body("nightly");
    storage["storage"] = "File9";
    CHECK(error(storage) == reply(54, "Storage does not exist."));
    json pool = r.run_body("nightly");
    pool["pool"] = "nope";
    CHECK(error(pool) == reply(55, "Pool does not exist."));
    // Bacularis answers HTTP 200 with its error code, even for a job id it
    // does not know.
    Reply missing = r.bacula.call("GET", "/api/v3/jobs/7", "");
    CHECK(missing.status == 200);
    CHECK(missing.body == reply(50, "Job does not exist."));
    CHECK(r.bacula.call("GET", "/api/v2/joblog/x", "").body["error"] == 50);
    // Nothing was queued by the refusals.
    CHECK(r.run(r.run_body("nightly")).body["output"].back() == "Job queued. JobId=1");
  }

  TEST_CASE("a job added since the last reload does not run") {
    Runner r;
    r.job("nightly");
    r.post("Job", {{"Name", "later"},
                   {"Type", "Backup"},
                   {"Client", "nightly-fd"},
                   {"Fileset", "nightly-fs"},
                   {"Pool", "nightly-pool"},
                   {"Storage", {"File1"}},
                   {"Messages", "Standard"}});
    json later = r.run_body("nightly");
    later["name"] = "later";
    CHECK(r.run(later).body == reply(50, "Job does not exist."));
    REQUIRE(r.bacula.call("PUT", "/api/v3/console", R"(["reload"])").body["error"] == 0);
    CHECK(r.run(later).body["error"] == 0);
  }

  TEST_CASE("job runs persist and ids never repeat") {
    BaculaJobs jobs;
    JobRun run;
    run.id = 4;
    run.name = "nightly";
    run.level = "D";
    run.client = "web-fd";
    run.fileset = "fs";
    run.pool = "pool";
    run.storage = "File1";
    run.queued_ms = 1;
    run.start_ms = 2;
    run.end_ms = 3;
    run.failure = "boom";
    run.files = 5;
    run.bytes = 6;
    jobs.runs.emplace(4, run);
    jobs.next_id = 2; // lost: the runs say otherwise
    json document = {{"next_jobid", jobs.next_id}, {"jobs", jobs_to_json(jobs)}};
    BaculaJobs back = jobs_from_document(document);
    CHECK(back.next_id == 5);
    REQUIRE(back.runs.size() == 1);
    CHECK(back.runs.at(4).failure == "boom");
    CHECK(back.runs.at(4).level == "D");
    CHECK(back.runs.at(4).bytes == 6);
    // A file from before jobs/run has none.
    json old = {{"format", "stove-sandbox-bacula"}, {"version", 1}, {"resources", json::object()}};
    CHECK(jobs_from_document(old).runs.empty());
    CHECK(jobs_from_document(old).next_id == 1);
    json broken = document;
    broken["jobs"][0].erase("level");
    CHECK_THROWS_AS(jobs_from_document(broken), std::runtime_error);
  }
}
