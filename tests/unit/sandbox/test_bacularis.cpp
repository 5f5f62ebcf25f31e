// The sandbox's Bacularis API: the answers of Bacularis 3.2+ (bacularis-api
// Config, ConfigV2, ConsoleCommand), v2 and v3, credentials, and
// persistence across a restart, with the version 1 data upgraded.

#include "sandbox/bacularis.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <fstream>

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

const json k_client = {{"Name", "web-fd"},       {"Address", "10.0.0.5"}, {"FdPort", 9102},
                       {"Catalog", "MyCatalog"}, {"Password", "secret"},  {"AutoPrune", true}};

struct Director {
  test::TempDir dir;
  Bacularis bacula{dir.path().string(), "tok"};

  Reply write(const std::string& method, int version, const std::string& type,
              const std::string& name, const json& directives,
              const std::string& client_version = "0.4") {
    return bacula.call(method, fmt::format("/api/v{}/config/dir/{}/{}", version, type, name),
                       config_body(directives), client_version);
  }
  Reply post(const std::string& type, const json& directives) {
    return write("POST", 3, type, directives["Name"].get<std::string>(), directives);
  }
  Reply put(const std::string& type, const json& directives, int version = 3) {
    return write("PUT", version, type, directives["Name"].get<std::string>(), directives);
  }
  Reply remove(const std::string& type, const std::string& name, int version = 3) {
    return bacula.call("DELETE", fmt::format("/api/v{}/config/dir/{}/{}", version, type, name), "");
  }
  json get(const std::string& path) { return bacula.call("GET", path, "").body; }

  // A Backup job and everything it names.
  void backup(const std::string& job) {
    REQUIRE(post("Client", k_client).body["error"] == 0);
    REQUIRE(post("Fileset", {{"Name", job + "-fs"}, {"Include", {{{"File", {"/etc"}}}}}})
                .body["error"] == 0);
    REQUIRE(post("Schedule", {{"Name", job + "-sched"}, {"Run", {"Level=Full sun at 02:00"}}})
                .body["error"] == 0);
    REQUIRE(post("Pool", {{"Name", job + "-pool"}, {"PoolType", "Backup"}}).body["error"] == 0);
    REQUIRE(post("Job", {{"Name", job},
                         {"Type", "Backup"},
                         {"Client", "web-fd"},
                         {"Fileset", job + "-fs"},
                         {"Schedule", job + "-sched"},
                         {"Pool", job + "-pool"},
                         {"Storage", {"File1"}},
                         {"Messages", "Standard"}})
                .body["error"] == 0);
  }
};

std::string validation(const std::string& message) {
  return fmt::format("Config validation error.Array\n(\n    [output] => Array\n        (\n"
                     "            [0] => bacula-dir: ERROR TERMINATION\n"
                     "            [1] => Config error: {}\n        )\n\n    [exitcode] => 1\n)\n",
                     message);
}

} // namespace

TEST_SUITE("sandbox bacularis") {
  TEST_CASE("a missing resource reads as an empty output with error 0, as bdirjson prints {}") {
    Director d;
    CHECK(d.get("/api/v3/config/dir/Job/nightly") == reply(0, json::array()));
    CHECK(d.get("/api/v2/config/dir/Client/web-fd") == reply(0, json::array()));
    CHECK(d.get("/api/v3/config/dir/Job") == reply(0, json::array()));
    // A type the director has no resources of lists nothing.
    CHECK(d.get("/api/v3/config/dir/Counter") == reply(0, json::array()));
  }

  TEST_CASE("resources read back as bdirjson prints them") {
    Director d;
    d.backup("nightly");
    CHECK(d.post("Fileset", {{"Name", "full"},
                             {"Include",
                              {{{"File", {"/", "/var/lib/my data"}},
                                {"Options", {{{"Signature", "MD5"}, {"Compression", "GZIP9"}}}}}}},
                             {"Exclude", {{"File", {"/tmp"}}}}})
              .body["error"] == 0);
    CHECK(d.get("/api/v3/config/dir/Fileset/full")["output"] ==
          json{{"Name", "full"},
               {"Include",
                {{{"File", {"/", "/var/lib/my data"}},
                  {"Options", {{{"Signature", "Md5"}, {"Compression", "Gzip9"}}}}}}},
               {"Exclude", {{"File", {"/tmp"}}}}});
    // FDPort is FdPort to bdirjson; booleans are true and false.
    CHECK(d.post("Client", {{"Name", "db-fd"},
                            {"Address", "10.0.0.6"},
                            {"FDPort", 9102},
                            {"Catalog", "MyCatalog"},
                            {"Password", "x"},
                            {"AutoPrune", "yes"}})
              .body["error"] == 0);
    CHECK(d.get("/api/v3/config/dir/Client/db-fd")["output"] == json{{"Name", "db-fd"},
                                                                     {"Address", "10.0.0.6"},
                                                                     {"FdPort", 9102},
                                                                     {"Catalog", "MyCatalog"},
                                                                     {"Password", "x"},
                                                                     {"AutoPrune", true}});
    // Periods are seconds; Storage is a list; a Run is an object of bits.
    CHECK(d.post("Pool", {{"Name", "p"}, {"PoolType", "Backup"}, {"VolumeRetention", 2592000}})
              .body["error"] == 0);
    CHECK(d.get("/api/v3/config/dir/Pool/p")["output"]["VolumeRetention"] == 2592000);
    CHECK(d.get("/api/v3/config/dir/Job/nightly")["output"]["Storage"] == json{"File1"});
    json run = d.get("/api/v3/config/dir/Schedule/nightly-sched")["output"]["Run"];
    REQUIRE(run.size() == 1);
    CHECK(run[0]["Level"] == "Full");
    CHECK(run[0]["Hour"] == json{2});
    CHECK(run[0]["DayOfWeek"] == json{0});
    // The list: one object per resource, under the type as bdirjson spells it.
    json list = d.get("/api/v3/config/dir/FileSet")["output"];
    REQUIRE(list.size() == 2);
    CHECK(list[0].contains("Fileset"));
  }

  TEST_CASE("v3 creates with POST and refuses a second one, and PUT replaces or answers 97") {
    Director d;
    CHECK(d.post("Client", k_client).body == reply(0, ""));
    CHECK(d.post("Client", k_client).body ==
          reply(98, "Config already exists. Component Type: dir, Resource Type: Client, "
                    "Resource Name: web-fd"));
    json other = {{"Name", "db-fd"}, {"Address", "h"}, {"Catalog", "MyCatalog"}, {"Password", "p"}};
    CHECK(d.put("Client", other).body ==
          reply(97, "Config does not exist. Component Type: dir, Resource Type: Client, "
                    "Resource Name: db-fd"));
    // A PUT replaces: what it leaves out is gone.
    json smaller = {{"Name", "web-fd"},
                    {"Address", "10.0.0.9"},
                    {"Catalog", "MyCatalog"},
                    {"Password", "secret"}};
    CHECK(d.put("Client", smaller).body == reply(0, ""));
    CHECK(d.get("/api/v3/config/dir/Client/web-fd")["output"] == smaller);
  }

  TEST_CASE("v2 has no POST or DELETE of a resource, and its PUT creates one that is missing") {
    Director d;
    CHECK(d.write("POST", 2, "Client", "web-fd", k_client).body ==
          reply(1000, "Internal error. Method or property "
                      "Bacularis\\API\\Pages\\API\\ConfigV2::create is not defined."));
    CHECK(d.put("Client", k_client, 2).body == reply(0, ""));
    CHECK(d.get("/api/v2/config/dir/Client/web-fd")["output"]["Address"] == "10.0.0.5");
    CHECK(d.remove("Client", "web-fd", 2).body["error"] == 1000);
    CHECK(d.get("/api/v3/config/dir/Client/web-fd")["output"]["Name"] == "web-fd");
  }

  TEST_CASE("a PUT without X-Baculum-API above 0.2 is taken for PHP-serialized data") {
    Director d;
    REQUIRE(d.post("Client", k_client).body["error"] == 0);
    const std::string body = config_body(k_client);
    for (const char* version : {"", "0.2", "0.1"}) {
      CAPTURE(version);
      Reply r = d.bacula.call("PUT", "/api/v3/config/dir/Client/web-fd", body, version);
      CHECK(r.body["error"] == 1000);
      CHECK(r.body["output"].get<std::string>().find("unserialize()") != std::string::npos);
    }
    CHECK(d.bacula.call("PUT", "/api/v3/config/dir/Client/web-fd", body, "0.3").body ==
          reply(0, ""));
    // A POST decodes JSON whatever the header says.
    json db = k_client;
    db["Name"] = "db-fd";
    CHECK(d.bacula.call("POST", "/api/v3/config/dir/Client/db-fd", config_body(db), "").body ==
          reply(0, ""));
  }

  TEST_CASE("the body is {config: JSON text} with a Name") {
    Director d;
    CHECK(
        d.bacula
            .call("POST", "/api/v3/config/dir/Client/web-fd", json{{"config", "{not json"}}.dump())
            .body == reply(94, "Config validation error."));
    CHECK(
        d.bacula.call("POST", "/api/v3/config/dir/Client/web-fd", json{{"config", k_client}}.dump())
            .body["error"] == 1000);
    json nameless = k_client;
    nameless.erase("Name");
    CHECK(d.write("POST", 3, "Client", "web-fd", nameless).body ==
          reply(1000, "Internal error. Undefined array key \"Name\""));
  }

  TEST_CASE("every write is checked as bdirjson -t checks the file") {
    Director d;
    json no_password = k_client;
    no_password.erase("Password");
    CHECK(d.post("Client", no_password).body ==
          reply(94, validation("\"Password\" directive is required in \"Client\" resource, but "
                               "not found.")));
    CHECK(d.post("Pool", {{"Name", "p"}, {"PoolType", "Backup"}, {"VolumeRetention", "30 days"}})
              .body == reply(94, validation("expected a time period, got: 30 days")));
    CHECK(d.post("Pool", {{"Name", "p"}, {"PoolType", "Backup"}, {"Foo", 1}}).body ==
          reply(94, validation("Keyword \"Foo\" not permitted in this resource.")));
    CHECK(
        d.post("Schedule", {{"Name", "s"}, {"Run", {"Level=Full sundy at 02:00"}}}).body["error"] ==
        94);
    CHECK(d.post("Job", {{"Name", "j"},
                         {"Type", "Backup"},
                         {"Client", "nope"},
                         {"Fileset", "f"},
                         {"Pool", "p"},
                         {"Messages", "Standard"}})
              .body["error"] == 94);
    REQUIRE(d.post("Client", k_client).body["error"] == 0);
    REQUIRE(d.post("Fileset", {{"Name", "f"}}).body["error"] == 0);
    REQUIRE(d.post("Pool", {{"Name", "p"}, {"PoolType", "Backup"}}).body["error"] == 0);
    json job = {{"Name", "j"},    {"Type", "Backup"}, {"Client", "web-fd"},
                {"Fileset", "f"}, {"Pool", "p"},      {"Messages", "Standard"}};
    CHECK(d.post("Job", job).body ==
          reply(94, validation("No storage specified in Job \"j\" nor in Pool.")));
    job.erase("Messages");
    job["Storage"] = {"File1"};
    CHECK(d.post("Job", job).body ==
          reply(94, validation("\"Messages\" directive in Job \"j\" resource is required, but "
                               "not found.")));
    // Nothing refused was kept.
    CHECK(d.get("/api/v3/config/dir/Job") == reply(0, json::array()));
  }

  TEST_CASE("DELETE finds the type as bdirjson spells it and refuses what is in use") {
    Director d;
    d.backup("nightly");
    CHECK(d.remove("Pool", "nope").body == reply(97, "Config does not exist."));
    Reply used = d.remove("Pool", "nightly-pool");
    CHECK(used.body["error"] == 99);
    CHECK(json::parse(used.body["output"].get<std::string>()) ==
          json::parse(R"([{"component_type": "Director", "resource_type": "Job",
                           "resource_name": "nightly", "directive_name": "Pool"}])"));
    // FileSet is not how bdirjson spells the type: Bacularis finds nothing.
    CHECK(d.remove("Job", "nightly").body == reply(0, ""));
    CHECK(d.remove("FileSet", "nightly-fs").body == reply(97, "Config does not exist."));
    CHECK(d.remove("Fileset", "nightly-fs").body == reply(0, ""));
    CHECK(d.get("/api/v3/config/dir/Fileset/nightly-fs") == reply(0, json::array()));
  }

  TEST_CASE("a PUT under another spelling of the type adds the resource again, which fails") {
    Director d;
    REQUIRE(d.post("Fileset", {{"Name", "f"}}).body["error"] == 0);
    CHECK(d.put("FileSet", {{"Name", "f"}, {"Include", {{{"File", {"/"}}}}}}).body ==
          reply(94, validation("Attempt to define second \"Fileset\" resource named \"f\" is not "
                               "permitted.")));
    CHECK(d.put("Fileset", {{"Name", "f"}, {"Include", {{{"File", {"/"}}}}}}).body == reply(0, ""));
  }

  TEST_CASE("a PUT with another Name renames, references included, unless the name is taken") {
    Director d;
    d.backup("nightly");
    CHECK(d.write("PUT", 3, "Pool", "nightly-pool", {{"Name", "web-fd"}, {"PoolType", "Backup"}})
              .body["error"] == 0);
    CHECK(d.get("/api/v3/config/dir/Job/nightly")["output"]["Pool"] == "web-fd");
    CHECK(d.get("/api/v3/config/dir/Pool/nightly-pool") == reply(0, json::array()));
    REQUIRE(d.post("Pool", {{"Name", "other"}, {"PoolType", "Backup"}}).body["error"] == 0);
    CHECK(d.write("PUT", 3, "Pool", "other", {{"Name", "web-fd"}, {"PoolType", "Backup"}}).body ==
          reply(98, "Config already exists."));
  }

  TEST_CASE("the console reloads, and jobs/resnames lists the jobs as of the last reload") {
    Director d;
    d.backup("nightly");
    CHECK(d.get("/api/v3/jobs/resnames") == reply(0, {{"sandbox-dir", json::array()}}));
    CHECK(d.bacula.call("PUT", "/api/v3/console", R"(["reload"])").body ==
          reply(0, json::array({"reload"})));
    CHECK(d.get("/api/v2/jobs/resnames") == reply(0, {{"sandbox-dir", {"nightly"}}}));
    CHECK(d.bacula.call("PUT", "/api/v3/console", R"(["status", "dir"])").body ==
          reply(1, "Invalid command."));
  }

  TEST_CASE(
      "paths that match no endpoint get the welcome page, and an old server has no /api/v3/") {
    Director d;
    json welcome = reply(0, "Welcome in the Baculum API. Panel is available on "
                            "http://127.0.0.1/panel/");
    CHECK(d.get("/api/v3/nothing/here") == welcome);
    CHECK(d.get("/api/v3/config/dir/Job/bad$name") == welcome);
    test::TempDir dir;
    Bacularis old(dir.path().string(), "tok", {}, BacularisOptions{2});
    Reply v3 = old.call("GET", "/api/v3/config/dir/Director", "");
    CHECK(v3.status == 500);
    CHECK(v3.content_type == "text/html");
    CHECK(
        old.call("GET", "/api/v2/config/dir/Director", "").body["output"][0]["Director"]["Name"] ==
        "sandbox-dir");
  }

  TEST_CASE("credentials: a bearer token or basic auth as sandbox, else 401 with error 6") {
    Director d;
    d.bacula.start();
    CHECK(d.bacula.serve("GET", "/api/v3/config/dir/Job", "Bearer tok", "0.4", "").body ==
          reply(0, json::array()));
    CHECK(d.bacula.serve("GET", "/api/v3/config/dir/Job", "Basic c2FuZGJveDp0b2s=", "0.4", "")
              .status == 200);
    Reply refused = d.bacula.serve("GET", "/api/v3/config/dir/Job", "Bearer nope", "0.4", "");
    CHECK(refused.status == 401);
    CHECK(refused.body == reply(6, "Problem with authentication to Bacularis API."));
  }

  TEST_CASE("the configuration persists across a restart, as bacula.json version 2") {
    test::TempDir dir;
    {
      Bacularis bacula(dir.path().string(), "tok");
      bacula.start();
      REQUIRE(bacula
                  .serve("POST", "/api/v3/config/dir/Client/web-fd", "Bearer tok", "0.4",
                         config_body(k_client))
                  .body["error"] == 0);
      REQUIRE_FALSE(bacula.stop());
    }
    json document = json::parse(std::ifstream(dir.path() / "bacula.json"));
    CHECK(document["version"] == 2);
    CHECK(document["resources"]["Client"]["web-fd"]["AutoPrune"] == true);
    Bacularis again(dir.path().string(), "tok");
    again.start();
    CHECK(again.call("GET", "/api/v3/config/dir/Client/web-fd", "").body["output"] == k_client);
  }

  TEST_CASE("version 1 data, which kept directive text, is read as the director reads it") {
    test::TempDir dir;
    json v1 = {{"format", "stove-sandbox-bacula"},
               {"version", 1},
               {"resources",
                {{"Client",
                  {{"web-fd",
                    {{"Name", "web-fd"},
                     {"Address", "10.0.0.5"},
                     {"FDPort", 9102},
                     {"Catalog", "MyCatalog"},
                     {"AutoPrune", "yes"}}}}},
                 {"FileSet",
                  {{"n-fileset",
                    {{"Name", "n-fileset"},
                     {"Include", {{{"File", {"/"}}, {"Options", {{{"Signature", "MD5"}}}}}}},
                     {"Exclude", {{{"File", {"/tmp"}}}}}}}}},
                 {"Pool",
                  {{"n-pool",
                    {{"Name", "n-pool"}, {"PoolType", "Backup"}, {"VolumeRetention", "30 days"}}}}},
                 {"Job",
                  {{"n",
                    {{"Name", "n"},
                     {"Type", "Backup"},
                     {"Client", "web-fd"},
                     {"FileSet", "n-fileset"},
                     {"Pool", "n-pool"},
                     {"Storage", "File1"},
                     {"Messages", "Standard"},
                     {"Enabled", "no"}}}}}}}};
    std::ofstream(dir.path() / "bacula.json") << v1.dump();
    Bacularis bacula(dir.path().string(), "tok");
    bacula.start();
    json client = bacula.call("GET", "/api/v3/config/dir/Client/web-fd", "").body["output"];
    CHECK(client["FdPort"] == 9102);
    CHECK(client["AutoPrune"] == true);
    CHECK(client["Password"] == std::string(k_sandbox_client_password));
    CHECK(bacula.call("GET", "/api/v3/config/dir/Pool/n-pool", "")
              .body["output"]["VolumeRetention"] == 2592000);
    json job = bacula.call("GET", "/api/v3/config/dir/Job/n", "").body["output"];
    CHECK(job["Fileset"] == "n-fileset");
    CHECK(job["Storage"] == json{"File1"});
    CHECK(job["Enabled"] == false);
    CHECK(
        bacula.call("GET", "/api/v3/config/dir/Fileset/n-fileset", "").body["output"]["Exclude"] ==
        json{{"File", {"/tmp"}}});
  }

  TEST_CASE("a data file in a version this build does not know is refused") {
    test::TempDir dir;
    std::ofstream(dir.path() / "bacula.json") << json{
        {"format", "stove-sandbox-bacula"},
        {"version", 3},
        {"resources", json::object()}}.dump();
    Bacularis bacula(dir.path().string(), "tok");
    CHECK_THROWS_WITH_AS(bacula.start(),
                         doctest::Contains("version 3 is not one this build reads (1 or 2)"),
                         std::exception);
  }

  TEST_CASE("the admin endpoint merges directives as Bacularis takes them, and deletes") {
    Director d;
    d.backup("nightly");
    Reply changed = d.bacula.admin_update("Schedule", "nightly-sched",
                                          {{"Run", {"Level=Incremental mon at 03:00"}}});
    CHECK(changed.status == 200);
    CHECK(changed.body["Run"][0]["Level"] == "Incremental");
    CHECK(d.bacula.admin_update("Job", "nightly", {{"Schedule", nullptr}}).status == 200);
    CHECK_FALSE(d.get("/api/v3/config/dir/Job/nightly")["output"].contains("Schedule"));
    CHECK(d.bacula.admin_update("Pool", "x", {{"PoolType", "Backup"}}).status == 201);
    CHECK(d.bacula.admin_update("Pool", "x", {{"VolumeRetention", "30 days"}}).status == 400);
    CHECK(d.bacula.admin_update("Director", "sandbox-dir", json::object()).status == 404);
    // Deleting behind the API's back skips the dependency check.
    CHECK(d.bacula.admin_delete("Client", "web-fd").status == 200);
    CHECK(d.bacula.admin_delete("Client", "web-fd").status == 404);
  }
}
