// The sandbox's admin endpoint (/sandbox/admin/...): changes behind the
// APIs' backs for drift tests, with the cloudapi's token, counted as admin
// only, never failed on purpose, and persisted.

#include "sandbox/server.hpp"
#include "support/s3_client.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>

using namespace std::chrono_literals;
using nlohmann::json;
using stove::sandbox::Counters;
using stove::sandbox::Options;
using stove::sandbox::Server;
using stove::test::S3Client;
using stove::test::TempDir;

namespace {

Options options_in(const TempDir& dir) {
  Options o;
  o.data_dir = (dir / "cloud").string();
  o.deploy_delay = 0ms;
  o.job_duration = 0ms;
  o.threads = 4;
  return o;
}

struct Answer {
  int status = 0;
  json body;
  httplib::Headers headers;
};

class Admin {
public:
  explicit Admin(const Server& server, std::string token = "sandbox")
      : m_client("127.0.0.1", server.port()), m_token(std::move(token)) {
    m_client.set_read_timeout(30s);
  }

  // METHOD PATH with `body` (as is) and the bearer token, unless `token` is
  // nullopt.
  Answer send(const std::string& method, const std::string& path, const std::string& body = "",
              const std::optional<std::string>& token = std::string("default")) {
    httplib::Headers headers;
    if (token) {
      headers.emplace("Authorization",
                      fmt::format("Bearer {}", *token == "default" ? m_token : *token));
    }
    auto result = [&] {
      if (method == "POST") {
        return m_client.Post(path, headers, body, "application/json");
      }
      if (method == "DELETE") {
        return m_client.Delete(path, headers);
      }
      if (method == "GET") {
        return m_client.Get(path, headers);
      }
      return m_client.Put(path, headers, body, "application/json");
    }();
    Answer a;
    if (result) {
      a.status = result->status;
      a.headers = result->headers;
      a.body = json::parse(result->body, nullptr, false);
      if (a.body.is_discarded()) {
        a.body = result->body;
      }
    }
    return a;
  }

  Answer post(const std::string& path, const json& body) {
    return send("POST", fmt::format("/sandbox/admin/{}", path), body.dump());
  }
  Answer remove(const std::string& path) {
    return send("DELETE", fmt::format("/sandbox/admin/{}", path));
  }
  // A cloudapi call.
  Answer call(const std::string& method, const json& params) {
    return send("POST", fmt::format("/restmachine/cloudapi/{}", method), params.dump());
  }
  // A Bacularis config request.
  Answer bacula(const std::string& method, const std::string& resource, const json& directives) {
    json named = directives;
    named["Name"] = resource.substr(resource.find('/') + 1);
    return send(method, fmt::format("/api/v3/config/dir/{}", resource),
                json{{"config", named.dump()}}.dump());
  }

private:
  httplib::Client m_client;
  std::string m_token;
};

std::string header(const Answer& a, const std::string& name) {
  auto it = a.headers.find(name);
  return it == a.headers.end() ? std::string() : it->second;
}

json error(const std::string& message) {
  return {{"error", message}};
}

// A cloud space (1) with machines "web" (1) and "db" (2).
void populate(Admin& admin) {
  REQUIRE(admin
              .call("cloudspaces/create", {{"accountId", 7},
                                           {"location", "be-g8-1"},
                                           {"name", "prod"},
                                           {"access", "ops@example"}})
              .body == 1);
  for (const char* name : {"web", "db"}) {
    REQUIRE(admin
                .call("machines/create", {{"cloudspaceId", 1},
                                          {"name", name},
                                          {"imageId", 12},
                                          {"disksize", 20},
                                          {"memory", 2048},
                                          {"vcpus", 2}})
                .status == 200);
  }
}

S3Client s3_of(const Server& server) {
  return S3Client(fmt::format("{}/s3", server.url()), "sandbox", "sandbox");
}

} // namespace

TEST_SUITE("sandbox admin") {
  TEST_CASE("admin calls need the cloudapi's bearer token and count as admin only") {
    TempDir dir;
    Server server(options_in(dir));
    server.start();
    Admin admin(server);
    Answer none = admin.send("DELETE", "/sandbox/admin/machines/1", "", std::nullopt);
    CHECK(none.status == 401);
    CHECK(none.body == error("missing or invalid bearer token"));
    CHECK(header(none, "WWW-Authenticate") == "Bearer");
    CHECK(admin.send("DELETE", "/sandbox/admin/machines/1", "", std::string("wrong")).status ==
          401);
    CHECK(admin.remove("machines/1").status == 404);
    Counters c = server.counters();
    CHECK(c.admin == 3);
    CHECK(c.requests == 0);
    CHECK(c.mutating == 0);
    CHECK(admin.send("GET", "/sandbox/counters").body == json{{"requests", 0},
                                                              {"mutating", 0},
                                                              {"injected_failures", 0},
                                                              {"writes", 0},
                                                              {"admin", 3}});
  }

  TEST_CASE("admin answers 404 for unknown routes and objects, 405 for other methods and 400 for "
            "bad bodies") {
    TempDir dir;
    Server server(options_in(dir));
    server.start();
    Admin admin(server);
    for (const char* path :
         {"/sandbox/admin/nothing/1", "/sandbox/admin/machines", "/sandbox/admin/machines/1/disks",
          "/sandbox/admin/", "/sandbox/admin/bacula/Client", "/sandbox/admin/buckets/"}) {
      CAPTURE(path);
      Answer a = admin.send("POST", path, "{}");
      CHECK(a.status == 404);
      CHECK(a.body == error(fmt::format("no such admin endpoint: {}", path)));
    }
    Answer get = admin.send("GET", "/sandbox/admin/machines/1");
    CHECK(get.status == 405);
    CHECK(get.body == error("/sandbox/admin/machines/1 takes POST or DELETE"));
    CHECK(header(get, "Allow") == "POST, DELETE");
    Answer del = admin.send("DELETE", "/sandbox/admin/cloudspaces/1/machines");
    CHECK(del.status == 405);
    CHECK(del.body == error("/sandbox/admin/cloudspaces/1/machines takes POST"));
    CHECK(header(del, "Allow") == "POST");

    CHECK(admin.post("machines/abc", json::object()).body == error("machine abc not found"));
    CHECK(admin.post("machines/-1", json::object()).body == error("machine -1 not found"));
    CHECK(admin.post("machines/9", json::object()).status == 404);
    CHECK(admin.post("machines/9", json::object()).body == error("machine 9 not found"));
    CHECK(admin.remove("cloudspaces/9").body == error("cloud space 9 not found"));
    CHECK(admin.post("cloudspaces/9/machines", {{"name", "x"}}).body ==
          error("cloud space 9 not found"));
    CHECK(admin.remove("buckets/nope").body == error("bucket \"nope\" not found"));
    CHECK(admin.post("buckets/nope", json::object()).status == 404);
    CHECK(admin.remove("bacula/Client/nope").body == error("Client \"nope\" not found"));
    CHECK(admin.remove("bacula/Director/x").status == 404);

    populate(admin);
    Answer bad = admin.send("POST", "/sandbox/admin/machines/1", "{not json");
    CHECK(bad.status == 400);
    CHECK(bad.body == error("the request body is not valid JSON"));
    CHECK(admin.post("machines/1", json::array()).body ==
          error("the request body must be a JSON object of attributes"));
    CHECK(server.counters().mutating == 3); // the cloudapi's creates only
  }

  TEST_CASE("admin sets a machine's attributes, checked strictly, without a mutating call") {
    TempDir dir;
    Server server(options_in(dir));
    server.start();
    Admin admin(server);
    populate(admin);
    Counters before = server.counters();

    Answer a = admin.post("machines/1", {{"name", "web-renamed"},
                                         {"description", "changed"},
                                         {"status", "HALTED"},
                                         {"memory", 4096},
                                         {"vcpus", 4},
                                         {"disk_size", 50},
                                         {"image_id", 3}});
    CHECK(a.status == 200);
    CHECK(a.body["id"] == 1);
    CHECK(a.body["name"] == "web-renamed");
    CHECK(a.body["description"] == "changed");
    CHECK(a.body["status"] == "HALTED");
    CHECK(a.body["memory"] == 4096);
    CHECK(a.body["vcpus"] == 4);
    CHECK(a.body["storage"] == 50);
    CHECK(a.body["imageid"] == 3);
    Counters after = server.counters();
    CHECK(after.mutating == before.mutating);
    CHECK(after.requests == before.requests);
    CHECK(after.admin == before.admin + 1);
    CHECK(after.writes == before.writes + 1);

    // The cloudapi sees the change.
    Answer got = admin.call("machines/get", {{"machineId", 1}});
    CHECK(got.body["name"] == "web-renamed");
    CHECK(got.body["status"] == "HALTED");
    CHECK(got.body["memory"] == 4096);
    CHECK(got.body["disks"][0]["sizeMax"] == 50);
    CHECK(admin.call("machines/list", {{"cloudspaceId", 1}}).body[0]["name"] == "web-renamed");

    // The same values again change nothing and write nothing.
    CHECK(admin.post("machines/1", {{"memory", 4096}, {"status", "HALTED"}}).status == 200);
    CHECK(server.counters().writes == after.writes);

    CHECK(admin.post("machines/1", {{"colour", "red"}}).body ==
          error("unknown machine attribute \"colour\" (known: name, description, status, "
                "memory, vcpus, disk_size, image_id, live_resize)"));
    CHECK(admin.post("machines/1", {{"memory", "4096"}}).body ==
          error("attribute \"memory\" must be an integer, not \"4096\""));
    CHECK(admin.post("machines/1", {{"memory", 1.5}}).status == 400);
    CHECK(admin.post("machines/1", {{"vcpus", 0}}).body ==
          error("attribute \"vcpus\" must be at least 1, not 0"));
    CHECK(admin.post("machines/1", {{"status", "BROKEN"}}).body ==
          error("attribute \"status\" must be one of RUNNING, HALTED, not \"BROKEN\""));
    CHECK(admin.post("machines/1", {{"live_resize", "no"}}).body ==
          error("attribute \"live_resize\" must be true or false, not \"no\""));
    CHECK(admin.post("machines/1", {{"name", 5}}).body ==
          error("attribute \"name\" must be a string, not 5"));
    CHECK(admin.post("machines/1", {{"name", " "}}).body ==
          error("attribute \"name\" must name the machine"));
    Answer taken = admin.post("machines/1", {{"name", "db"}});
    CHECK(taken.status == 409);
    CHECK(taken.body == error("a machine named \"db\" already exists in cloud space 1 (id 2)"));
    // A refused change changes nothing.
    CHECK(admin.post("machines/1", {{"memory", 8192}, {"vcpus", "x"}}).status == 400);
    CHECK(admin.call("machines/get", {{"machineId", 1}}).body["memory"] == 4096);
    CHECK(server.counters().mutating == before.mutating);
  }

  TEST_CASE("admin renames cloud spaces and deletes machines and cloud spaces with their "
            "machines") {
    TempDir dir;
    Server server(options_in(dir));
    server.start();
    Admin admin(server);
    populate(admin);
    Answer renamed = admin.post("cloudspaces/1", {{"name", "staging"}, {"description", "moved"}});
    CHECK(renamed.status == 200);
    CHECK(renamed.body["name"] == "staging");
    CHECK(renamed.body["description"] == "moved");
    CHECK(admin.call("cloudspaces/get", {{"cloudspaceId", 1}}).body["name"] == "staging");
    CHECK(admin.post("cloudspaces/1", {{"status", "gone"}}).body ==
          error("unknown cloud space attribute \"status\" (known: name, description)"));

    CHECK(admin.post("cloudspaces/1/machines", {{"name", "extra"}}).status == 201);
    Answer one = admin.remove("machines/2");
    CHECK(one.status == 200);
    CHECK(one.body == json{{"deleted", {{"machines", {2}}}}});
    CHECK(admin.call("machines/get", {{"machineId", 2}}).status == 404);
    CHECK(admin.remove("machines/2").status == 404);

    Answer space = admin.remove("cloudspaces/1");
    CHECK(space.status == 200);
    CHECK(space.body == json{{"deleted", {{"cloudspaces", {1}}, {"machines", {1, 3}}}}});
    CHECK(admin.call("cloudspaces/get", {{"cloudspaceId", 1}}).status == 404);
    CHECK(admin.call("machines/get", {{"machineId", 1}}).status == 404);
    CHECK(server.counters().mutating == 3); // the cloudapi's creates only
    CHECK(server.counters().admin == 6);
  }

  TEST_CASE("admin deletes a cloud space that is still DEPLOYING") {
    TempDir dir;
    Options o = options_in(dir);
    o.deploy_delay = 3'600'000ms;
    Server server(o);
    server.start();
    Admin admin(server);
    REQUIRE(admin
                .call("cloudspaces/create", {{"accountId", 7},
                                             {"location", "be-g8-1"},
                                             {"name", "new"},
                                             {"access", "ops@example"}})
                .status == 200);
    Answer a = admin.remove("cloudspaces/1");
    CHECK(a.status == 200);
    CHECK(a.body == json{{"deleted", {{"cloudspaces", {1}}, {"machines", json::array()}}}});
  }

  TEST_CASE("admin creates an unmanaged machine in a cloud space") {
    TempDir dir;
    Server server(options_in(dir));
    server.start();
    Admin admin(server);
    populate(admin);
    Answer a = admin.post("cloudspaces/1/machines", {{"name", "intruder"}});
    CHECK(a.status == 201);
    CHECK(a.body["id"] == 3);
    CHECK(a.body["name"] == "intruder");
    CHECK(a.body["description"] == "");
    CHECK(a.body["status"] == "RUNNING");
    CHECK(a.body["memory"] == 1024);
    CHECK(a.body["vcpus"] == 1);
    CHECK(a.body["storage"] == 10);
    CHECK(a.body["imageid"] == 1);
    CHECK(a.body["cloudspaceid"] == 1);
    CHECK(a.body["interfaces"][0]["ipAddress"] == "10.1.0.3");
    Answer full = admin.post("cloudspaces/1/machines", {{"name", "halted"},
                                                        {"status", "HALTED"},
                                                        {"memory", 512},
                                                        {"vcpus", 3},
                                                        {"disk_size", 7},
                                                        {"image_id", 5},
                                                        {"description", "d"}});
    CHECK(full.status == 201);
    CHECK(full.body["status"] == "HALTED");
    CHECK(full.body["storage"] == 7);
    Answer listed = admin.call("machines/list", {{"cloudspaceId", 1}});
    REQUIRE(listed.body.size() == 4);
    CHECK(listed.body[2]["name"] == "intruder");
    CHECK(admin.post("cloudspaces/1/machines", json::object()).body ==
          error("attribute \"name\" is required"));
    CHECK(admin.post("cloudspaces/1/machines", {{"name", "web"}}).status == 409);
    CHECK(admin.post("cloudspaces/1/machines", {{"name", "x"}, {"size", 1}}).status == 400);
    CHECK(server.counters().mutating == 3);
  }

  TEST_CASE("admin sets a bucket's versioning and tags and deletes it even when not empty") {
    TempDir dir;
    Server server(options_in(dir));
    server.start();
    Admin admin(server);
    S3Client s3 = s3_of(server);
    REQUIRE(s3.send("PUT", "/logs").status == 200);
    REQUIRE(s3.send("PUT", "/logs/a.txt", "x").status == 200);
    Counters before = server.counters();

    Answer a = admin.post("buckets/logs", {{"versioning", "Enabled"}, {"tags", {{"env", "prod"}}}});
    CHECK(a.status == 200);
    CHECK(a.body == json{{"name", "logs"},
                         {"region", "us-east-1"},
                         {"versioning", "Enabled"},
                         {"tags", {{"env", "prod"}}},
                         {"objects", {"a.txt"}}});
    CHECK(s3.send("GET", "/logs?versioning").body.find("<Status>Enabled</Status>") !=
          std::string::npos);
    CHECK(s3.send("GET", "/logs?tagging").body.find("<Key>env</Key><Value>prod</Value>") !=
          std::string::npos);
    CHECK(admin.post("buckets/logs", {{"tags", json::object()}}).body["tags"] == json::object());
    CHECK(admin.post("buckets/logs", {{"versioning", "On"}}).body ==
          error("attribute \"versioning\" must be one of Enabled, Suspended, not \"On\""));
    CHECK(admin.post("buckets/logs", {{"tags", {{"env", 1}}}}).body ==
          error("tag \"env\" must be a string with a non-empty key, not 1"));
    CHECK(admin.post("buckets/logs", {{"acl", "private"}}).body ==
          error("unknown bucket attribute \"acl\" (known: versioning, tags)"));

    Answer gone = admin.remove("buckets/logs");
    CHECK(gone.status == 200);
    CHECK(gone.body == json{{"deleted", {{"buckets", {"logs"}}, {"objects", {"a.txt"}}}}});
    CHECK(s3.send("HEAD", "/logs").status == 404);
    CHECK(admin.remove("buckets/logs").status == 404);
    Counters after = server.counters();
    CHECK(after.mutating == before.mutating);
    CHECK(after.requests == before.requests + 3);
    CHECK(after.admin == 7);
  }

  TEST_CASE("admin changes, creates and deletes Bacula resources without the API's checks") {
    TempDir dir;
    Server server(options_in(dir));
    server.start();
    Admin admin(server);
    const json client = {{"Address", "10.1.0.1"}, {"Catalog", "MyCatalog"}, {"Password", "pw"}};
    REQUIRE(admin.bacula("POST", "Client/web-fd", client).body["error"] == 0);
    REQUIRE(admin.bacula("POST", "Fileset/etc", {{"Include", {{{"File", {"/etc"}}}}}})
                .body["error"] == 0);
    REQUIRE(admin.bacula("POST", "Pool/p", {{"PoolType", "Backup"}}).body["error"] == 0);
    REQUIRE(admin
                .bacula("POST", "Job/backup-web",
                        {{"Type", "Backup"},
                         {"Client", "web-fd"},
                         {"Fileset", "etc"},
                         {"Pool", "p"},
                         {"Storage", {"File1"}},
                         {"Messages", "Standard"}})
                .body["error"] == 0);
    Counters before = server.counters();

    // Directives as Bacularis takes them, read back as bdirjson prints them.
    Answer changed =
        admin.post("bacula/Client/web-fd", {{"Address", "10.9.9.9"}, {"FDPort", 9102}});
    CHECK(changed.status == 200);
    CHECK(changed.body == json{{"Name", "web-fd"},
                               {"Address", "10.9.9.9"},
                               {"Catalog", "MyCatalog"},
                               {"Password", "pw"},
                               {"FdPort", 9102}});
    CHECK(admin.send("GET", "/api/v3/config/dir/Client/web-fd").body["output"] == changed.body);
    CHECK(admin.post("bacula/Client/web-fd", {{"FdPort", nullptr}}).body ==
          json{{"Name", "web-fd"}, {"Address", "10.9.9.9"}, {"Catalog", "MyCatalog"},
               {"Password", "pw"}});

    Answer created = admin.post("bacula/Pool/Unmanaged Pool", {{"Pool Type", "Backup"}});
    CHECK(created.status == 201);
    CHECK(created.body == json{{"Name", "Unmanaged Pool"}, {"PoolType", "Backup"}});
    CHECK(admin.send("GET", "/api/v3/config/dir/Pool/Unmanaged Pool").body["output"] ==
          created.body);

    // A Client a Job uses goes all the same.
    Answer gone = admin.remove("bacula/Client/web-fd");
    CHECK(gone.status == 200);
    CHECK(gone.body == json{{"deleted", {{"Client", {"web-fd"}}}}});
    CHECK(admin.send("GET", "/api/v3/config/dir/Client/web-fd").body ==
          json{{"output", json::array()}, {"error", 0}});

    CHECK(admin.post("bacula/Client/x", {{"Name", "y"}}).body ==
          error("Client \"x\": Name \"y\" differs from the name in the path"));
    CHECK(admin.post("bacula/Client/x", json::array()).body ==
          error("the request body must be a JSON object of directives"));
    // Each resource must still be one the director reads.
    CHECK(admin.post("bacula/Client/x", {{"Address", "h"}}).body ==
          error("Client \"x\": \"Password\" directive is required in \"Client\" resource, but "
                "not found."));
    CHECK(admin.post("bacula/Director/x", json::object()).body ==
          error("the sandbox's director has no Director resources to change (it has Client, "
                "Fileset, Schedule, Pool and Job)"));
    CHECK(admin.post("bacula/Client/ bad", json::object()).status == 400);
    Counters after = server.counters();
    CHECK(after.mutating == before.mutating);
    CHECK(after.admin == 9);
  }

  TEST_CASE("admin changes are on disk when answered and survive a restart") {
    TempDir dir;
    Options o = options_in(dir);
    {
      Server server(o);
      server.start();
      Admin admin(server);
      populate(admin);
      REQUIRE(s3_of(server).send("PUT", "/keep").status == 200);
      REQUIRE(s3_of(server).send("PUT", "/drop").status == 200);
      REQUIRE(admin.post("machines/1", {{"memory", 8192}}).status == 200);
      REQUIRE(admin.remove("machines/2").status == 200);
      REQUIRE(admin.post("cloudspaces/1/machines", {{"name", "stray"}}).status == 201);
      REQUIRE(admin.post("buckets/keep", {{"tags", {{"a", "b"}}}}).status == 200);
      REQUIRE(admin.remove("buckets/drop").status == 200);
      REQUIRE(admin
                  .post("bacula/Client/c-fd",
                        {{"Address", "1.2.3.4"}, {"Catalog", "MyCatalog"}, {"Password", "pw"}})
                  .status == 201);
      // Answered once durable: the files hold the changes before the stop.
      json cloud = json::parse(stove::test::read_file(dir / "cloud" / "cloud.json"));
      CHECK(cloud.dump().find("stray") != std::string::npos);
      json s3 = json::parse(stove::test::read_file(dir / "cloud" / "s3.json"));
      CHECK(s3.dump().find("drop") == std::string::npos);
      json bacula = json::parse(stove::test::read_file(dir / "cloud" / "bacula.json"));
      CHECK(bacula.dump().find("1.2.3.4") != std::string::npos);
    }
    Server server(o);
    server.start();
    Admin admin(server);
    CHECK(admin.call("machines/get", {{"machineId", 1}}).body["memory"] == 8192);
    CHECK(admin.call("machines/get", {{"machineId", 2}}).status == 404);
    CHECK(admin.call("machines/get", {{"machineId", 3}}).body["name"] == "stray");
    CHECK(s3_of(server).buckets() == std::set<std::string>{"keep"});
    CHECK(s3_of(server).send("GET", "/keep?tagging").body.find("<Key>a</Key>") !=
          std::string::npos);
    CHECK(admin.send("GET", "/api/v3/config/dir/Client/c-fd").body["output"]["Address"] ==
          "1.2.3.4");
    CHECK(server.counters().admin == 0);
  }

  TEST_CASE("injected faults and latency never apply to admin calls") {
    TempDir dir;
    Options o = options_in(dir);
    o.fail_rate = 1.0;
    o.seed = 7;
    o.latency = 2000ms;
    Server server(o);
    server.start();
    Admin admin(server);
    auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) {
      CHECK(admin.post("cloudspaces/1/machines", {{"name", "x"}}).status == 404);
    }
    CHECK(std::chrono::steady_clock::now() - started < 2000ms);
    Counters c = server.counters();
    CHECK(c.injected_failures == 0);
    CHECK(c.requests == 0);
    CHECK(c.admin == 20);
  }
}
