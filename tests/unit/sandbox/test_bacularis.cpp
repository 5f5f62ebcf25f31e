// The sandbox's Bacularis subset: Bacula's naming and directive rules,
// referential integrity, the console, credentials, and persistence across
// a restart.

#include "sandbox/bacularis.hpp"
#include "sandbox/server.hpp"
#include "support/temp_dir.hpp"

#include "http/client.hpp"

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

struct Director {
  test::TempDir dir;
  Bacularis bacula{dir.path().string(), "tok"};

  Reply post(const std::string& type, const std::string& name, const json& directives) {
    return bacula.call("POST", fmt::format("/api/v2/config/dir/{}/{}", type, name),
                       config_body(directives));
  }
  Reply put(const std::string& type, const std::string& name, const json& directives) {
    return bacula.call("PUT", fmt::format("/api/v2/config/dir/{}/{}", type, name),
                       config_body(directives));
  }
  Reply remove(const std::string& type, const std::string& name) {
    return bacula.call("DELETE", fmt::format("/api/v2/config/dir/{}/{}", type, name), "");
  }
  Reply get(const std::string& path) { return bacula.call("GET", path, ""); }

  // A Backup job and everything it names.
  void backup(const std::string& job) {
    REQUIRE(post("Client", "web-fd", {{"Address", "10.0.0.5"}}).body["error"] == 0);
    REQUIRE(post("FileSet", fmt::format("{}-fs", job), {{"Include", {{{"File", {"/etc"}}}}}})
                .body["error"] == 0);
    REQUIRE(post("Schedule", fmt::format("{}-sched", job), {{"Run", {"Level=Full sun at 02:00"}}})
                .body["error"] == 0);
    REQUIRE(post("Job", job,
                 {{"Type", "Backup"},
                  {"Client", "web-fd"},
                  {"FileSet", fmt::format("{}-fs", job)},
                  {"Schedule", fmt::format("{}-sched", job)}})
                .body["error"] == 0);
  }
};

json reply(int error, json output) {
  return {{"output", std::move(output)}, {"error", error}};
}

} // namespace

TEST_CASE("sandbox bacularis: names are 1 to 127 letters, digits, - _ . : and inner spaces") {
  Director d;
  const json client = {{"Address", "10.0.0.5"}};
  CHECK(d.post("Client", "web-1_a.b:c d", client).body ==
        reply(0, {{"Address", "10.0.0.5"}, {"Name", "web-1_a.b:c d"}}));
  CHECK(d.post("Client", std::string(127, 'a'), client).body["error"] == 0);
  Reply bad = d.post("Client", "web$1", client);
  CHECK(bad.status == 200);
  CHECK(bad.body == reply(94, "Config validation error. Client \"web$1\": a name holds letters, "
                              "digits, spaces and - _ . : only, not '$'"));
  CHECK(d.post("Client", std::string(128, 'a'), client).body["output"] ==
        fmt::format("Config validation error. Client \"{}\": a name has at most 127 characters, "
                    "not 128",
                    std::string(128, 'a')));
  CHECK(d.post("Client", " web", client).body["output"] ==
        "Config validation error. Client \" web\": a name cannot start or end with a space");
  // The Name directive, if given, must be the one in the path.
  CHECK(d.post("Client", "db", {{"Name", "web"}, {"Address", "x"}}).body ==
        reply(94, "Config validation error. Client \"db\": Name \"web\" differs from the name in "
                  "the path"));
}

TEST_CASE("sandbox bacularis: required directives and Run directive syntax") {
  Director d;
  CHECK(d.post("Client", "web-fd", {{"FDPort", 9102}}).body["output"] ==
        "Config validation error. Client \"web-fd\": Address is required");
  CHECK(d.post("Client", "web-fd", {{"Address", "h"}, {"FDPort", 70000}}).body["output"] ==
        "Config validation error. Client \"web-fd\": FDPort is a port number, not 70000");
  CHECK(d.post("FileSet", "fs", {{"Include", json::array()}}).body["output"] ==
        "Config validation error. FileSet \"fs\": Include with at least one File is required");
  CHECK(d.post("Schedule", "s", json::object()).body["output"] ==
        "Config validation error. Schedule \"s\": Run is required");
  CHECK(d.post("Pool", "p", {{"VolumeRetention", "thirty days"}}).body["output"] ==
        "Config validation error. Pool \"p\": VolumeRetention: \"thirty days\" is not a period "
        "such as \"30 days\"");
  CHECK(d.post("Job", "j", {{"Type", "Backup"}}).body["output"] ==
        "Config validation error. Job \"j\": a Backup job needs Client");
  CHECK(d.post("Job", "j", {{"Type", "Backup"}, {"Client", "web-fd"}, {"FileSet", "fs"}})
            .body["output"] ==
        "Config validation error. Job \"j\": Client \"web-fd\" does not exist");

  for (const char* good :
       {"Level=Full sun at 02:00", "Level=Incremental mon-sat at 2:05", "at 23:59",
        "Level=differential Pool=Weekly 1st sun at 00:00", "daily at 12:30"}) {
    CAPTURE(good);
    CHECK(d.post("Schedule", "good", {{"Run", {good}}}).body["error"] == 0);
    CHECK(d.remove("Schedule", "good").body["error"] == 0);
  }
  for (auto [bad, why] : std::initializer_list<std::pair<const char*, const char*>>{
           {"Level=Weekly sun at 02:00",
            "Level is Full, Incremental, Differential or VirtualFull, not \"Weekly\""},
           {"Level=Full sun", "it must end with \"at HH:MM\""},
           {"sun at 24:00", "the time is HH:MM between 00:00 and 23:59, not \"24:00\""},
           {"sun at 2", "the time is HH:MM between 00:00 and 23:59, not \"2\""},
           {"at sun at 02:00", "\"at\" may come only once, before the time"},
           {"Level= sun at 02:00", "\"Level=\" is not Key=Value"}}) {
    CAPTURE(bad);
    CHECK(d.post("Schedule", "bad", {{"Run", {bad}}}).body ==
          reply(94, fmt::format("Config validation error. Schedule \"bad\": Run \"{}\": {}", bad,
                                why)));
  }
}

TEST_CASE("sandbox bacularis: a resource a Job uses cannot be deleted, and missing or existing "
          "resources are refused with their codes") {
  Director d;
  d.backup("nightly");
  CHECK(
      d.remove("Schedule", "nightly-sched").body ==
      reply(99, "Config dependency error. Schedule \"nightly-sched\" is used by Job \"nightly\""));
  CHECK(d.remove("Client", "web-fd").body ==
        reply(99, "Config dependency error. Client \"web-fd\" is used by Job \"nightly\""));
  CHECK(d.post("Job", "nightly", {{"Type", "Backup"}}).body ==
        reply(98, "Config already exists. Component Type: dir, Resource Type: Job, Resource "
                  "Name: nightly"));
  // A PUT is checked like a POST.
  CHECK(d.put("Job", "nightly",
              {{"Type", "Backup"},
               {"Client", "web-fd"},
               {"FileSet", "nightly-fs"},
               {"Schedule", "gone"}})
            .body["output"] == "Config validation error. Job \"nightly\": Schedule \"gone\" does "
                               "not exist");

  CHECK(d.remove("Job", "nightly").body["error"] == 0);
  CHECK(d.remove("Schedule", "nightly-sched").body["error"] == 0);
  CHECK(d.remove("FileSet", "nightly-fs").body["error"] == 0);
  CHECK(d.remove("Client", "web-fd").body["error"] == 0);
  Reply missing = d.remove("Client", "web-fd");
  CHECK(missing.status == 404);
  CHECK(missing.body == reply(97, "Config does not exist. Component Type: dir, Resource Type: "
                                  "Client, Resource Name: web-fd"));
  CHECK(d.put("Client", "web-fd", {{"Address", "x"}}).status == 404);
  CHECK(d.get("/api/v2/config/dir/Job/nightly").status == 404);
  CHECK(d.get("/api/v2/config/dir/Storage/File1").body["error"] == 8);
  CHECK(d.get("/api/v2/config/dir/Job").body == reply(0, json::array()));
}

TEST_CASE("sandbox bacularis: the director runs the jobs of its last reload") {
  Director d;
  d.backup("nightly");
  CHECK(d.get("/api/v2/jobs/resnames").body == reply(0, {{"sandbox-dir", json::array()}}));
  CHECK(d.bacula.call("PUT", "/api/v2/console", R"(["reload"])").body ==
        reply(0, json::array({"reloaded"})));
  CHECK(d.get("/api/v2/jobs/resnames").body ==
        reply(0, {{"sandbox-dir", json::array({"nightly"})}}));
  CHECK(d.bacula.call("PUT", "/api/v2/console", R"(["status", "dir"])").body ==
        reply(1, "Invalid command. The sandbox's console runs [\"reload\"] only, not "
                 "[\"status\",\"dir\"]"));
  CHECK(d.get("/api/v2/config/dir/Job").body ==
        reply(0, json::array({{{"Job",
                                {{"Name", "nightly"},
                                 {"Type", "Backup"},
                                 {"Client", "web-fd"},
                                 {"FileSet", "nightly-fs"},
                                 {"Schedule", "nightly-sched"}}}}})));
}

TEST_CASE("sandbox bacularis: over HTTP with credentials, and the configuration survives a "
          "restart") {
  test::TempDir dir;
  Options options;
  options.data_dir = (dir / "data").string();
  options.token = "tok";
  options.threads = 2;
  // A client per server: a kept-alive connection would hold its stop up.
  auto send = [&](const Server& server, std::string method, const std::string& path,
                  std::string authorization, const json* body = nullptr) {
    const std::string url = fmt::format("{}/api/v2/{}", server.url(), path);
    http::Request request;
    if (body != nullptr) {
      request = http::Request::json(std::move(method), url, *body);
    } else {
      request.method = std::move(method);
      request.url = url;
    }
    if (!authorization.empty()) {
      request.headers.emplace_back("Authorization", std::move(authorization));
    }
    http::Client client(http::ClientOptions{});
    return client.send(request);
  };
  {
    Server server(options);
    server.start();
    http::Response denied = send(server, "GET", "config/dir/Job", "");
    CHECK(denied.status == 401);
    CHECK(denied.json()["error"] == 6);
    CHECK(send(server, "GET", "config/dir/Job", "Bearer nope").status == 401);
    // Basic auth: sandbox, with the token as password ("sandbox:tok").
    CHECK(send(server, "GET", "config/dir/Job", "Basic c2FuZGJveDp0b2s=").status == 200);
    json body = {{"config", json{{"Address", "10.0.0.5"}}.dump()}};
    http::Response created =
        send(server, "POST", "config/dir/Client/web%20fd", "Bearer tok", &body);
    CHECK(created.json() == reply(0, {{"Address", "10.0.0.5"}, {"Name", "web fd"}}));
    body = {{"config", json{{"Include", {{{"File", {"/"}}}}}}.dump()}};
    send(server, "POST", "config/dir/FileSet/fs", "Bearer tok", &body);
    body = {{"config", json{{"Type", "Backup"}, {"Client", "web fd"}, {"FileSet", "fs"}}.dump()}};
    CHECK(send(server, "POST", "config/dir/Job/nightly", "Bearer tok", &body).json()["error"] == 0);
    CHECK(server.counters().mutating == 3);
  }
  json saved = json::parse(test::read_file(dir / "data" / "bacula.json"));
  CHECK(saved["format"] == "stove-sandbox-bacula");
  CHECK(saved["resources"]["Client"]["web fd"] ==
        json{{"Address", "10.0.0.5"}, {"Name", "web fd"}});

  Server again(options);
  again.start();
  CHECK(send(again, "GET", "config/dir/Client/web%20fd", "Bearer tok").json() ==
        reply(0, {{"Address", "10.0.0.5"}, {"Name", "web fd"}}));
  CHECK(send(again, "GET", "config/dir/Job/nightly", "Bearer tok").json()["output"]["FileSet"] ==
        "fs");
  // A director that starts has read its configuration.
  CHECK(send(again, "GET", "jobs/resnames", "Bearer tok").json() ==
        reply(0, {{"sandbox-dir", json::array({"nightly"})}}));
  CHECK(send(again, "DELETE", "config/dir/FileSet/fs", "Bearer tok").json()["error"] == 99);
}

namespace {

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

  void post(const std::string& type, const std::string& name, const json& directives) {
    Reply r = bacula.call("POST", fmt::format("/api/v2/config/dir/{}/{}", type, name),
                          config_body(directives));
    REQUIRE_MESSAGE(r.body["error"] == 0, r.body.dump());
  }

  void job(const std::string& name, const std::string& address = "10.0.0.5") {
    post("Client", fmt::format("{}-fd", name), {{"Address", address}});
    post("FileSet", fmt::format("{}-fs", name), {{"Include", {{{"File", {"/etc", "/srv"}}}}}});
    post("Pool", fmt::format("{}-pool", name), {{"PoolType", "Backup"}});
    post("Job", name,
         {{"Type", "Backup"},
          {"Level", "Incremental"},
          {"Client", fmt::format("{}-fd", name)},
          {"FileSet", fmt::format("{}-fs", name)},
          {"Pool", fmt::format("{}-pool", name)}});
    REQUIRE(bacula.call("PUT", "/api/v2/console", R"(["reload"])").body["error"] == 0);
  }

  json run_body(const std::string& name, const std::string& level = "F") {
    return {{"name", name},
            {"level", level},
            {"client", fmt::format("{}-fd", name)},
            {"fileset", fmt::format("{}-fs", name)},
            {"storage", "File1"},
            {"pool", fmt::format("{}-pool", name)}};
  }

  Reply run(const json& body) { return bacula.call("POST", "/api/v2/jobs/run", body.dump()); }
  json record(int64_t id) {
    return bacula.call("GET", fmt::format("/api/v2/jobs/{}", id), "").body["output"];
  }
  json log(int64_t id) {
    return bacula.call("GET", fmt::format("/api/v2/joblog/{}", id), "").body["output"];
  }
};

} // namespace

TEST_CASE("sandbox bacularis: a run job is queued, runs and terminates normally") {
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

TEST_CASE("sandbox bacularis: a job whose file daemon cannot be reached fails with f") {
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

TEST_CASE("sandbox bacularis: jobs/run checks what Bacularis checks, with its error codes") {
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
  storage["storage"] = "";
  CHECK(error(storage) == reply(54, "Storage does not exist."));
  json pool = r.run_body("nightly");
  pool["pool"] = "nope";
  CHECK(error(pool) == reply(55, "Pool does not exist."));
  CHECK(r.bacula.call("GET", "/api/v2/jobs/run", "").status == 405);
  Reply missing = r.bacula.call("GET", "/api/v2/jobs/7", "");
  CHECK(missing.status == 404);
  CHECK(missing.body == reply(50, "Job does not exist."));
  CHECK(r.bacula.call("GET", "/api/v2/joblog/x", "").body["error"] == 50);
  // Nothing was queued by the refusals.
  CHECK(r.run(r.run_body("nightly")).body["output"].back() == "Job queued. JobId=1");
}

TEST_CASE("sandbox bacularis: job runs persist in bacula.json and ids never repeat") {
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
  json document = bacula_to_document({}, jobs);
  BaculaJobs back = bacula_jobs_from_document(document);
  CHECK(back.next_id == 5);
  REQUIRE(back.runs.size() == 1);
  CHECK(back.runs.at(4).failure == "boom");
  CHECK(back.runs.at(4).level == "D");
  CHECK(back.runs.at(4).bytes == 6);
  // A file from before jobs/run has none.
  json old = {{"format", "stove-sandbox-bacula"}, {"version", 1}, {"resources", json::object()}};
  CHECK(bacula_jobs_from_document(old).runs.empty());
  CHECK(bacula_jobs_from_document(old).next_id == 1);
  json broken = document;
  broken["jobs"][0].erase("level");
  CHECK_THROWS_AS(bacula_jobs_from_document(broken), std::runtime_error);
}
