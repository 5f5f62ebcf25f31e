// Actions (`stove exec`) through the adapters against the sandbox, in
// process: machines/start, stop and reboot through the OpenVCloud adapter,
// jobs/run through the Bacularis adapter, and execute_action recording
// what they observe in the state.

#include "apply/engine.hpp"
#include "apply/execute.hpp"
#include "util/error.hpp"
#include "model/kind.hpp"
#include "providers/bacularis.hpp"
#include "providers/provider.hpp"
#include "providers/sandbox_provider.hpp"
#include "sandbox/server.hpp"
#include "support/printing.hpp"
#include "support/temp_dir.hpp"
#include "unit/providers/provider_fixtures.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <algorithm>
#include <mutex>
#include <thread>

using namespace stove;
using namespace stove::providers;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

ProviderConfig config_of(const sandbox::Server& server) {
  ProviderConfig config;
  config.name = "sandbox";
  config.type = "sandbox";
  config.endpoint = server.url();
  return config;
}

std::unique_ptr<Provider> provider_for(const sandbox::Server& server) {
  return make_sandbox_provider(config_of(server), test::provider_options(test::fake_environment(
                                                      {{"STOVE_SANDBOX_TOKEN", "tok"}})));
}

// A sandbox with a cloud space "web", its machine "app" and the machine's
// backup "nightly", made through the adapters.
struct World {
  test::TempDir dir;
  sandbox::Server server;
  std::unique_ptr<Provider> provider;
  KindAdapter* spaces = nullptr;
  KindAdapter* machines = nullptr;
  KindAdapter* backups = nullptr;
  test::Notes notes;
  Remote space;
  Remote machine;
  Remote backup;

  explicit World(std::chrono::milliseconds job_duration = 200ms)
      : server(options(dir, job_duration)) {
    server.start();
    provider = provider_for(server);
    spaces = provider->adapter(Kind::cloud_space);
    machines = provider->adapter(Kind::machine);
    backups = provider->adapter(Kind::backup);
    space = spaces->create(test::space_target("web"), notes.context());
    machine = machines->create(machine_target(), notes.context());
    backup = backups->create(backup_target(), notes.context());
  }

  static sandbox::Options options(const test::TempDir& d, std::chrono::milliseconds jobs) {
    sandbox::Options o;
    o.data_dir = (d / "data").string();
    o.token = "tok";
    o.threads = 4;
    o.deploy_delay = 0ms;
    o.job_duration = jobs;
    return o;
  }

  Target machine_target() const {
    Target t = test::machine_target(space.remote_id, "app", machine.remote_id);
    t.prior_observed = machine.observed;
    return t;
  }

  Target backup_target() const {
    Target t;
    t.kind = Kind::backup;
    t.address = R"(cloud_space["web"].machine["app"].backup["nightly"])";
    t.remote_id = backup.remote_id;
    t.spec = {{"name", "nightly"},
              {"schedule", "Level=Incremental mon-sat at 02:00"},
              {"fileset", json::array({"/etc", "/var/www"})},
              {"excludes", json::array()},
              {"retention_days", 14},
              {"enabled", true},
              {"labels", json::object()}};
    Parent m;
    m.kind = Kind::machine;
    m.address = R"(cloud_space["web"].machine["app"])";
    m.remote_id = machine.remote_id;
    m.observed = machine.observed;
    Parent s;
    s.kind = Kind::cloud_space;
    s.address = R"(cloud_space["web"])";
    s.remote_id = space.remote_id;
    s.observed = space.observed;
    t.parents = {m, s};
    return t;
  }

  std::string machine_status() {
    auto remote = machines->read(machine_target(), notes.context());
    REQUIRE(remote);
    return remote->observed.value("status", std::string());
  }

  bool noted(const std::string& text) const {
    auto list = notes.list();
    return std::find(list.begin(), list.end(), text) != list.end();
  }

  // The three resources as apply would have recorded them.
  State state() const {
    State s;
    s.exists = true;
    auto record = [&](const std::string& address, const char* kind, const Remote& remote,
                      const std::string& parent, const json& spec) {
      ResourceState r;
      r.address = address;
      r.kind = kind;
      r.provider = "sandbox";
      r.remote_id = remote.remote_id;
      r.parent = parent;
      r.spec = spec;
      r.observed = remote.observed;
      r.created_at = r.updated_at = "2026-11-22T00:00:00Z";
      s.resources.push_back(std::move(r));
    };
    record(R"(cloud_space["web"])", "cloud_space", space, "", test::space_target("web").spec);
    record(R"(cloud_space["web"].machine["app"])", "machine", machine, R"(cloud_space["web"])",
           machine_target().spec);
    record(backup_target().address, "backup", backup, R"(cloud_space["web"].machine["app"])",
           backup_target().spec);
    return s;
  }

  ProviderSet provider_set() const {
    return ProviderSet({config_of(server)},
                       [this](const ProviderConfig&) { return provider_for(server); });
  }
};

std::string provider_error(const std::function<void()>& run) {
  try {
    run();
  } catch (const ProviderError& e) {
    return e.what();
  }
  return "(no ProviderError)";
}

const json k_no_params = json::object();

} // namespace

TEST_CASE("machine actions: stop, start and reboot wait for the status they lead to") {
  World w;
  const Target app = w.machine_target();
  ActionResult stopped = w.machines->execute(app, "stop", {{"force", false}}, w.notes.context());
  CHECK(stopped.ok);
  CHECK(stopped.outcome == "status=HALTED");
  CHECK(stopped.observed["status"] == "HALTED");
  CHECK(stopped.observed["name"] == "app");
  CHECK(stopped.observed["ip_address"] == w.machine.observed["ip_address"]);
  CHECK(w.machine_status() == "HALTED");

  // Nothing to do: no call, a note.
  ActionResult again = w.machines->execute(app, "stop", {{"force", true}}, w.notes.context());
  CHECK(again.ok);
  CHECK(again.outcome == "status=HALTED");
  CHECK(w.noted("already HALTED: nothing to do"));

  CHECK(provider_error([&] {
          w.machines->execute(app, "reboot", k_no_params, w.notes.context());
        }) == R"(cloud_space["web"].machine["app"]: the machine is HALTED; only a RUNNING machine )"
              "reboots (start it instead)");

  ActionResult started = w.machines->execute(app, "start", k_no_params, w.notes.context());
  CHECK(started.ok);
  CHECK(started.outcome == "status=RUNNING");
  CHECK(w.machine_status() == "RUNNING");
  ActionResult rebooted = w.machines->execute(app, "reboot", k_no_params, w.notes.context());
  CHECK(rebooted.ok);
  CHECK(rebooted.outcome == "status=RUNNING");
  ActionResult forced = w.machines->execute(app, "stop", {{"force", true}}, w.notes.context());
  CHECK(forced.outcome == "status=HALTED");
}

TEST_CASE("machine actions: unknown actions, other kinds and gone machines are errors") {
  World w;
  Target app = w.machine_target();
  CHECK(
      provider_error([&] { w.machines->execute(app, "pause", k_no_params, w.notes.context()); }) ==
      R"(cloud_space["web"].machine["app"]: action "pause" is not supported by this provider)");
  Target space = test::space_target("web", 1, w.space.remote_id);
  CHECK(provider_error([&] {
          w.spaces->execute(space, "start", k_no_params, w.notes.context());
        }) == R"(cloud_space["web"]: action "start" is not supported by this provider)");
  w.machines->destroy(app, w.notes.context());
  CHECK(
      provider_error([&] { w.machines->execute(app, "start", k_no_params, w.notes.context()); }) ==
      fmt::format(R"(cloud_space["web"].machine["app"]: machine {} no longer exists (stove plan )"
                  "will create it again)",
                  w.machine.remote_id));
}

TEST_CASE("backup run: the job is queued, polled until T and observed as last_job") {
  World w;
  const Target nightly = w.backup_target();
  ActionResult run = w.backups->execute(nightly, "run", k_no_params, w.notes.context());
  INFO(run.outcome);
  CHECK(run.ok);
  // Two paths, an Incremental (the job's own level): 80 files of 8 KiB.
  CHECK(run.outcome == "job 1 T (Incremental, 80 files, 655360 bytes)");
  json last = run.observed["last_job"];
  CHECK(last["id"] == 1);
  CHECK(last["status"] == "T");
  CHECK(last["level"] == "Incremental");
  CHECK(last["files"] == 80);
  CHECK(last["started"].is_string());
  CHECK(last["ended"].is_string());
  CHECK(w.noted("job 1 queued (Incremental)"));

  ActionResult full = w.backups->execute(nightly, "run", {{"level", "Full"}}, w.notes.context());
  CHECK(full.ok);
  CHECK(full.outcome == "job 2 T (Full, 2400 files, 19660800 bytes)");
  CHECK(full.observed["last_job"]["level"] == "Full");
  CHECK(w.noted("job 2 queued (Full)"));
}

TEST_CASE("backup run: a job whose machine is HALTED fails with f and the log's error") {
  World w;
  w.machines->execute(w.machine_target(), "stop", {{"force", false}}, w.notes.context());
  ActionResult run = w.backups->execute(w.backup_target(), "run", k_no_params, w.notes.context());
  CHECK_FALSE(run.ok);
  const std::string ip = w.machine.observed["ip_address"].get<std::string>();
  INFO(run.outcome);
  CHECK(run.outcome == fmt::format("job 1 ended f (fatal error): Fatal error: bsockcore.c:209 "
                                   "Unable to connect to Client: app-fd on {}:9102. "
                                   "ERR=Connection refused",
                                   ip));
  CHECK(run.observed["last_job"]["status"] == "f");
  CHECK(run.observed["last_job"]["files"] == 0);
}

TEST_CASE("backup run: a job still going at the deadline is reported, not waited for") {
  World w(60s);
  // The deadline passes while the "queued" note is being handled: after the
  // job was queued, before its first poll.
  OpContext context;
  context.deadline = http::Deadline::after(3s);
  context.note = [&](std::string_view note) {
    if (note.starts_with("job 1 queued")) {
      while (!context.deadline.expired()) {
        std::this_thread::sleep_for(10ms);
      }
    }
  };
  ActionResult run = w.backups->execute(w.backup_target(), "run", k_no_params, context);
  CHECK_FALSE(run.ok);
  INFO(run.outcome);
  CHECK(run.outcome.starts_with("out of time: job 1 was still "));
  CHECK(run.outcome.ends_with("; it goes on in Bacula"));
  CHECK(run.observed["last_job"]["id"] == 1);
}

TEST_CASE("backup run: an interrupt stops the wait and still reports the job") {
  World w(60s);
  http::CancelToken interrupt;
  OpContext context;
  context.deadline = http::Deadline::after(60s, &interrupt);
  context.note = [&](std::string_view note) {
    if (note.starts_with("job 1 queued")) {
      interrupt.cancel();  // Ctrl-C as the job is queued
    }
  };
  ActionResult run = w.backups->execute(w.backup_target(), "run", k_no_params, context);
  CHECK_FALSE(run.ok);
  INFO(run.outcome);
  CHECK(run.outcome.starts_with("interrupted: job 1 was still "));
  CHECK(run.outcome.ends_with("; it goes on in Bacula"));
  CHECK(run.observed["last_job"]["id"] == 1);
}

TEST_CASE("backup run: a job that is gone, or an unknown action, is an error") {
  World w;
  Target nightly = w.backup_target();
  CHECK(provider_error([&] {
          w.backups->execute(nightly, "restore", k_no_params, w.notes.context());
        }) == R"(cloud_space["web"].machine["app"].backup["nightly"]: action "restore" is not )"
              "supported by this provider");
  w.backups->destroy(nightly, w.notes.context());
  CHECK(
      provider_error([&] { w.backups->execute(nightly, "run", k_no_params, w.notes.context()); }) ==
      R"(cloud_space["web"].machine["app"].backup["nightly"]: Job "nightly" does not exist )"
      "in Bacularis (stove plan will create it again)");
}

TEST_CASE("execute_action: runs through the state's provider and records what it observed") {
  World w;
  State state = w.state();
  ProviderSet providers = w.provider_set();
  const ActionSchema& stop = find_action(schema_of(Kind::machine), "stop");
  const std::string app = R"(cloud_space["web"].machine["app"])";
  std::vector<std::string> notes;
  ExecOptions options;
  options.on_note = [&](std::string_view n) { notes.emplace_back(n); };

  ExecResult stopped = execute_action(state, app, stop, {{"force", false}}, providers, options);
  CHECK(stopped.ok);
  CHECK(stopped.recorded);
  CHECK(stopped.message == "status=HALTED");
  CHECK(state.resources[1].observed["status"] == "HALTED");
  CHECK(state.resources[1].updated_at != "2026-11-22T00:00:00Z");
  CHECK(state.resources[1].observed["ip_address"] == w.machine.observed["ip_address"]);

  // A refusal is returned, and the object read back and recorded.
  state.resources[1].observed["status"] = "RUNNING"; // stale
  const ActionSchema& reboot = find_action(schema_of(Kind::machine), "reboot");
  ExecResult refused = execute_action(state, app, reboot, json::object(), providers, options);
  CHECK_FALSE(refused.ok);
  CHECK(refused.recorded);
  CHECK(refused.message == fmt::format("{}: the machine is HALTED; only a RUNNING machine "
                                       "reboots (start it instead)",
                                       app));
  CHECK(state.resources[1].observed["status"] == "HALTED");

  // A failed job: its record is kept with the rest of the observed.
  const ActionSchema& run = find_action(schema_of(Kind::backup), "run");
  const std::string nightly = R"(cloud_space["web"].machine["app"].backup["nightly"])";
  ExecResult failed = execute_action(state, nightly, run, json::object(), providers, options);
  CHECK_FALSE(failed.ok);
  CHECK(failed.recorded);
  CHECK(state.resources[2].observed["last_job"]["status"] == "f");
  CHECK(state.resources[2].observed["client"] == "app-fd");
  CHECK(std::find(notes.begin(), notes.end(), "job 1 queued (Incremental)") != notes.end());
}

TEST_CASE("execute_action: unknown and uncreated resources are errors that change nothing") {
  World w;
  State state = w.state();
  ProviderSet providers = w.provider_set();
  const ActionSchema& start = find_action(schema_of(Kind::machine), "start");
  try {
    execute_action(state, R"(cloud_space["web"].machine["ap"])", start, json::object(), providers,
                   {});
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    CHECK(std::string(e.what()) ==
          R"(the state has no resource cloud_space["web"].machine["ap"]; did you mean )"
          R"(cloud_space["web"].machine["app"]?)");
  }
  state.resources[1].remote_id.clear();
  try {
    execute_action(state, R"(cloud_space["web"].machine["app"])", start, json::object(), providers,
                   {});
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) ==
          R"(cloud_space["web"].machine["app"] was never created (its create did not )"
          "complete); run stove apply first");
  }
  CHECK(state.resources[1].updated_at == "2026-11-22T00:00:00Z");
}

TEST_CASE("backup run wire: the body Bacularis requires, string numbers, an incomplete job") {
  // A scripted Bacularis 3.2+: what bdirjson prints of the Job (Fileset,
  // Storage as a list) and what a PHP catalog answers (numbers as strings,
  // bconsole's output as one string).
  httplib::Server server;
  std::mutex mutex;
  json run_body;
  int polls = 0;
  auto reply = [](httplib::Response& res, const json& output) {
    res.set_content(json{{"output", output}, {"error", 0}}.dump(), "application/json");
  };
  server.Get("/api/v3/config/dir/Director", [&](const httplib::Request&, httplib::Response& res) {
    reply(res, json::array({{{"Director", {{"Name", "dir"}}}}}));
  });
  server.Get("/api/v3/config/dir/Job/nightly",
             [&](const httplib::Request&, httplib::Response& res) {
               reply(res, {{"Name", "nightly"},
                           {"Type", "Backup"},
                           {"Level", "Differential"},
                           {"Client", "web-fd"},
                           {"Fileset", "nightly-fileset"},
                           {"Storage", {"Tape"}},
                           {"Pool", "nightly-pool"}});
             });
  server.Post("/api/v3/jobs/run", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex);
    run_body = json::parse(req.body);
    reply(res, "Using Catalog \"MyCatalog\"\nJob queued. JobId=77\n");
  });
  server.Get("/api/v3/jobs/77", [&](const httplib::Request&, httplib::Response& res) {
    std::lock_guard lock(mutex);
    ++polls;
    reply(res, {{"jobid", "77"},
                {"level", "D"},
                {"jobstatus", polls == 1 ? "R" : "I"},
                {"starttime", "2026-11-22 02:00:01"},
                {"endtime", polls == 1 ? json(nullptr) : json("2026-11-22 02:03:00")},
                {"jobfiles", "12"},
                {"jobbytes", "4096"}});
  });
  server.Get("/api/v3/joblog/77", [&](const httplib::Request&, httplib::Response& res) {
    reply(res, json::array({"22-Nov 02:00 dir JobId 77: Start Backup JobId 77\n",
                            "22-Nov 02:03 dir JobId 77: Error: Storage daemon went away\n",
                            "22-Nov 02:03 dir JobId 77: Termination: Backup Incomplete\n"}));
  });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { server.listen_after_bind(); });
  struct Stop {
    httplib::Server& server;
    std::thread& thread;
    ~Stop() {
      server.stop();
      thread.join();
    }
  } stop{server, thread};

  ProviderConfig config;
  config.name = "bacula";
  config.type = "bacularis";
  config.endpoint = fmt::format("http://127.0.0.1:{}", port);
  config.settings = {{"token_env", "BACULA_TOKEN"}};
  auto provider = bacularis::factory(
      config, test::provider_options(test::fake_environment({{"BACULA_TOKEN", "t"}})));
  Target target;
  target.kind = Kind::backup;
  target.address = "backup";
  target.remote_id = "nightly";
  test::Notes notes;
  ActionResult run =
      provider->adapter(Kind::backup)->execute(target, "run", json::object(), notes.context());
  CHECK(run_body == json{{"name", "nightly"},
                         {"level", "D"},
                         {"client", "web-fd"},
                         {"fileset", "nightly-fileset"},
                         {"storage", "Tape"},
                         {"pool", "nightly-pool"}});
  CHECK_FALSE(run.ok);
  CHECK(run.outcome == "job 77 ended I (incomplete): Error: Storage daemon went away");
  CHECK(run.observed["last_job"] == json{{"id", 77},
                                         {"status", "I"},
                                         {"level", "Differential"},
                                         {"started", "2026-11-22 02:00:01"},
                                         {"ended", "2026-11-22 02:03:00"},
                                         {"files", 12},
                                         {"bytes", 4096}});
  CHECK(notes.list() == std::vector<std::string>{"job 77 queued (Differential)", "job 77 running"});
}
