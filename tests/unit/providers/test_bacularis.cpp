// The Bacularis adapter against the sandbox's Bacularis (which answers as
// Bacularis 3.2+ and bdirjson do), in process: what it writes (read back
// from the sandbox, in bdirjson's shapes), reads, updates, deletes and
// adopts, what is left of a backup cut short, API v2, and how refusals
// surface.

#include "util/error.hpp"
#include "providers/bacularis.hpp"
#include "providers/provider.hpp"
#include "providers/sandbox_provider.hpp"
#include "sandbox/server.hpp"
#include "support/printing.hpp"
#include "support/temp_dir.hpp"
#include "unit/providers/provider_fixtures.hpp"

#include <doctest/doctest.h>

#include <map>
#include <thread>
#include <vector>

using namespace stove;
using namespace stove::providers;
using nlohmann::json;

namespace {

constexpr const char* k_token = "s3cr3t-token";
constexpr const char* k_fd_password = "fd-s3cr3t";

// A sandbox on loopback and a Bacularis provider pointed at it.
struct Fixture {
  test::TempDir dir;
  sandbox::Server server;
  std::unique_ptr<Provider> provider;
  KindAdapter* backups = nullptr;
  test::Notes notes;

  explicit Fixture(int bacularis_api = 3) : server{options(dir, bacularis_api)} {
    server.start();
    provider = bacularis_provider(k_token, k_fd_password);
    backups = provider->adapter(Kind::backup);
  }

  static sandbox::Options options(const test::TempDir& d, int bacularis_api = 3) {
    sandbox::Options o;
    o.data_dir = (d / "data").string();
    o.token = k_token;
    o.threads = 4;
    o.deploy_delay = std::chrono::milliseconds(0);
    o.bacularis_api = bacularis_api;
    return o;
  }

  // `type: bacularis`, basic auth as user sandbox with `password`; with
  // `fd_password`, client_password_env too.
  std::unique_ptr<Provider> bacularis_provider(const std::string& password,
                                               const std::string& fd_password = "") {
    ProviderConfig config;
    config.name = "bacula";
    config.type = "bacularis";
    config.endpoint = server.url();
    std::map<std::string, std::string> env = {{"STOVE_BACULARIS_USER", "sandbox"},
                                              {"STOVE_BACULARIS_PASSWORD", password}};
    if (!fd_password.empty()) {
      config.settings = {{"client_password_env", "FD_PASSWORD"}};
      env["FD_PASSWORD"] = fd_password;
    }
    return bacularis::factory(config, test::provider_options(test::fake_environment(env)));
  }

  // A request straight to the sandbox's API v2: the reply's output and
  // error.
  std::pair<json, int> send(const std::string& method, const std::string& path,
                            const json* directives = nullptr) {
    http::Client client(http::ClientOptions{});
    http::Request request;
    if (directives != nullptr) {
      request = http::Request::json(method, "", {{"config", directives->dump()}});
    }
    request.method = method;
    request.url = fmt::format("{}/api/v2/{}", server.url(), path);
    request.headers.emplace_back("Authorization", fmt::format("Bearer {}", k_token));
    request.headers.emplace_back("X-Baculum-API", "0.4");
    json reply = client.send(request).json();
    return {reply["output"], reply["error"].get<int>()};
  }
  std::pair<json, int> get(const std::string& path) { return send("GET", path); }

  // A resource as bdirjson prints it, or null when there is none.
  json resource(const std::string& type, const std::string& name) {
    auto [output, error] = get(fmt::format("config/dir/{}/{}", type, http::url_encode(name)));
    return error == 0 && output.is_object() ? output : json();
  }

  // PUTs a resource behind stove's back, as an operator would.
  void put(const std::string& type, const json& directives) {
    auto [output, error] =
        send("PUT",
             fmt::format("config/dir/{}/{}", type,
                         http::url_encode(directives["Name"].get<std::string>())),
             &directives);
    REQUIRE_MESSAGE(error == 0, output.dump());
  }

  json running_jobs() { return get("jobs/resnames").first["sandbox-dir"]; }
};

Parent machine_parent(const std::string& name = "web 1", const std::string& ip = "10.1.0.5") {
  Parent p;
  p.kind = Kind::machine;
  p.address = fmt::format("cloud_space[\"web\"].machine[{}]", json(name).dump());
  p.remote_id = "5";
  p.observed = {{"name", name}, {"status", "RUNNING"}, {"ip_address", ip}};
  return p;
}

Target backup_target(const std::string& name, Parent machine = machine_parent()) {
  Target t;
  t.kind = Kind::backup;
  t.address = fmt::format("{}.backup[{}]", machine.address, json(name).dump());
  t.spec = {{"name", name},
            {"schedule", "Level=Incremental mon-sat at 02:00"},
            {"fileset", json::array({"/etc", "/var/www"})},
            {"excludes", json::array({"/var/www/cache"})},
            {"retention_days", 14},
            {"enabled", true},
            {"labels", json::object()}};
  t.parents.push_back(std::move(machine));
  Parent space;
  space.kind = Kind::cloud_space;
  space.address = "cloud_space[\"web\"]";
  space.remote_id = "1";
  space.observed = {{"name", "web"}, {"status", "DEPLOYED"}};
  t.parents.push_back(std::move(space));
  return t;
}

const json k_observed = {{"name", "nightly"},
                         {"client", "web-1-fd"},
                         {"enabled", true},
                         {"schedule", "Level=Incremental mon-sat at 02:00"},
                         {"fileset", json::array({"/etc", "/var/www"})},
                         {"excludes", json::array({"/var/www/cache"})},
                         {"retention_days", 14}};

std::string provider_error(const std::function<void()>& run) {
  try {
    run();
  } catch (const ProviderError& e) {
    return e.what();
  }
  return "(no ProviderError)";
}

} // namespace

TEST_CASE("bacularis: create writes the Client, Fileset, Schedule, Pool and Job and reloads") {
  Fixture f;
  Remote remote = f.backups->create(backup_target("nightly"), f.notes.context());
  CHECK(remote.remote_id == "nightly");
  CHECK(remote.observed == k_observed);
  CHECK(remote.missing.empty());

  CHECK(f.resource("Client", "web-1-fd") == json{{"Name", "web-1-fd"},
                                                 {"Address", "10.1.0.5"},
                                                 {"FdPort", 9102},
                                                 {"Catalog", "MyCatalog"},
                                                 {"AutoPrune", true},
                                                 {"Password", k_fd_password}});
  CHECK(f.resource("Fileset", "nightly-fileset") ==
        json{{"Name", "nightly-fileset"},
             {"Include", json::array({{{"File", json::array({"/etc", "/var/www"})},
                                       {"Options", json::array({{{"Signature", "Md5"}}})}}})},
             {"Exclude", {{"File", json::array({"/var/www/cache"})}}}});
  json schedule = f.resource("Schedule", "nightly-schedule");
  REQUIRE(schedule["Run"].size() == 1);
  CHECK(schedule["Run"][0]["Level"] == "Incremental");
  CHECK(schedule["Run"][0]["Hour"] == json{2});
  CHECK(schedule["Run"][0]["Minute"] == 0);
  CHECK(schedule["Run"][0]["DayOfWeek"] == json{1, 2, 3, 4, 5, 6});
  CHECK(f.resource("Pool", "nightly-pool") == json{{"Name", "nightly-pool"},
                                                   {"PoolType", "Backup"},
                                                   {"VolumeRetention", 14 * 86400},
                                                   {"JobRetention", 14 * 86400},
                                                   {"FileRetention", 14 * 86400},
                                                   {"AutoPrune", true},
                                                   {"Recycle", true},
                                                   {"LabelFormat", "nightly-"}});
  CHECK(f.resource("Job", "nightly") == json{{"Name", "nightly"},
                                             {"Type", "Backup"},
                                             {"Level", "Incremental"},
                                             {"Client", "web-1-fd"},
                                             {"Fileset", "nightly-fileset"},
                                             {"Schedule", "nightly-schedule"},
                                             {"Pool", "nightly-pool"},
                                             {"Storage", json::array({"File1"})},
                                             {"Messages", "Standard"},
                                             {"Enabled", true}});
  // The director runs it: the reload happened after the Job was written.
  CHECK(f.running_jobs() == json::array({"nightly"}));
  CHECK(f.notes.list().empty());
  // Client, Fileset, Pool, Schedule, Job, reload, then the reads.
  CHECK(f.server.counters().mutating == 6);
}

TEST_CASE("bacularis: a Client stove would make without a password is refused before anything") {
  Fixture f;
  auto provider = f.bacularis_provider(k_token);
  KindAdapter* backups = provider->adapter(Kind::backup);
  try {
    backups->create(backup_target("nightly"), f.notes.context());
    FAIL("no refusal");
  } catch (const NothingCreated& e) {
    CHECK(std::string(e.what()) ==
          R"(cloud_space["web"].machine["web 1"].backup["nightly"]: Client "web-1-fd" does not )"
          R"(exist and provider "bacula" has no client_password_env: Bacula's director requires )"
          "a Password for every Client (the file daemon's); set client_password_env to the "
          "variable that holds it");
  }
  CHECK(f.server.counters().mutating == 0);
  // A Client an operator made, with its password, is used as it is.
  f.put("Client", {{"Name", "web-1-fd"},
                   {"Address", "10.1.0.5"},
                   {"Catalog", "MyCatalog"},
                   {"Password", "operator-pw"}});
  CHECK(backups->create(backup_target("nightly"), f.notes.context()).observed == k_observed);
  CHECK(f.resource("Client", "web-1-fd")["Password"] == "operator-pw");
}

TEST_CASE("bacularis: client_password_env writes the file daemons' password into the Client, "
          "and nowhere else") {
  Fixture f;
  Remote remote = f.backups->create(backup_target("nightly"), f.notes.context());
  CHECK(remote.observed == k_observed); // no password among what is observed
  CHECK(remote.observed.dump().find(k_fd_password) == std::string::npos);
  CHECK(f.resource("Client", "web-1-fd").at("Password") == k_fd_password);
  // An operator's Client with another password: stove sets its own, and its
  // note does not show either.
  json changed = f.resource("Client", "web-1-fd");
  changed["Password"] = "operator-pw";
  f.put("Client", changed);
  f.backups->create(backup_target("weekly"), f.notes.context());
  CHECK(f.resource("Client", "web-1-fd").at("Password") == k_fd_password);
  for (const auto& note : f.notes.list()) {
    CHECK(note.find(k_fd_password) == std::string::npos);
    CHECK(note.find("operator-pw") == std::string::npos);
  }
  CHECK(f.notes.list() ==
        std::vector<std::string>{R"(updating the existing Client "web-1-fd" (Password differs))"});
}

TEST_CASE("bacularis: read and find map the configuration back, a missing job is nullopt") {
  Fixture f;
  Target target = backup_target("nightly");
  f.backups->create(target, f.notes.context());
  target.remote_id = "nightly";

  auto read = f.backups->read(target, f.notes.context());
  REQUIRE(read.has_value());
  CHECK(read->remote_id == "nightly");
  CHECK(read->observed == k_observed);
  auto found = f.backups->find(backup_target("nightly"), f.notes.context());
  REQUIRE(found.has_value());
  CHECK(found->observed == k_observed);

  CHECK_FALSE(f.backups->read(backup_target("weekly"), f.notes.context()).has_value());
  CHECK_FALSE(f.backups->find(backup_target("weekly"), f.notes.context()).has_value());

  auto all = f.backups->list({machine_parent()}, f.notes.context());
  REQUIRE(all.size() == 1);
  CHECK(all[0].remote_id == "nightly");
  CHECK(all[0].missing.empty());
  // The listing has the director's rewriting of the schedule; complete()
  // puts the file's words back when they mean the same.
  CHECK(all[0].observed["schedule"] == "Level=Incremental mon tue wed thu fri sat at 2:00");
  CHECK(f.backups->complete(target, all[0], f.notes.context())->observed == k_observed);
  CHECK(f.backups->list({machine_parent("db")}, f.notes.context()).empty());
  CHECK(f.backups->list({}, f.notes.context()).size() == 1);
}

TEST_CASE("bacularis: a schedule the director holds otherwise reads as its own words") {
  Fixture f;
  Target target = backup_target("nightly");
  f.backups->create(target, f.notes.context());
  target.remote_id = "nightly";
  f.put("Schedule", {{"Name", "nightly-schedule"}, {"Run", {"Level=Full sun at 2:00"}}});
  CHECK(f.backups->read(target, f.notes.context())->observed["schedule"] ==
        "Level=Full sun at 2:00");
  // The same times in other words are no change.
  target.spec["schedule"] = "Level=Full sunday at 02:00am";
  CHECK(f.backups->read(target, f.notes.context())->observed["schedule"] ==
        "Level=Full sunday at 02:00am");
}

TEST_CASE("bacularis: update changes the schedule in place and leaves the rest alone") {
  Fixture f;
  Target applied = backup_target("nightly");
  Remote created = f.backups->create(applied, f.notes.context());
  applied.remote_id = "nightly";

  Target update =
      test::update_of(applied, {{"schedule", "Level=Full sun at 03:30"}}, created.observed);
  Remote remote = f.backups->update(update, f.notes.context());
  json expected = k_observed;
  expected["schedule"] = "Level=Full sun at 03:30";
  CHECK(remote.observed == expected);
  json run = f.resource("Schedule", "nightly-schedule")["Run"];
  REQUIRE(run.size() == 1);
  CHECK(run[0]["Hour"] == json{3});
  CHECK(run[0]["Minute"] == 30);
  CHECK(f.resource("Job", "nightly")["Schedule"] == "nightly-schedule");

  // Disabling, a new retention and a shorter file list.
  Target more = test::update_of(update,
                                {{"enabled", false},
                                 {"retention_days", 60},
                                 {"fileset", json::array({"/etc"})},
                                 {"excludes", json::array()}},
                                remote.observed);
  remote = f.backups->update(more, f.notes.context());
  expected.update({{"enabled", false},
                   {"retention_days", 60},
                   {"fileset", json::array({"/etc"})},
                   {"excludes", json::array()}});
  CHECK(remote.observed == expected);
  CHECK(f.resource("Job", "nightly")["Enabled"] == false);
  CHECK(f.resource("Pool", "nightly-pool")["VolumeRetention"] == 60 * 86400);
  CHECK(f.resource("Fileset", "nightly-fileset") ==
        json{{"Name", "nightly-fileset"},
             {"Include", json::array({{{"File", json::array({"/etc"})},
                                       {"Options", json::array({{{"Signature", "Md5"}}})}}})}});

  // Labels only: nothing is sent.
  const uint64_t before = f.server.counters().requests;
  Target labels = test::update_of(more, {{"labels", {{"team", "ops"}}}}, remote.observed);
  CHECK(f.backups->update(labels, f.notes.context()).observed == expected);
  CHECK(f.server.counters().requests == before);
}

TEST_CASE("bacularis: an update keeps directives stove does not manage") {
  Fixture f;
  Target applied = backup_target("nightly");
  f.backups->create(applied, f.notes.context());
  // An operator adds a description and a concurrency limit to the Client.
  json client = f.resource("Client", "web-1-fd");
  client["Description"] = "the web server's file daemon";
  client["MaximumConcurrentJobs"] = 4;
  f.put("Client", client);

  // A second backup of the machine, now at a new address: the Client is
  // reused and its address updated, the rest kept.
  Target second = backup_target("weekly", machine_parent("web 1", "10.1.0.9"));
  Remote remote = f.backups->create(second, f.notes.context());
  CHECK(remote.observed["client"] == "web-1-fd");
  json updated = f.resource("Client", "web-1-fd");
  CHECK(updated["Address"] == "10.1.0.9");
  CHECK(updated["Description"] == "the web server's file daemon");
  CHECK(updated["MaximumConcurrentJobs"] == 4);
  CHECK(f.notes.list() ==
        std::vector<std::string>{
            R"(updating the existing Client "web-1-fd" (Address is "10.1.0.5", want "10.1.0.9"))"});
}

TEST_CASE("bacularis: destroy removes the job, then its schedule, fileset and pool, and the "
          "client with its last job") {
  Fixture f;
  Target nightly = backup_target("nightly");
  Target weekly = backup_target("weekly");
  f.backups->create(nightly, f.notes.context());
  f.backups->create(weekly, f.notes.context());
  CHECK(f.running_jobs() == json::array({"nightly", "weekly"}));
  nightly.remote_id = "nightly";
  weekly.remote_id = "weekly";

  f.backups->destroy(nightly, f.notes.context());
  for (auto [type, name] :
       {std::pair{"Job", "nightly"}, std::pair{"Schedule", "nightly-schedule"},
        std::pair{"Fileset", "nightly-fileset"}, std::pair{"Pool", "nightly-pool"}}) {
    CAPTURE(type);
    CHECK(f.get(fmt::format("config/dir/{}/{}", type, name)) == std::pair{json::array(), 0});
  }
  // weekly still backs the machine up.
  CHECK(f.resource("Client", "web-1-fd")["Address"] == "10.1.0.5");
  CHECK(f.running_jobs() == json::array({"weekly"}));

  f.backups->destroy(weekly, f.notes.context());
  CHECK(f.resource("Client", "web-1-fd").is_null());
  CHECK(f.get("config/dir/Job").first == json::array());
  CHECK(f.running_jobs() == json::array());

  // Already gone: fine, and nothing to reload.
  const uint64_t before = f.server.counters().mutating;
  f.backups->destroy(weekly, f.notes.context());
  CHECK(f.server.counters().mutating == before + 4); // the DELETEs that found nothing
  // The second backup's create shared the Client; destroy notes nothing.
  CHECK(f.notes.list() == std::vector<std::string>{R"(adopting the existing Client "web-1-fd")"});
}

TEST_CASE("bacularis: what a destroy cut short leaves is found, and a destroy or an update "
          "finishes it") {
  Fixture f;
  Target target = backup_target("nightly");
  f.backups->create(target, f.notes.context());
  target.remote_id = "nightly";
  // A destroy killed after deleting the Job: its parts are still there.
  http::Client client(http::ClientOptions{});
  http::Request del;
  del.method = "DELETE";
  del.url = fmt::format("{}/api/v3/config/dir/Job/nightly", f.server.url());
  del.headers.emplace_back("Authorization", fmt::format("Bearer {}", k_token));
  REQUIRE(client.send(del).json()["error"] == 0);

  CHECK_FALSE(f.backups->read(target, f.notes.context()).has_value());
  f.backups->begin_refresh();
  CHECK(f.backups->list({machine_parent()}, f.notes.context()).empty());
  auto left = f.backups->remains(target, f.notes.context());
  f.backups->end_refresh();
  REQUIRE(left.has_value());
  CHECK(left->remote_id == "nightly");
  // Deleted without a reload: the director still runs it, too.
  CHECK(left->missing ==
        std::vector<std::string>{R"(Job "nightly")",
                                 "a director reload (the director still runs this deleted Job)"});
  // What the parts say; nothing of the Job's.
  json observed = k_observed;
  observed.erase("client");
  observed.erase("enabled");
  CHECK(left->observed == observed);
  // An interrupted create's adoption finds it too.
  auto found = f.backups->find(backup_target("nightly"), f.notes.context());
  REQUIRE(found.has_value());
  CHECK(found->missing == left->missing);

  // The file still has it: the update makes the Job again and reloads.
  Target finish = test::update_of(target, json::object(), left->observed);
  finish.prior_observed["missing"] = left->missing;
  CHECK(f.backups->update(finish, f.notes.context()).observed == k_observed);
  CHECK(f.running_jobs() == json::array({"nightly"}));

  // The file no longer has it: destroy removes what is left.
  REQUIRE(client.send(del).json()["error"] == 0);
  f.backups->destroy(target, f.notes.context());
  for (auto [type, name] :
       {std::pair{"Schedule", "nightly-schedule"}, std::pair{"Fileset", "nightly-fileset"},
        std::pair{"Pool", "nightly-pool"}, std::pair{"Client", "web-1-fd"}}) {
    CAPTURE(type);
    CHECK(f.resource(type, name).is_null());
  }
  CHECK_FALSE(f.backups->remains(target, f.notes.context()).has_value());
}

TEST_CASE("bacularis: a Job the director has not loaded (no reload since) is incomplete") {
  Fixture f;
  Target target = backup_target("nightly");
  f.backups->create(target, f.notes.context());
  // An operator re-made the Job behind the director's back without a reload.
  json job = f.resource("Job", "nightly");
  http::Client client(http::ClientOptions{});
  http::Request del;
  del.method = "DELETE";
  del.url = fmt::format("{}/api/v3/config/dir/Job/nightly", f.server.url());
  del.headers.emplace_back("Authorization", fmt::format("Bearer {}", k_token));
  REQUIRE(client.send(del).json()["error"] == 0);
  http::Request reload = http::Request::json(
      "PUT", fmt::format("{}/api/v3/console", f.server.url()), json::array({"reload"}));
  reload.headers.emplace_back("Authorization", fmt::format("Bearer {}", k_token));
  REQUIRE(client.send(reload).json()["error"] == 0);
  f.put("Job", job);
  CHECK(f.running_jobs() == json::array());

  auto listed = f.backups->list({machine_parent()}, f.notes.context());
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].missing ==
        std::vector<std::string>{"a director reload (the director does not run this Job yet)"});
  target.remote_id = "nightly";
  Target finish = test::update_of(target, json::object(), listed[0].observed);
  finish.prior_observed["missing"] = listed[0].missing;
  f.backups->update(finish, f.notes.context());
  CHECK(f.running_jobs() == json::array({"nightly"}));
  CHECK(f.backups->list({machine_parent()}, f.notes.context())[0].missing.empty());
}

TEST_CASE("bacularis: for import, a backup of another machine's Client is outside its machine") {
  Fixture f;
  Target target = backup_target("nightly");
  Remote made = f.backups->create(target, f.notes.context());
  CHECK_FALSE(f.backups->outside_parent(target, made).has_value());
  Target elsewhere = backup_target("nightly", machine_parent("db"));
  CHECK(f.backups->outside_parent(elsewhere, made) ==
        std::optional<std::string>(R"(backs up the client "web-1-fd", not )"
                                   R"(cloud_space["web"].machine["db"]'s ("db-fd"))"));
}

TEST_CASE("bacularis: a create finds what an earlier attempt made and adopts it") {
  Fixture f;
  Target target = backup_target("nightly");
  f.backups->create(target, f.notes.context());
  // The same create again (its response was lost, or the run interrupted).
  Remote again = f.backups->create(target, f.notes.context());
  CHECK(again.remote_id == "nightly");
  CHECK(again.observed == k_observed);
  CHECK(f.notes.list() ==
        std::vector<std::string>{R"(adopting the existing Client "web-1-fd")",
                                 R"(adopting the existing Fileset "nightly-fileset")",
                                 R"(adopting the existing Pool "nightly-pool")",
                                 R"(adopting the existing Schedule "nightly-schedule")",
                                 R"(adopting the existing Job "nightly")"});
}

TEST_CASE("bacularis: a create refuses a job of that name configured otherwise") {
  Fixture f;
  f.backups->create(backup_target("nightly", machine_parent("db")), f.notes.context());
  const uint64_t before = f.server.counters().mutating;
  CHECK(provider_error([&] { f.backups->create(backup_target("nightly"), f.notes.context()); }) ==
        R"(cloud_space["web"].machine["web 1"].backup["nightly"]: a Job "nightly" exists already, )"
        R"(configured otherwise (Client is "db-fd", want "web-1-fd"); stove does not take over a )"
        "job it did not make: rename the backup or remove that job");
  CHECK(f.server.counters().mutating == before); // nothing touched
}

TEST_CASE("bacularis: the director's refusal of a Run directive is a ProviderError with its "
          "message") {
  Fixture f;
  Target target = backup_target("nightly");
  target.spec["schedule"] = "Level=Weekly sun at 02:00";
  std::string message = provider_error([&] { f.backups->create(target, f.notes.context()); });
  CHECK(message ==
        "POST config/dir/Schedule/nightly-schedule: error 94: Config error: Run \"Level=Weekly "
        "sun at 02:00\": has an unknown level \"Weekly\" (levels: Full, Incremental, "
        "Differential, VirtualFull, Base)");
  CHECK(f.running_jobs() == json::array());
}

TEST_CASE("bacularis: a bad job name, or a machine without an address, is refused before any "
          "request") {
  Fixture f;
  CHECK(provider_error([&] { f.backups->create(backup_target("night/ly"), f.notes.context()); }) ==
        R"(cloud_space["web"].machine["web 1"].backup["night/ly"]: "night/ly" is not a usable )"
        "Bacula job name: 1 to 118 letters, digits, '-', '_', '.', ':' or inner spaces (its "
        "Fileset, Schedule and Pool are named after it)");
  Parent booting = machine_parent();
  booting.observed.erase("ip_address");
  CHECK(provider_error(
            [&] { f.backups->create(backup_target("nightly", booting), f.notes.context()); }) ==
        R"(cloud_space["web"].machine["web 1"].backup["nightly"]: its machine has no IP address )"
        "yet (the Client's Address)");
  CHECK(f.server.counters().requests == 0);
}

TEST_CASE("bacularis: a wrong password is a 401 ProviderError naming the variables, never the "
          "password") {
  Fixture f;
  auto wrong = f.bacularis_provider("not-the-token");
  std::string message = provider_error(
      [&] { wrong->adapter(Kind::backup)->read(backup_target("nightly"), f.notes.context()); });
  // The first request finds the API version.
  CHECK(message ==
        "GET config/dir/Director: 401 Unauthorized (error 6): Problem with authentication to "
        "Bacularis API. (check the user and password in STOVE_BACULARIS_USER and "
        "STOVE_BACULARIS_PASSWORD)");
  CHECK(message.find("not-the-token") == std::string::npos);
}

TEST_CASE("bacularis: against API v2 (Bacularis before 3.2.0) creates are PUTs and deletes are "
          "refused") {
  Fixture f(2);
  Target target = backup_target("nightly");
  CHECK(f.backups->create(target, f.notes.context()).observed == k_observed);
  CHECK(f.resource("Job", "nightly")["Client"] == "web-1-fd");
  target.remote_id = "nightly";
  Target update = test::update_of(target, {{"schedule", "Level=Full sun at 03:30"}}, k_observed);
  CHECK(f.backups->update(update, f.notes.context()).observed["schedule"] ==
        "Level=Full sun at 03:30");
  CHECK(provider_error([&] { f.backups->destroy(update, f.notes.context()); }) ==
        fmt::format("DELETE config/dir/Job/nightly: {} speaks Bacularis API v2 only (Bacularis "
                    "before 3.2.0), which cannot delete director resources; upgrade Bacularis to "
                    "3.2.0 or later (API v3)",
                    f.server.url()));
  CHECK(f.resource("Job", "nightly")["Name"] == "nightly");
}

TEST_CASE("bacularis: names with spaces travel percent-encoded and clients are sanitised") {
  Fixture f;
  Remote remote = f.backups->create(backup_target("web daily", machine_parent("web/1 (eu)")),
                                    f.notes.context());
  CHECK(remote.observed["client"] == "web-1--eu--fd");
  CHECK(f.resource("Job", "web daily")["Fileset"] == "web daily-fileset");
  CHECK(bacularis::client_name("") == "machine-fd");
  CHECK(bacularis::client_name(std::string(200, 'a')).size() == 127);
  CHECK(bacularis::valid_name("a b.c:d_e-f"));
  CHECK_FALSE(bacularis::valid_name(" a"));
  CHECK_FALSE(bacularis::valid_name("a$"));
}

TEST_CASE("bacularis: the sandbox provider serves backups with the sandbox token as bearer") {
  Fixture f;
  register_builtin_provider_types();
  ProviderConfig config;
  config.name = "sandbox";
  config.type = "sandbox";
  config.endpoint = f.server.url();
  auto provider = make_provider(
      config, test::provider_options(test::fake_environment({{"STOVE_SANDBOX_TOKEN", k_token}})));
  KindAdapter* backups = provider->adapter(Kind::backup);
  REQUIRE(backups != nullptr);
  CHECK(backups->create(backup_target("nightly"), f.notes.context()).observed == k_observed);
  CHECK(provider->stats().requests > 0);
  CHECK(f.resource("Client", "web-1-fd")["Password"] ==
        std::string(providers::k_sandbox_client_password));

  auto wrong = make_provider(config, test::provider_options(test::fake_environment({})));
  // The default token ("sandbox") is no secret: the words stay in messages.
  CHECK(provider_error([&] { wrong->adapter(Kind::backup)->list({}, f.notes.context()); }) ==
        "GET config/dir/Director: 401 Unauthorized (error 6): Problem with authentication to "
        "Bacularis API. (check the token in STOVE_SANDBOX_TOKEN)");
}

TEST_CASE("bacularis: the factory names a missing credential variable") {
  ProviderConfig config;
  config.name = "bacula";
  config.type = "bacularis";
  config.endpoint = "https://backup.example.com:9097/";
  auto error_of = [&](std::map<std::string, std::string> env) {
    try {
      bacularis::factory(config, test::provider_options(test::fake_environment(std::move(env))));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  CHECK(error_of({}) ==
        R"(provider "bacula": environment variable STOVE_BACULARIS_USER is not set; it holds )"
        "the Bacularis API user name (username_env), or set token_env for an OAuth2 bearer token");
  CHECK(error_of({{"STOVE_BACULARIS_USER", "admin"}}) ==
        R"(provider "bacula": environment variable STOVE_BACULARIS_PASSWORD is not set; it )"
        "holds the Bacularis API password (password_env)");
  CHECK(error_of({{"STOVE_BACULARIS_USER", "admin"}, {"STOVE_BACULARIS_PASSWORD", "pw"}}) ==
        "(no error)");
  config.settings = {{"client_password_env", "FD_PASSWORD"}};
  CHECK(error_of({{"STOVE_BACULARIS_USER", "admin"}, {"STOVE_BACULARIS_PASSWORD", "pw"}}) ==
        R"(provider "bacula": environment variable FD_PASSWORD is not set; it holds the file )"
        "daemons' password (client_password_env)");
  config.settings = {{"token_env", "BACULA_TOKEN"}};
  CHECK(error_of({}) ==
        R"(provider "bacula": environment variable BACULA_TOKEN is not set; it holds the OAuth2 )"
        "bearer token (token_env)");
  CHECK(error_of({{"BACULA_TOKEN", "t"}}) == "(no error)");
}

TEST_CASE("bacularis: create, update and destroy converge when the sandbox drops and fails "
          "requests") {
  test::TempDir dir;
  sandbox::Options o = Fixture::options(dir);
  o.fail_rate = 0.3;
  o.seed = 42;
  sandbox::Server server(o);
  server.start();
  ProviderConfig config;
  config.name = "bacula";
  config.type = "bacularis";
  config.endpoint = server.url();
  config.settings = {{"client_password_env", "FD_PASSWORD"}};
  auto provider = bacularis::factory(
      config, test::provider_options(test::fake_environment({{"STOVE_BACULARIS_USER", "sandbox"},
                                                             {"STOVE_BACULARIS_PASSWORD", k_token},
                                                             {"FD_PASSWORD", k_fd_password}})));
  KindAdapter* backups = provider->adapter(Kind::backup);
  test::Notes notes;

  Target target = backup_target("nightly");
  Remote remote = backups->create(target, notes.context());
  CHECK(remote.observed == k_observed);
  target.remote_id = "nightly";
  Target update =
      test::update_of(target, {{"schedule", "Level=Full sun at 03:30"}}, remote.observed);
  CHECK(backups->update(update, notes.context()).observed["schedule"] == "Level=Full sun at 03:30");
  backups->destroy(update, notes.context());
  CHECK_FALSE(backups->read(update, notes.context()).has_value());
  CHECK(backups->list({}, notes.context()).empty());
  CHECK(server.counters().injected_failures > 0);
}

TEST_CASE("bacularis: a create brings an earlier run's job up to date when it names the same "
          "resources") {
  Fixture f;
  Target disabled = backup_target("nightly");
  disabled.spec["enabled"] = false;
  disabled.spec["retention_days"] = 7;
  f.backups->create(disabled, f.notes.context());

  Remote remote = f.backups->create(backup_target("nightly"), f.notes.context());
  CHECK(remote.observed == k_observed);
  CHECK(f.resource("Job", "nightly")["Enabled"] == true);
  CHECK(f.notes.list() ==
        std::vector<std::string>{
            R"(adopting the existing Client "web-1-fd")",
            R"(adopting the existing Fileset "nightly-fileset")",
            R"(updating the existing Pool "nightly-pool" (FileRetention is 604800, want 1209600; )"
            R"(JobRetention is 604800, want 1209600; VolumeRetention is 604800, want 1209600))",
            R"(adopting the existing Schedule "nightly-schedule")",
            R"(updating the existing Job "nightly" (Enabled is false, want true))"});
}

TEST_CASE("bacularis: within a refresh, list() for five machines costs six GETs in all and "
          "observes what read() does") {
  Fixture f;
  std::vector<Parent> machines;
  std::vector<Target> targets;
  for (int i = 1; i <= 5; ++i) {
    machines.push_back(machine_parent(fmt::format("web {}", i), fmt::format("10.1.0.{}", i)));
    Target t = backup_target(fmt::format("nightly-{}", i), machines.back());
    t.spec["retention_days"] = 10 + i;
    if (i == 3) {
      t.spec["enabled"] = false;
      t.spec["excludes"] = json::array();
    }
    t.remote_id = f.backups->create(t, f.notes.context()).remote_id;
    targets.push_back(std::move(t));
  }
  // A second job on the first machine.
  Target weekly = backup_target("weekly", machines[0]);
  weekly.spec["schedule"] = "Level=Full sun at 03:00";
  weekly.remote_id = f.backups->create(weekly, f.notes.context()).remote_id;

  std::map<std::string, json> read;
  for (const auto& t : targets) {
    read[t.remote_id] = f.backups->read(t, f.notes.context()).value().observed;
  }
  read["weekly"] = f.backups->read(weekly, f.notes.context()).value().observed;
  CHECK(read["nightly-3"] == json{{"name", "nightly-3"},
                                  {"client", "web-3-fd"},
                                  {"enabled", false},
                                  {"schedule", "Level=Incremental mon-sat at 02:00"},
                                  {"fileset", json::array({"/etc", "/var/www"})},
                                  {"excludes", json::array()},
                                  {"retention_days", 13}});

  const auto before = f.provider->stats().requests;
  f.backups->begin_refresh();
  // list() runs concurrently, one thread per machine, as the refresh
  // driver calls it.
  std::vector<std::vector<Remote>> listed(machines.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < machines.size(); ++i) {
    threads.emplace_back([&, i] {
      listed[i] = f.backups->list({machines[i], backup_target("x").parents[1]}, f.notes.context());
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  // A machine without backups, and the top level, from the same listings.
  CHECK(f.backups->list({machine_parent("db", "10.1.0.9")}, f.notes.context()).empty());
  CHECK(f.backups->list({}, f.notes.context()).size() == 6);
  // Job, Schedule, Fileset, Pool, Client, and the jobs the director runs.
  CHECK(f.provider->stats().requests - before == 6);
  f.backups->end_refresh();

  for (size_t i = 0; i < machines.size(); ++i) {
    const size_t expected = i == 0 ? 2 : 1;
    REQUIRE(listed[i].size() == expected);
    for (const auto& remote : listed[i]) {
      // complete() reads nothing: the listings hold all a backup is; it
      // gives the schedule the file's words.
      const Target& t = remote.remote_id == "weekly" ? weekly : targets[i];
      Remote completed = f.backups->complete(t, remote, f.notes.context()).value();
      CHECK(completed.observed == read.at(remote.remote_id));
    }
  }
  CHECK(listed[0][0].remote_id == "nightly-1");
  CHECK(listed[0][1].remote_id == "weekly");
  CHECK(listed[0][1].observed["schedule"] == "Level=Full sun at 3:00");
  CHECK(f.provider->stats().requests - before == 6);
}

TEST_CASE("bacularis: outside a refresh list() fetches the six listings every time, and "
          "end_refresh() drops the refresh's") {
  Fixture f;
  f.backups->create(backup_target("nightly"), f.notes.context());
  auto requests = [&] { return f.provider->stats().requests; };

  auto before = requests();
  CHECK(f.backups->list({machine_parent()}, f.notes.context()).size() == 1);
  CHECK(f.backups->list({machine_parent()}, f.notes.context()).size() == 1);
  CHECK(requests() - before == 12);

  f.backups->begin_refresh();
  before = requests();
  CHECK(f.backups->list({machine_parent()}, f.notes.context()).size() == 1);
  CHECK(requests() - before == 6);
  // A job made behind the refresh's back is not in its listings...
  f.backups->create(backup_target("weekly"), f.notes.context());
  before = requests();
  CHECK(f.backups->list({machine_parent()}, f.notes.context()).size() == 1);
  CHECK(requests() == before);
  f.backups->end_refresh();

  // ...and is in the next one's.
  f.backups->begin_refresh();
  before = requests();
  auto listed = f.backups->list({machine_parent()}, f.notes.context());
  f.backups->end_refresh();
  REQUIRE(listed.size() == 2);
  CHECK(listed[1].remote_id == "weekly");
  CHECK(requests() - before == 6);
}

TEST_CASE("bacularis: a job that names no Schedule is observed with a null schedule, listed and "
          "read alike") {
  Fixture f;
  Target target = backup_target("nightly");
  f.backups->create(target, f.notes.context());
  target.remote_id = "nightly";
  // An operator took the Schedule off the job, straight in the director.
  json job = f.resource("Job", "nightly");
  job.erase("Schedule");
  f.put("Job", job);

  auto read = f.backups->read(target, f.notes.context());
  REQUIRE(read.has_value());
  json expected = k_observed;
  expected["schedule"] = nullptr; // drift: the applied spec has one
  CHECK(read->observed == expected);
  f.backups->begin_refresh();
  auto listed = f.backups->list({machine_parent()}, f.notes.context());
  f.backups->end_refresh();
  REQUIRE(listed.size() == 1);
  CHECK(f.backups->complete(target, listed[0], f.notes.context())->observed == expected);
}
