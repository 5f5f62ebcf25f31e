#include "util/error.hpp"
#include "sandbox/committer.hpp"
#include "sandbox/server.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using nlohmann::json;
using stove::Error;
using stove::ErrorKind;
using stove::sandbox::Committer;
using stove::sandbox::Counters;
using stove::sandbox::Options;
using stove::sandbox::Server;
using stove::test::TempDir;

namespace {

// Options for a sandbox on an ephemeral port in `dir`; cloud spaces are
// DEPLOYED at once unless a test says otherwise.
Options options_in(const TempDir& dir) {
  Options o;
  o.data_dir = (dir / "cloud").string();
  o.deploy_delay = 0ms;
  o.threads = 8;
  return o;
}

std::unique_ptr<Server> started(const Options& o) {
  auto server = std::make_unique<Server>(o);
  server->start();
  return server;
}

// What one HTTP request got back; status 0 when no response came.
struct Answer {
  int status = 0;
  json body;
  httplib::Headers headers;
  httplib::Error error = httplib::Error::Success;
};

// A client of one sandbox, over real HTTP with keep-alive.
class Api {
public:
  explicit Api(const Server& server, std::string token = "sandbox")
      : m_client("127.0.0.1", server.port()), m_token(std::move(token)) {
    m_client.set_keep_alive(true);
    // Without it the body waits for the headers' delayed ACK: 40 ms a call.
    m_client.set_tcp_nodelay(true);
    m_client.set_connection_timeout(5s);
    m_client.set_read_timeout(30s);
  }

  // POST /restmachine/cloudapi/METHOD with `params` and the bearer token.
  Answer call(const std::string& method, const json& params = json::object()) {
    return post(fmt::format("/restmachine/cloudapi/{}", method), params.dump(),
                fmt::format("bearer {}", m_token));
  }

  Answer post(const std::string& path, const std::string& body,
              const std::optional<std::string>& authorization) {
    httplib::Headers headers;
    if (authorization) {
      headers.emplace("Authorization", *authorization);
    }
    return answer(m_client.Post(path.c_str(), headers, body, "application/json"));
  }

  Answer get(const std::string& path) { return answer(m_client.Get(path.c_str())); }

  // Polls cloudspaces/get until the space is DEPLOYED; false after 10 s.
  bool wait_deployed(int64_t space_id) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      Answer a = call("cloudspaces/get", {{"cloudspaceId", space_id}});
      if (a.status == 200 && a.body["status"] == "DEPLOYED") {
        return true;
      }
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

private:
  static Answer answer(const httplib::Result& result) {
    Answer a;
    if (!result) {
      a.error = result.error();
      return a;
    }
    a.status = result->status;
    a.headers = result->headers;
    a.body = json::parse(result->body, nullptr, false);
    if (a.body.is_discarded()) {
      a.body = result->body; // not JSON: kept as text
    }
    return a;
  }

  httplib::Client m_client;
  std::string m_token;
};

json space_params(const std::string& name, int64_t account = 7,
                  const std::string& location = "be-g8-1") {
  return {{"accountId", account}, {"location", location}, {"name", name}, {"access", "alice"}};
}

json machine_params(int64_t space_id, const std::string& name, int64_t memory = 2048,
                    int64_t vcpus = 2) {
  return {{"cloudspaceId", space_id},
          {"name", name},
          {"description", "web server"},
          {"imageId", 12},
          {"disksize", 20},
          {"memory", memory},
          {"vcpus", vcpus}};
}

// Creates a cloud space and returns its id (the space is DEPLOYED when the
// deploy delay is 0).
int64_t create_space(Api& api, const std::string& name) {
  Answer a = api.call("cloudspaces/create", space_params(name));
  REQUIRE(a.status == 200);
  REQUIRE(a.body.is_number_integer());
  return a.body.get<int64_t>();
}

int64_t create_machine(Api& api, int64_t space_id, const std::string& name) {
  Answer a = api.call("machines/create", machine_params(space_id, name));
  REQUIRE(a.status == 200);
  REQUIRE(a.body.is_number_integer());
  return a.body.get<int64_t>();
}

// The first header of that name (case-insensitive), or "".
std::string header(const Answer& a, const std::string& name) {
  auto it = a.headers.find(name);
  return it == a.headers.end() ? std::string() : it->second;
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::io);
    return e.what();
  }
  FAIL("no error was thrown");
  return {};
}

} // namespace

TEST_SUITE("sandbox server") {
  TEST_CASE("calls without the right bearer token are refused with 401") {
    TempDir dir;
    auto server = started(options_in(dir));
    Api api(*server);
    const std::string path = "/restmachine/cloudapi/locations/list";

    Answer missing = api.post(path, "{}", std::nullopt);
    CHECK(missing.status == 401);
    CHECK(missing.body == "missing or invalid bearer token");
    CHECK(header(missing, "www-authenticate") == "Bearer");
    CHECK(api.post(path, "{}", std::string("bearer wrong")).status == 401);
    CHECK(api.post(path, "{}", std::string("bearer sandboxx")).status == 401);
    CHECK(api.post(path, "{}", std::string("bearer")).status == 401);
    CHECK(api.post(path, "{}", std::string("Basic sandbox")).status == 401);
    CHECK(api.post(path, "{}", std::string("sandbox")).status == 401);

    CHECK(api.post(path, "{}", std::string("bearer sandbox")).status == 200);
    CHECK(api.post(path, "{}", std::string("Bearer sandbox")).status == 200);
    CHECK(api.post(path, "{}", std::string("BEARER sandbox")).status == 200);

    Api other(*server, "sandbox-2");
    CHECK(other.call("locations/list").status == 401);
  }

  TEST_CASE("a sandbox takes the token its options give") {
    TempDir dir;
    Options o = options_in(dir);
    o.token = "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl";
    auto server = started(o);
    CHECK(Api(*server).call("locations/list").status == 401);
    CHECK(Api(*server, o.token).call("locations/list").status == 200);
  }

  TEST_CASE("unknown methods and paths are 404 and the API takes only POST") {
    TempDir dir;
    auto server = started(options_in(dir));
    Api api(*server);

    Answer unknown_method = api.call("machines/explode");
    CHECK(unknown_method.status == 404);
    CHECK(unknown_method.body == "no method cloudapi.machines.explode");
    Answer unknown_actor = api.call("volcanoes/list");
    CHECK(unknown_actor.status == 404);
    CHECK(unknown_actor.body == "no method cloudapi.volcanoes.list");

    Answer elsewhere = api.post("/restmachine/other/thing", "{}", std::string("bearer sandbox"));
    CHECK(elsewhere.status == 404);
    CHECK(elsewhere.body == "no such endpoint: /restmachine/other/thing");
    Answer too_deep = api.call("machines/get/more");
    CHECK(too_deep.status == 404);

    Answer get = api.get("/restmachine/cloudapi/locations/list");
    CHECK(get.status == 405);
    CHECK(get.body == "/restmachine/cloudapi/locations/list takes POST");
  }

  TEST_CASE("malformed bodies and parameters are 400") {
    TempDir dir;
    auto server = started(options_in(dir));
    Api api(*server);

    Answer bad_json =
        api.post("/restmachine/cloudapi/cloudspaces/list", "{nope", std::string("bearer sandbox"));
    CHECK(bad_json.status == 400);
    CHECK(bad_json.body == "the request body is not valid JSON");
    Answer not_object =
        api.post("/restmachine/cloudapi/cloudspaces/list", "[1]", std::string("bearer sandbox"));
    CHECK(not_object.status == 400);
    CHECK(not_object.body == "the parameters must be a JSON object");
    // An empty body is no parameters.
    CHECK(api.post("/restmachine/cloudapi/cloudspaces/list", "", std::string("bearer sandbox"))
              .status == 200);

    // The portal's checks against the actor's spec, in its words.
    Answer missing = api.call("cloudspaces/get");
    CHECK(missing.status == 400);
    CHECK(missing.body == "Param with name:cloudspaceId is missing.");
    CHECK(header(missing, "Content-Type") == "application/json");
    CHECK(api.call("cloudspaces/get", {{"cloudspaceId", ""}}).body ==
          "Param with name:cloudspaceId is missing.");
    Answer wrong_type = api.call("cloudspaces/get", {{"cloudspaceId", "one"}});
    CHECK(wrong_type.status == 400);
    CHECK(wrong_type.body == "Value of param cloudspaceId not correct needs to be of type int");
    Answer name_type =
        api.call("cloudspaces/create", {{"accountId", 1}, {"location", "be-g8-1"}, {"name", 5}});
    CHECK(name_type.status == 400);
    CHECK(name_type.body == "parameter name must be a string");
  }

  TEST_CASE("locations/list offers the locations the example playbooks use") {
    TempDir dir;
    auto server = started(options_in(dir));
    Api api(*server);
    Answer a = api.call("locations/list");
    REQUIRE(a.status == 200);
    CHECK(a.body == json::parse(R"([
      {"id": 1, "gid": 101, "locationCode": "be-g8-1", "name": "Belgium, Ghent 1", "flag": "be"},
      {"id": 2, "gid": 102, "locationCode": "be-g8-2", "name": "Belgium, Ghent 2", "flag": "be"},
      {"id": 3, "gid": 201, "locationCode": "ch-lug-1", "name": "Switzerland, Lugano 1",
       "flag": "ch"}
    ])"));
  }

  TEST_CASE("cloud spaces are created, read, listed, renamed and deleted") {
    TempDir dir;
    auto server = started(options_in(dir));
    Api api(*server);

    Answer created = api.call("cloudspaces/create", space_params("web"));
    CHECK(created.status == 200);
    CHECK(created.body == 1);
    CHECK(api.call("cloudspaces/create", space_params("db")).body == 2);
    CHECK(api.call("cloudspaces/create", space_params("web", 8)).body == 3);
    CHECK(api.call("cloudspaces/create", space_params("web", 7, "be-g8-2")).body == 4);

    Answer got = api.call("cloudspaces/get", {{"cloudspaceId", 1}});
    REQUIRE(got.status == 200);
    CHECK(got.body["id"] == 1);
    CHECK(got.body["name"] == "web");
    CHECK(got.body["accountId"] == 7);
    CHECK(got.body["location"] == "be-g8-1");
    CHECK(got.body["status"] == "DEPLOYED");
    CHECK(got.body["description"] == "");
    CHECK(got.body["externalnetworkip"] == "203.0.113.2");
    CHECK(got.body["acl"] == json::parse(R"([{"userGroupId": "alice", "type": "U",
                                              "right": "ACDRUX", "status": "CONFIRMED"}])"));
    // Ids may come as strings, as the real API allows.
    CHECK(api.call("cloudspaces/get", {{"cloudspaceId", "1"}}).body["name"] == "web");

    Answer all = api.call("cloudspaces/list");
    REQUIRE(all.status == 200);
    REQUIRE(all.body.size() == 4);
    CHECK(all.body[0]["name"] == "web");
    CHECK(all.body[3]["location"] == "be-g8-2");
    Answer account_8 = api.call("cloudspaces/list", {{"accountId", 8}});
    REQUIRE(account_8.body.size() == 1);
    CHECK(account_8.body[0]["id"] == 3);

    Answer renamed = api.call("cloudspaces/update", {{"cloudspaceId", 2}, {"name", "database"}});
    CHECK(renamed.status == 200);
    CHECK(renamed.body == true);
    CHECK(api.call("cloudspaces/get", {{"cloudspaceId", 2}}).body["name"] == "database");
    Answer clash = api.call("cloudspaces/update", {{"cloudspaceId", 2}, {"name", "web"}});
    CHECK(clash.status == 409);
    CHECK(clash.body ==
          "a cloud space named \"web\" already exists in account 7 at be-g8-1 (id 1)");

    Answer deleted = api.call("cloudspaces/delete", {{"cloudspaceId", 2}, {"permanently", true}});
    CHECK(deleted.status == 200);
    CHECK(deleted.body == true);
    Answer gone = api.call("cloudspaces/get", {{"cloudspaceId", 2}});
    CHECK(gone.status == 404);
    CHECK(gone.body == "Could not find 2 of type cloudspace");
    CHECK(api.call("cloudspaces/delete", {{"cloudspaceId", 2}, {"permanently", true}}).status ==
          404);
    CHECK(api.call("cloudspaces/list").body.size() == 3);
    // The name is free again, under a new id.
    CHECK(api.call("cloudspaces/create", space_params("db")).body == 5);
  }

  TEST_CASE("cloud space names are unique per account and location and locations must exist") {
    TempDir dir;
    auto server = started(options_in(dir));
    Api api(*server);
    create_space(api, "web");

    Answer duplicate = api.call("cloudspaces/create", space_params("web"));
    CHECK(duplicate.status == 409);
    CHECK(duplicate.body ==
          "a cloud space named \"web\" already exists in account 7 at be-g8-1 (id 1)");

    Answer nowhere = api.call("cloudspaces/create", space_params("other", 7, "mars-1"));
    CHECK(nowhere.status == 400);
    CHECK(nowhere.body ==
          "location \"mars-1\" does not exist (locations: be-g8-1, be-g8-2, ch-lug-1)");

    Answer no_account = api.call("cloudspaces/create", space_params("other", 0));
    CHECK(no_account.status == 400);
    CHECK(no_account.body == "accountId must be a positive integer, not 0");

    Answer blank = api.call("cloudspaces/create", space_params(" "));
    CHECK(blank.status == 400);
    CHECK(blank.body == "the cloud space name must not be empty");
    CHECK(api.call("cloudspaces/list").body.size() == 1);
  }

  TEST_CASE("a cloud space is VIRTUAL, then DEPLOYING, until the deploy delay has passed") {
    TempDir dir;
    Options o = options_in(dir);
    o.deploy_delay = 2s; // VIRTUAL for its first 500 ms
    auto server = started(o);
    Api api(*server);

    auto created_at = std::chrono::steady_clock::now();
    int64_t id = create_space(api, "web");
    Answer fresh = api.call("cloudspaces/get", {{"cloudspaceId", id}});
    CHECK(fresh.body["status"] == "VIRTUAL");
    CHECK(fresh.body["externalnetworkip"] == "203.0.113.2");
    CHECK(api.call("cloudspaces/list").body[0]["status"] == "VIRTUAL");
    // Deployment starts by itself: no call is needed.
    std::vector<std::string> seen{"VIRTUAL"};
    while (seen.back() != "DEPLOYED" && std::chrono::steady_clock::now() - created_at < 10s) {
      std::string status = api.call("cloudspaces/get", {{"cloudspaceId", id}}).body["status"];
      if (status != seen.back()) {
        seen.push_back(status);
      }
      std::this_thread::sleep_for(20ms);
    }
    CHECK(seen == std::vector<std::string>{"VIRTUAL", "DEPLOYING", "DEPLOYED"});
    CHECK(std::chrono::steady_clock::now() - created_at >= 2s);
  }

  TEST_CASE("cloudspaces/create without access is the portal's 400, framed as a JSON string") {
    TempDir dir;
    auto server = started(options_in(dir));
    Api api(*server);
    json params = space_params("web");
    params.erase("access");
    // The raw answer: status, type and body, quotes included.
    httplib::Client client("127.0.0.1", server->port());
    auto raw =
        client.Post("/restmachine/cloudapi/cloudspaces/create",
                    {{"Authorization", "bearer sandbox"}}, params.dump(), "application/json");
    REQUIRE(raw);
    CHECK(raw->status == 400);
    CHECK(raw->get_header_value("Content-Type") == "application/json");
    CHECK(raw->body == R"("Param with name:access is missing.")");
    params["access"] = "";
    CHECK(api.call("cloudspaces/create", params).body == "Param with name:access is missing.");
    CHECK(api.call("cloudspaces/list").body.empty());
  }

  TEST_CASE("a cloud space holding machines cannot be deleted, even while it deploys") {
    TempDir dir;
    Options o = options_in(dir);
    o.deploy_delay = 1h;
    auto server = started(o);
    Api api(*server);
    int64_t id = create_space(api, "web");
    CHECK(api.call("cloudspaces/get", {{"cloudspaceId", id}}).body["status"] == "VIRTUAL");
    // Machines may be made while the cloud space deploys.
    int64_t machine = create_machine(api, id, "m");

    Answer refused = api.call("cloudspaces/delete", {{"cloudspaceId", id}, {"permanently", true}});
    CHECK(refused.status == 409);
    CHECK(refused.body == "In order to delete a CloudSpace it can not contain Machines.");
    CHECK(header(refused, "Content-Type") == "application/json");
    CHECK(api.call("machines/get", {{"machineId", machine}}).status == 200);
    CHECK(api.call("machines/delete", {{"machineId", machine}, {"permanently", true}}).status ==
          200);
    // VIRTUAL: its deployment has not begun, so it can go.
    CHECK(api.call("cloudspaces/delete", {{"cloudspaceId", id}, {"permanently", true}}).status ==
          200);
    CHECK(api.call("cloudspaces/get", {{"cloudspaceId", id}}).status == 404);
  }

  TEST_CASE("machines are created RUNNING, read, listed, renamed and deleted") {
    TempDir dir;
    auto server = started(options_in(dir));
    Api api(*server);
    int64_t space = create_space(api, "web");

    Answer created = api.call("machines/create", machine_params(space, "drupal"));
    CHECK(created.status == 200);
    CHECK(created.body == 1);
    CHECK(api.call("machines/create", machine_params(space, "mail", 1024, 1)).body == 2);

    Answer got = api.call("machines/get", {{"machineId", 1}});
    REQUIRE(got.status == 200);
    json expected = json::parse(R"({
      "id": 1, "name": "drupal", "hostname": "drupal", "description": "web server",
      "status": "RUNNING", "imageid": 12, "cloudspaceid": 1, "sizeid": 0,
      "memory": 2048, "vcpus": 2, "storage": 20,
      "disks": [{"id": 1, "type": "B", "name": "Boot disk", "sizeMax": 20,
                 "status": "ASSIGNED"}],
      "interfaces": [{"ipAddress": "10.1.0.1", "macAddress": "52:54:00:00:00:01",
                      "type": "bridge", "deviceName": "vm-1-0000", "status": "ok"}],
      "accounts": [], "locked": false
    })");
    json body = got.body;
    CHECK(body["creationTime"].is_number_integer());
    CHECK(body["updateTime"].is_number_integer());
    body.erase("creationTime");
    body.erase("updateTime");
    CHECK(body == expected);
    CHECK(api.call("machines/get", {{"machineId", 2}}).body["interfaces"][0]["ipAddress"] ==
          "10.1.0.2");

    Answer list = api.call("machines/list", {{"cloudspaceId", space}});
    REQUIRE(list.status == 200);
    REQUIRE(list.body.size() == 2);
    CHECK(list.body[0]["id"] == 1);
    CHECK(list.body[0]["name"] == "drupal");
    CHECK(list.body[0]["status"] == "RUNNING");
    CHECK(list.body[0]["imageId"] == 12);
    CHECK(list.body[0]["memory"] == 2048);
    CHECK(list.body[0]["vcpus"] == 2);
    CHECK(list.body[1]["name"] == "mail");
    CHECK(api.call("machines/list", {{"cloudspaceId", 99}}).status == 404);

    Answer updated =
        api.call("machines/update", {{"machineId", 1}, {"name", "cms"}, {"description", "CMS"}});
    CHECK(updated.status == 200);
    CHECK(updated.body == true);
    Answer after = api.call("machines/get", {{"machineId", 1}});
    CHECK(after.body["name"] == "cms");
    CHECK(after.body["description"] == "CMS");
    Answer clash = api.call("machines/update", {{"machineId", 1}, {"name", "mail"}});
    CHECK(clash.status == 409);
    CHECK(clash.body == "a machine named \"mail\" already exists in cloud space 1 (id 2)");
    // The old name is free once renamed.
    CHECK(api.call("machines/create", machine_params(space, "drupal")).body == 3);

    Answer deleted = api.call("machines/delete", {{"machineId", 1}, {"permanently", true}});
    CHECK(deleted.status == 200);
    CHECK(deleted.body == true);
    Answer gone = api.call("machines/get", {{"machineId", 1}});
    CHECK(gone.status == 404);
    CHECK(gone.body == "Could not find 1 of type vmachine");
    CHECK(api.call("machines/delete", {{"machineId", 1}, {"permanently", true}}).status == 404);
    CHECK(api.call("machines/list", {{"cloudspaceId", space}}).body.size() == 2);
  }

  TEST_CASE("machines/create checks its parameters like the real API") {
    TempDir dir;
    auto server = started(options_in(dir));
    Api api(*server);
    int64_t space = create_space(api, "web");
    create_machine(api, space, "taken");

    auto refusal = [&](json params) { return api.call("machines/create", params); };
    json odd = machine_params(space, "m", 1023);
    Answer a = refusal(odd);
    CHECK(a.status == 400);
    CHECK(a.body == "memory must be an even number of MB, not 1023");
    a = refusal(machine_params(space, "m", 0));
    CHECK(a.status == 400);
    CHECK(a.body == "memory must be a positive number of MB, not 0");
    a = refusal(machine_params(space, "m", 2048, 0));
    CHECK(a.status == 400);
    CHECK(a.body == "vcpus must be at least 1, not 0");
    json no_disk = machine_params(space, "m");
    no_disk["disksize"] = 0;
    a = refusal(no_disk);
    CHECK(a.status == 400);
    CHECK(a.body == "disksize must be at least 1 (GB), not 0");
    json no_image = machine_params(space, "m");
    no_image["imageId"] = -3;
    a = refusal(no_image);
    CHECK(a.status == 400);
    CHECK(a.body == "image -3 does not exist");
    json missing = machine_params(space, "m");
    missing.erase("imageId");
    a = refusal(missing);
    CHECK(a.status == 400);
    CHECK(a.body == "Param with name:imageId is missing.");
    a = refusal(machine_params(space, "taken"));
    CHECK(a.status == 409);
    CHECK(a.body == "a machine named \"taken\" already exists in cloud space 1 (id 1)");
    a = refusal(machine_params(42, "m"));
    CHECK(a.status == 404);
    CHECK(a.body == "Could not find 42 of type cloudspace");

    // Refused calls change nothing and use no id.
    CHECK(api.call("machines/list", {{"cloudspaceId", space}}).body.size() == 1);
    CHECK(create_machine(api, space, "m") == 2);
  }

  TEST_CASE("machines/resize shrinks only a HALTED machine, and answers 202 false when the live "
            "resize fails") {
    TempDir dir;
    auto server = started(options_in(dir));
    Api api(*server);
    int64_t space = create_space(api, "web");
    int64_t id = create_machine(api, space, "app"); // 2048 MB, 2 vcpus
    auto size = [&] {
      Answer a = api.call("machines/get", {{"machineId", id}});
      return std::make_tuple(a.body["status"].get<std::string>(), a.body["memory"].get<int64_t>(),
                             a.body["vcpus"].get<int64_t>());
    };
    auto resize = [&](int64_t memory, int64_t vcpus) {
      return api.call("machines/resize", {{"machineId", id}, {"memory", memory}, {"vcpus", vcpus}});
    };

    Answer grown = resize(4096, 4);
    CHECK(grown.status == 200);
    CHECK(grown.body == true);
    CHECK(size() == std::make_tuple(std::string("RUNNING"), 4096, 4));

    Answer shrink = resize(2048, 8);
    CHECK(shrink.status == 400);
    CHECK(shrink.body == "Can not decrease memory on a running machine");
    CHECK(resize(8192, 1).body == "Can not decrease vcpus on a running machine");
    CHECK(size() == std::make_tuple(std::string("RUNNING"), 4096, 4));

    // Stopped, it shrinks at once, and stays HALTED.
    CHECK(api.call("machines/stop", {{"machineId", id}}).body == true);
    Answer halted = resize(512, 1);
    CHECK(halted.status == 200);
    CHECK(halted.body == true);
    CHECK(size() == std::make_tuple(std::string("HALTED"), 512, 1));
    CHECK(api.call("machines/start", {{"machineId", id}}).status == 200);

    // A hypervisor that cannot resize it live: 202 false, the size stored.
    httplib::Client admin("127.0.0.1", server->port());
    auto set = admin.Post(fmt::format("/sandbox/admin/machines/{}", id),
                          {{"Authorization", "Bearer sandbox"}}, R"({"live_resize": false})",
                          "application/json");
    REQUIRE(set);
    REQUIRE(set->status == 200);
    Answer accepted = resize(1024, 2);
    CHECK(accepted.status == 202);
    CHECK(accepted.body == false);
    CHECK(size() == std::make_tuple(std::string("RUNNING"), 1024, 2));

    CHECK(api.call("machines/resize", {{"machineId", 99}, {"memory", 512}, {"vcpus", 1}}).status ==
          404);
    CHECK(api.call("machines/stop", {{"machineId", 99}}).status == 404);
    CHECK(api.call("machines/start", {{"machineId", 99}}).status == 404);
    server->stop();
    json saved = json::parse(stove::test::read_file(dir / "cloud" / "cloud.json"));
    CHECK(saved["machines"][0]["awaiting_restart"] == true);
    CHECK(saved["machines"][0]["live_resize"] == false);
  }

  TEST_CASE("machines/reboot restarts a RUNNING machine and refuses a HALTED one") {
    TempDir dir;
    auto server = started(options_in(dir));
    Api api(*server);
    int64_t space = create_space(api, "web");
    int64_t id = create_machine(api, space, "app");
    Answer rebooted = api.call("machines/reboot", {{"machineId", id}});
    CHECK(rebooted.status == 200);
    CHECK(rebooted.body == true);
    CHECK(api.call("machines/get", {{"machineId", id}}).body["status"] == "RUNNING");
    // stop takes force; a second stop changes nothing.
    CHECK(api.call("machines/stop", {{"machineId", id}, {"force", true}}).status == 200);
    CHECK(api.call("machines/stop", {{"machineId", id}, {"force", "maybe"}}).status == 400);
    CHECK(api.call("machines/stop", {{"machineId", id}}).body == true);
    Answer halted = api.call("machines/reboot", {{"machineId", id}});
    CHECK(halted.status == 409);
    CHECK(halted.body == fmt::format("machine {} is HALTED; it cannot be rebooted (start it)", id));
    CHECK(api.call("machines/reboot", {{"machineId", 99}}).status == 404);
    CHECK(api.call("machines/start", {{"machineId", id}}).status == 200);
    server->stop();
    // A start and a reboot: two boots, in the data file.
    json saved = json::parse(stove::test::read_file(dir / "cloud" / "cloud.json"));
    CHECK(saved["machines"][0]["boots"] == 2);
  }

  TEST_CASE("disks/resize grows a boot disk and refuses a size that is not larger") {
    TempDir dir;
    auto server = started(options_in(dir));
    Api api(*server);
    int64_t space = create_space(api, "web");
    int64_t id = create_machine(api, space, "app"); // a 20 GB boot disk
    int64_t disk = api.call("machines/get", {{"machineId", id}}).body["disks"][0]["id"];

    Answer grown = api.call("disks/resize", {{"diskId", disk}, {"size", 50}});
    CHECK(grown.status == 200);
    CHECK(grown.body == true);
    CHECK(api.call("machines/get", {{"machineId", id}}).body["disks"][0]["sizeMax"] == 50);
    Answer same = api.call("disks/resize", {{"diskId", disk}, {"size", 50}});
    CHECK(same.status == 400);
    CHECK(same.body == "The specified size is smaller than or equal the original size");

    Answer shrunk = api.call("disks/resize", {{"diskId", disk}, {"size", 10}});
    CHECK(shrunk.status == 400);
    CHECK(shrunk.body == "The specified size is smaller than or equal the original size");
    CHECK(api.call("machines/get", {{"machineId", id}}).body["disks"][0]["sizeMax"] == 50);
    Answer unknown = api.call("disks/resize", {{"diskId", 77}, {"size", 10}});
    CHECK(unknown.status == 404);
    CHECK(unknown.body == "Could not find 77 of type disk");
  }

  TEST_CASE("deleting a cloud space permanently, once its machines are deleted, destroys them") {
    TempDir dir;
    auto server = started(options_in(dir));
    Api api(*server);
    int64_t web = create_space(api, "web");
    int64_t db = create_space(api, "db");
    int64_t a = create_machine(api, web, "a");
    int64_t b = create_machine(api, web, "b");
    int64_t c = create_machine(api, db, "c");
    int64_t disk_a = api.call("machines/get", {{"machineId", a}}).body["disks"][0]["id"];

    CHECK(api.call("cloudspaces/delete", {{"cloudspaceId", web}, {"permanently", true}}).status ==
          409);
    // Deleted, not permanently: in the recycle bin, no longer in the way.
    CHECK(api.call("machines/delete", {{"machineId", a}}).status == 200);
    CHECK(api.call("machines/delete", {{"machineId", b}}).status == 200);
    CHECK(api.call("cloudspaces/delete", {{"cloudspaceId", web}, {"permanently", true}}).status ==
          200);
    CHECK(api.call("machines/get", {{"machineId", a}}).status == 404);
    CHECK(api.call("machines/delete", {{"machineId", b}}).status == 404); // destroyed with it
    CHECK(api.call("disks/resize", {{"diskId", disk_a}, {"size", 100}}).status == 404);
    CHECK(api.call("machines/get", {{"machineId", c}}).status == 200);
    CHECK(api.call("machines/list", {{"cloudspaceId", web}}).status == 404);
  }

  TEST_CASE("the cloud persists across a restart and ids keep increasing") {
    TempDir dir;
    Options o = options_in(dir);
    {
      auto server = started(o);
      Api api(*server);
      int64_t space = create_space(api, "web");
      create_space(api, "gone");
      CHECK(api.call("cloudspaces/delete", {{"cloudspaceId", 2}}).status == 200);
      create_machine(api, space, "a");
      create_machine(api, space, "b");
      CHECK(api.call("machines/delete", {{"machineId", 2}}).status == 200);
      httplib::Client admin("127.0.0.1", server->port());
      auto set = admin.Post("/sandbox/admin/machines/1", {{"Authorization", "Bearer sandbox"}},
                            R"({"live_resize": false})", "application/json");
      REQUIRE(set);
      CHECK(set->status == 200);
      CHECK(
          api.call("machines/resize", {{"machineId", 1}, {"memory", 4096}, {"vcpus", 2}}).status ==
          202);
      CHECK(api.call("machines/update", {{"machineId", 1}, {"description", "kept"}}).status == 200);
    }
    CHECK(std::filesystem::exists(dir / "cloud" / "cloud.json"));

    auto server = started(o);
    Api api(*server);
    Answer space = api.call("cloudspaces/get", {{"cloudspaceId", 1}});
    CHECK(space.status == 200);
    CHECK(space.body["name"] == "web");
    CHECK(api.call("cloudspaces/get", {{"cloudspaceId", 2}}).status == 404);
    Answer machine = api.call("machines/get", {{"machineId", 1}});
    CHECK(machine.body["description"] == "kept");
    CHECK(machine.body["memory"] == 4096);
    CHECK(api.call("machines/get", {{"machineId", 2}}).status == 404);

    // Deleted ids are not reused, and a size awaiting a restart still
    // awaits it.
    CHECK(create_space(api, "next") == 3);
    CHECK(create_machine(api, 1, "c") == 3);
    CHECK(api.call("machines/get", {{"machineId", 3}}).body["disks"][0]["id"] == 3);
    CHECK(api.call("machines/get", {{"machineId", 3}}).body["interfaces"][0]["ipAddress"] ==
          "10.1.0.3");
    CHECK(api.call("machines/stop", {{"machineId", 1}}).status == 200);
    CHECK(api.call("machines/start", {{"machineId", 1}}).status == 200);
    CHECK(api.call("machines/get", {{"machineId", 1}}).body["memory"] == 4096);
    server->stop();
    json saved = json::parse(stove::test::read_file(dir / "cloud" / "cloud.json"));
    CHECK(saved["machines"][0]["awaiting_restart"] == false);
    CHECK(saved["machines"][0]["boots"] == 1);
  }

  TEST_CASE("a failing sandbox with a fixed seed injects 500s, 429s and drops before and after the "
            "call") {
    TempDir dir;
    Options o = options_in(dir);
    o.fail_rate = 1.0;
    o.seed = 42;
    constexpr int k_requests = 60;

    // What each create got: a status, or 0 for a dropped connection.
    auto run = [&](const Options& options) {
      auto server = started(options);
      Api api(*server);
      std::vector<int> outcomes;
      for (int i = 0; i < k_requests; ++i) {
        Answer a = api.call("cloudspaces/create", space_params(fmt::format("space-{}", i)));
        if (a.status == 429) {
          CHECK(header(a, "Retry-After") == "1");
          CHECK(a.body == "injected failure: too many requests, retry after 1 second");
        } else if (a.status == 500) {
          CHECK(a.body == "injected failure: internal server error");
        } else if (a.status == 0) {
          CHECK(a.error == httplib::Error::Read);
        }
        outcomes.push_back(a.status);
      }
      Counters c = server->counters();
      CHECK(c.requests == k_requests);
      CHECK(c.mutating == k_requests);
      CHECK(c.injected_failures == k_requests);
      return outcomes;
    };
    std::vector<int> outcomes = run(o);
    auto count = [&](int status) { return std::count(outcomes.begin(), outcomes.end(), status); };
    CHECK(count(500) > 0);
    CHECK(count(429) > 0);
    CHECK(count(0) > 0);
    CHECK(count(500) + count(429) + count(0) == k_requests);

    // Without faults, the spaces that exist are those whose connection was
    // dropped after the call: some of the drops, and nothing else.
    Options calm = o;
    calm.fail_rate = 0.0;
    std::set<std::string> existing;
    {
      auto server = started(calm);
      Api api(*server);
      for (const auto& space : api.call("cloudspaces/list").body) {
        existing.insert(space["name"].get<std::string>());
      }
    }
    CHECK(!existing.empty());
    CHECK(static_cast<long>(existing.size()) < count(0));
    for (int i = 0; i < k_requests; ++i) {
      if (outcomes[static_cast<size_t>(i)] != 0) {
        CHECK(existing.count(fmt::format("space-{}", i)) == 0);
      }
    }

    // The same seed fails the same requests the same way.
    TempDir again;
    Options repeat = options_in(again);
    repeat.fail_rate = 1.0;
    repeat.seed = 42;
    CHECK(run(repeat) == outcomes);
  }

  TEST_CASE("a retried create whose response was dropped meets its own object with 409") {
    TempDir dir;
    Options o = options_in(dir);
    o.fail_rate = 0.5;
    o.seed = 3;
    auto server = started(o);
    Api api(*server);
    // Retry every create until it gets an answer from the API itself; a
    // 409 then means an earlier attempt did create it.
    int conflicts = 0;
    for (int i = 0; i < 40; ++i) {
      json params = space_params(fmt::format("s{}", i));
      while (true) {
        Answer a = api.call("cloudspaces/create", params);
        if (a.status == 200) {
          break;
        }
        if (a.status == 409) {
          ++conflicts;
          break;
        }
        REQUIRE((a.status == 0 || a.status == 500 || a.status == 429));
      }
    }
    CHECK(conflicts > 0);
    o.fail_rate = 0;
    server.reset();
    server = started(o);
    CHECK(Api(*server).call("cloudspaces/list").body.size() == 40);
  }

  TEST_CASE("counters count API requests and mutating calls but not the control endpoints") {
    TempDir dir;
    auto server = started(options_in(dir));
    Api api(*server);
    Answer health = api.get("/sandbox/health");
    CHECK(health.status == 200);
    CHECK(health.body == "ok");

    int64_t space = create_space(api, "web");
    create_machine(api, space, "m");
    CHECK(api.call("machines/get", {{"machineId", 1}}).status == 200);
    CHECK(api.call("machines/resize", {{"machineId", 1}, {"memory", 3}}).status == 400);
    CHECK(api.call("locations/list").status == 200);
    CHECK(api.call("nothing/here").status == 404);

    Counters c = server->counters();
    CHECK(c.requests == 6);
    CHECK(c.mutating == 3); // the refused resize counts: it was asked for
    CHECK(c.injected_failures == 0);
    // One write for each change, made one after the other; the empty
    // cloud.json written at start is not counted.
    CHECK(c.writes == 2);

    Answer counters = api.get("/sandbox/counters");
    CHECK(counters.status == 200);
    CHECK(counters.body == json{{"requests", 6},
                                {"mutating", 3},
                                {"injected_failures", 0},
                                {"writes", 2},
                                {"admin", 0}});
    CHECK(server->counters().requests == 6);
  }

  TEST_CASE("latency delays every API response") {
    TempDir dir;
    Options o = options_in(dir);
    o.latency = 150ms;
    auto server = started(o);
    Api api(*server);
    auto start = std::chrono::steady_clock::now();
    CHECK(api.call("locations/list").status == 200);
    CHECK(api.call("cloudspaces/get", {{"cloudspaceId", 1}}).status == 404);
    CHECK(std::chrono::steady_clock::now() - start >= 300ms);
  }

  TEST_CASE("concurrent creates are all committed by shared writes") {
    TempDir dir;
    Options o = options_in(dir);
    o.threads = 32;
    constexpr int k_clients = 16;
    constexpr int k_each = 20;
    std::vector<int64_t> ids;
    {
      auto server = started(o);
      int64_t space;
      {
        Api api(*server);
        space = create_space(api, "web");
      }
      std::vector<std::vector<int64_t>> made(k_clients);
      std::atomic<int> failures{0};
      std::vector<std::thread> clients;
      for (int t = 0; t < k_clients; ++t) {
        clients.emplace_back([&, t] {
          Api api(*server);
          for (int i = 0; i < k_each; ++i) {
            Answer a =
                api.call("machines/create", machine_params(space, fmt::format("m-{}-{}", t, i)));
            if (a.status != 200) {
              ++failures;
              continue;
            }
            made[static_cast<size_t>(t)].push_back(a.body.get<int64_t>());
          }
        });
      }
      for (auto& c : clients) {
        c.join();
      }
      CHECK(failures == 0);
      for (const auto& m : made) {
        ids.insert(ids.end(), m.begin(), m.end());
      }
      Counters c = server->counters();
      CHECK(c.mutating == k_clients * k_each + 1);
      CHECK(c.writes >= 1);
      CHECK(c.writes <= c.mutating);
    }
    std::sort(ids.begin(), ids.end());
    REQUIRE(ids.size() == static_cast<size_t>(k_clients * k_each));
    CHECK(ids.front() == 1);
    CHECK(ids.back() == k_clients * k_each);
    CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());

    // Every acknowledged create is on disk.
    auto server = started(o);
    Api api(*server);
    CHECK(api.call("machines/list", {{"cloudspaceId", 1}}).body.size() ==
          static_cast<size_t>(k_clients * k_each));
  }

  TEST_CASE("a data directory serves one sandbox at a time") {
    TempDir dir;
    Options o = options_in(dir);
    auto first = started(o);
    Server second(o);
    std::string message = error_of([&] { second.start(); });
    CHECK(message ==
          fmt::format("{} is in use by another stove sandbox (pid {})", o.data_dir, ::getpid()));
    first->stop();
    Server third(o);
    third.start();
    CHECK(third.port() > 0);
  }

  TEST_CASE("a port in use fails the start") {
    TempDir dir;
    TempDir other;
    auto first = started(options_in(dir));
    Options o = options_in(other);
    o.port = first->port();
    Server second(o);
    std::string message = error_of([&] { second.start(); });
    CHECK(message == fmt::format("cannot listen on 127.0.0.1:{}: the address is in use, not "
                                 "local, or not allowed",
                                 o.port));
  }

  TEST_CASE("an unreadable cloud.json or data directory fails the start") {
    TempDir dir;
    Options o = options_in(dir);
    dir.write("cloud/cloud.json", "{\"format\": \"something else\"}");
    std::string message = error_of([&] { Server(o).start(); });
    CHECK(message == fmt::format("{}/cloud.json: not a readable sandbox cloud: not a sandbox "
                                 "cloud (no \"format\": \"stove-sandbox-cloud\")",
                                 o.data_dir));

    dir.write("cloud/cloud.json", "{\"format\": \"stove-sandbox-cloud\", \"version\": 9}");
    message = error_of([&] { Server(o).start(); });
    CHECK(message == fmt::format("{}/cloud.json: not a readable sandbox cloud: version 9 is not "
                                 "supported (this stove reads version 1)",
                                 o.data_dir));

    Options under_file = o;
    under_file.data_dir = dir.write("a-file", "x") + "/cloud";
    message = error_of([&] { Server(under_file).start(); });
    CHECK(message.find(
              fmt::format("{}: cannot create the data directory: ", under_file.data_dir)) == 0);
  }

  TEST_CASE("stop does not wait for idle keep-alive connections to time out") {
    TempDir dir;
    auto server = started(options_in(dir));
    Api api(*server);
    CHECK(api.call("locations/list").status == 200);
    auto start = std::chrono::steady_clock::now();
    server->stop();
    // The keep-alive timeout is 5 s.
    CHECK(std::chrono::steady_clock::now() - start < 2s);
    CHECK(api.call("locations/list").status == 0);
  }

  TEST_CASE("the server's url names its port and stop can be called twice") {
    TempDir dir;
    Server server(options_in(dir));
    server.start();
    CHECK(server.port() > 0);
    CHECK(server.url() == fmt::format("http://127.0.0.1:{}", server.port()));
    std::thread waiter([&] { server.wait(); });
    server.stop();
    waiter.join();
    server.stop();
    CHECK(std::filesystem::exists(dir / "cloud" / "cloud.json"));
  }
}

TEST_SUITE("sandbox committer") {
  TEST_CASE("a commit reports a write that failed") {
    TempDir dir;
    std::string blocker = dir.write("blocker", "a file, not a directory");
    uint64_t version = 0;
    Committer committer(
        blocker + "/cloud.json",
        [&] {
          return Committer::Snapshot{version, "{}"};
        },
        0);
    version = 1;
    auto error = committer.commit(1);
    REQUIRE(error.has_value());
    CHECK(error->find(blocker + "/cloud.json: cannot write: ") == 0);
    CHECK(committer.stop() == error);
  }

  TEST_CASE("one write covers every change its snapshot includes") {
    TempDir dir;
    std::atomic<uint64_t> version{5};
    std::string path = (dir / "data.json").string();
    Committer committer(
        path,
        [&] {
          return Committer::Snapshot{version.load(), fmt::format("{}", version.load())};
        },
        0);
    CHECK(committer.commit(5) == std::nullopt);
    CHECK(committer.writes() == 1);
    // Versions 1 to 5 were all in that snapshot.
    CHECK(committer.commit(3) == std::nullopt);
    CHECK(committer.writes() == 1);
    CHECK(stove::test::read_file(path) == "5");
    version = 6;
    CHECK(committer.commit(6) == std::nullopt);
    CHECK(committer.writes() == 2);
    CHECK(committer.stop() == std::nullopt);
    CHECK(stove::test::read_file(path) == "6");
  }
}
