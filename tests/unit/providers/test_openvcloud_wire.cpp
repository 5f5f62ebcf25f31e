// The OpenVCloud adapter's wire format, against a scripted fake cloudapi:
// exact paths, bodies and headers, and what the adapter makes of answers
// the sandbox does not give (client credentials, odd error bodies, ERROR).

#include "util/error.hpp"
#include "providers/openvcloud.hpp"
#include "providers/provider.hpp"
#include "support/printing.hpp"
#include "unit/providers/fake_cloudapi.hpp"
#include "unit/providers/provider_fixtures.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

using namespace stove;
using namespace stove::providers;
using namespace std::chrono_literals;
using nlohmann::json;
using stove::test::FakeCloudapi;

namespace {

using Answer = FakeCloudapi::Answer;
using Call = FakeCloudapi::Call;

// The bearer token: a JWT of itsyou.online user john, whose `access` is
// john@itsyouonline.
const std::string k_jwt = test::user_jwt("john");

std::unique_ptr<Provider> openvcloud_on(const FakeCloudapi& fake,
                                        json settings = {{"account_id", 42},
                                                         {"token_env", "STOVE_OVC_TOKEN"}}) {
  return openvcloud::factory(
      test::openvcloud_config(fake.url(), std::move(settings)),
      test::provider_options(test::fake_environment({{"STOVE_OVC_TOKEN", k_jwt}})));
}

const json k_locations = json::array({{{"id", 1}, {"locationCode", "be-g8-1"}, {"name", "Ghent"}},
                                      {{"id", 2}, {"locationCode", "nl-ams-1"}, {"name", "Ams"}}});

json space_json(const std::string& status) {
  return {{"id", 17},         {"name", "web"},          {"accountId", 42},
          {"status", status}, {"location", "nl-ams-1"}, {"externalnetworkip", "203.0.113.18"}};
}

json machine_json(int64_t memory = 2048, int64_t vcpus = 2, int64_t disk = 20,
                  const std::string& status = "RUNNING") {
  return {{"id", 5},
          {"name", "app"},
          {"description", "app server"},
          {"status", status},
          {"imageid", 3},
          {"cloudspaceid", 17},
          {"memory", memory},
          {"vcpus", vcpus},
          {"disks", json::array({{{"id", 81}, {"type", "D"}, {"sizeMax", 100}},
                                 {{"id", 80}, {"type", "B"}, {"sizeMax", disk}}})},
          {"interfaces", json::array({{{"ipAddress", "10.17.0.5"}, {"type", "bridge"}}})}};
}

const json k_machine_observed = {{"name", "app"},        {"status", "RUNNING"},
                                 {"memory", 2048},       {"vcpus", 2},
                                 {"image_id", 3},        {"disk_boot_size", 20},
                                 {"boot_disk_id", "80"}, {"ip_address", "10.17.0.5"},
                                 {"cloudspace_id", "17"}};

std::string error_of(const std::function<void()>& run) {
  try {
    run();
  } catch (const ProviderError& e) {
    return e.what();
  }
  return "(no ProviderError)";
}

} // namespace

TEST_CASE("providers: openvcloud wire - a cloud space create resolves the location, posts "
          "the create and polls until DEPLOYED") {
  FakeCloudapi fake;
  fake.on("locations/list", 200, k_locations);
  fake.on("cloudspaces/create", 200, 17);
  // As the G8: VIRTUAL at first, DEPLOYING while deployed, then DEPLOYED.
  fake.on("cloudspaces/get", [](const Call&, int n) {
    return Answer{200, space_json(n == 1 ? "VIRTUAL" : n == 2 ? "DEPLOYING" : "DEPLOYED").dump()};
  });
  auto provider = openvcloud_on(fake);
  test::Notes notes;
  Remote remote =
      provider->adapter(Kind::cloud_space)->create(test::space_target("web", 2), notes.context());

  CHECK(remote.remote_id == "17");
  CHECK(
      remote.observed ==
      json{{"name", "web"}, {"status", "DEPLOYED"}, {"location", "nl-ams-1"}, {"location_id", 2}});
  CHECK(fake.paths() == std::vector<std::string>{"locations/list", "cloudspaces/create",
                                                 "cloudspaces/get", "cloudspaces/get",
                                                 "cloudspaces/get"});
  auto calls = fake.calls();
  CHECK(calls[0].body == json::object());
  CHECK(calls[1].body == json{{"accountId", 42},
                              {"location", "nl-ams-1"},
                              {"name", "web"},
                              {"access", "john@itsyouonline"}});
  CHECK(calls[2].body == json{{"cloudspaceId", 17}});
  for (const auto& call : calls) {
    CHECK(call.authorization == "bearer " + k_jwt);
    CHECK(call.content_type.rfind("application/json", 0) == 0);
  }
  CHECK(notes.list() == std::vector<std::string>{"waiting for DEPLOYED"});
  CHECK(provider->stats().requests == 5);
}

TEST_CASE("providers: openvcloud wire - locations are listed once per provider and the access "
          "setting wins over the JWT's user") {
  FakeCloudapi fake;
  fake.on("locations/list", 200, k_locations);
  fake.on("cloudspaces/create", 200, 17);
  fake.on("cloudspaces/get", 200, space_json("DEPLOYED"));
  auto provider = openvcloud_on(
      fake, {{"account_id", 42}, {"token_env", "STOVE_OVC_TOKEN"}, {"access", "admin"}});
  auto* spaces = provider->adapter(Kind::cloud_space);
  test::Notes notes;
  spaces->create(test::space_target("web", 2), notes.context());
  spaces->create(test::space_target("db", 1), notes.context());

  CHECK(fake.count("locations/list") == 1);
  auto calls = fake.calls();
  REQUIRE(calls.size() == 5);
  CHECK(calls[1].body ==
        json{{"accountId", 42}, {"location", "nl-ams-1"}, {"name", "web"}, {"access", "admin"}});
  CHECK(calls[3].body ==
        json{{"accountId", 42}, {"location", "be-g8-1"}, {"name", "db"}, {"access", "admin"}});

  CHECK(
      error_of([&] { spaces->create(test::space_target("x", 9), notes.context()); }) ==
      R"(location_id 9 is not a location of provider "ovc" (locations: 1 (be-g8-1), 2 (nl-ams-1)))");
  CHECK(fake.count("locations/list") == 1);
  CHECK(fake.count("cloudspaces/create") == 2);
}

TEST_CASE("providers: openvcloud wire - a cloud space in ERROR or still DEPLOYING at the "
          "deadline fails the create") {
  FakeCloudapi fake;
  fake.on("locations/list", 200, k_locations);
  fake.on("cloudspaces/create", 200, 17);
  auto provider = openvcloud_on(fake);
  auto* spaces = provider->adapter(Kind::cloud_space);
  test::Notes notes;

  fake.on("cloudspaces/get", 200, space_json("ERROR"));
  CHECK(error_of([&] { spaces->create(test::space_target("web", 2), notes.context()); }) ==
        R"(cloud space "web" (id 17) is ERROR instead of DEPLOYED)");

  fake.on("cloudspaces/get", 200, space_json("DEPLOYING"));
  auto started = http::Clock::now();
  CHECK(error_of([&] { spaces->create(test::space_target("web", 2), notes.context(400ms)); }) ==
        R"(cloud space "web" (id 17) was not DEPLOYED by the deadline (status DEPLOYING))");
  CHECK(http::Clock::now() - started < 2s);
}

TEST_CASE("providers: openvcloud wire - a create answered 500 adopts what it made instead of "
          "sending it again") {
  FakeCloudapi fake;
  fake.on("locations/list", 200, k_locations);
  fake.on("cloudspaces/create", 500, json{{"error", "database timeout"}});
  json other_account = space_json("DEPLOYED");
  other_account["id"] = 18;
  other_account["accountId"] = 7;
  json other_location = space_json("DEPLOYED");
  other_location["id"] = 19;
  other_location["location"] = "be-g8-1";
  fake.on("cloudspaces/list", 200,
          json::array({other_account, other_location, space_json("DEPLOYING")}));
  fake.on("cloudspaces/get", 200, space_json("DEPLOYED"));
  auto provider = openvcloud_on(fake);
  test::Notes notes;
  Remote remote =
      provider->adapter(Kind::cloud_space)->create(test::space_target("web", 2), notes.context());
  CHECK(remote.remote_id == "17");
  CHECK(fake.count("cloudspaces/create") == 1);
  CHECK(fake.paths() == std::vector<std::string>{"locations/list", "cloudspaces/create",
                                                 "cloudspaces/list", "cloudspaces/get"});
  CHECK(notes.list() ==
        std::vector<std::string>{R"(adopting the existing cloud space "web" (id 17))"});
}

TEST_CASE("providers: openvcloud wire - a create whose response never comes adopts the object "
          "it made") {
  std::atomic<bool> made{false}; // outlives the fake's handlers
  FakeCloudapi fake;
  fake.on("machines/create", [&](const Call&, int) {
    made = true;
    std::this_thread::sleep_for(600ms); // past the request timeout: the response is lost
    return Answer{200, "5"};
  });
  fake.on("machines/list", [&](const Call&, int) {
    return Answer{200, made ? json::array({{{"id", 5}, {"name", "app"}}}).dump() : "[]"};
  });
  fake.on("machines/get", 200, machine_json());
  auto options = test::provider_options(test::fake_environment({{"STOVE_OVC_TOKEN", k_jwt}}));
  options.http.request_timeout = 200ms;
  auto provider = openvcloud::factory(test::openvcloud_config(fake.url()), options);
  test::Notes notes;
  Remote remote =
      provider->adapter(Kind::machine)->create(test::machine_target("17", "app"), notes.context());
  CHECK(remote.remote_id == "5");
  CHECK(remote.observed == k_machine_observed);
  CHECK(fake.count("machines/create") == 1);
  CHECK(fake.paths() == std::vector<std::string>{"machines/create", "machines/list", "machines/get",
                                                 "machines/get"});
  CHECK(notes.list() == std::vector<std::string>{R"(adopting the existing machine "app" (id 5))"});
}

TEST_CASE("providers: openvcloud wire - a create answered 500 that made nothing is sent again") {
  FakeCloudapi fake;
  fake.on("locations/list", 200, k_locations);
  fake.on("cloudspaces/create", [](const Call&, int n) {
    return n == 1 ? Answer{500, "\"internal error\""} : Answer{200, "17"};
  });
  fake.on("cloudspaces/list", 200, json::array());
  fake.on("cloudspaces/get", 200, space_json("DEPLOYED"));
  auto provider = openvcloud_on(fake);
  test::Notes notes;
  Remote remote =
      provider->adapter(Kind::cloud_space)->create(test::space_target("web", 2), notes.context());
  CHECK(remote.remote_id == "17");
  CHECK(fake.paths() == std::vector<std::string>{"locations/list", "cloudspaces/create",
                                                 "cloudspaces/list", "cloudspaces/create",
                                                 "cloudspaces/get"});

  // One that keeps failing gives up with the API's answer.
  fake.clear();
  fake.on("cloudspaces/create", 500, "internal error");
  CHECK(
      error_of([&] {
        provider->adapter(Kind::cloud_space)->create(test::space_target("web", 2), notes.context());
      }) == "cloudspaces/create: 500 Internal Server Error: internal error");
  CHECK(fake.count("cloudspaces/create") == 6);
}

TEST_CASE("providers: openvcloud wire - machine create sends the spec and reports the machine "
          "under normalised names") {
  FakeCloudapi fake;
  fake.on("machines/create", 200, 5);
  fake.on("machines/get", [](const Call&, int n) {
    return Answer{200, machine_json(2048, 2, 20, n == 1 ? "DEPLOYING" : "RUNNING").dump()};
  });
  auto provider = openvcloud_on(fake);
  test::Notes notes;
  Remote remote =
      provider->adapter(Kind::machine)->create(test::machine_target("17", "app"), notes.context());
  CHECK(remote.remote_id == "5");
  CHECK(remote.observed == k_machine_observed);
  CHECK(fake.paths() ==
        std::vector<std::string>{"machines/create", "machines/get", "machines/get"});
  CHECK(fake.calls()[0].body == json{{"cloudspaceId", 17},
                                     {"name", "app"},
                                     {"description", "app server"},
                                     {"imageId", 3},
                                     {"disksize", 20},
                                     {"memory", 2048},
                                     {"vcpus", 2}});
  CHECK(fake.calls()[1].body == json{{"machineId", 5}});
  CHECK(notes.list() == std::vector<std::string>{"waiting for RUNNING"});

  fake.on("machines/get", 200, machine_json(2048, 2, 20, "ERROR"));
  CHECK(error_of([&] {
          provider->adapter(Kind::machine)
              ->create(test::machine_target("17", "app"), notes.context());
        }) == R"(machine "app" (id 5) is ERROR instead of RUNNING)");
}

TEST_CASE("providers: openvcloud wire - a 409 on machine create adopts the machine of that name "
          "in the cloud space") {
  FakeCloudapi fake;
  fake.on("machines/create", 409, "a machine named \"app\" already exists in cloud space 17");
  fake.on("machines/list", 200,
          json::array({{{"id", 4}, {"name", "db"}, {"status", "RUNNING"}},
                       {{"id", 5}, {"name", "app"}, {"status", "RUNNING"}, {"imageId", 3}}}));
  fake.on("machines/get", 200, machine_json());
  auto provider = openvcloud_on(fake);
  test::Notes notes;
  Remote remote =
      provider->adapter(Kind::machine)->create(test::machine_target("17", "app"), notes.context());
  CHECK(remote.remote_id == "5");
  CHECK(remote.observed == k_machine_observed);
  CHECK(fake.paths() == std::vector<std::string>{"machines/create", "machines/list", "machines/get",
                                                 "machines/get"});
  CHECK(fake.calls()[1].body == json{{"cloudspaceId", 17}});
  CHECK(notes.list() == std::vector<std::string>{R"(adopting the existing machine "app" (id 5))"});

  // A 409 with nothing of that name to adopt is the API's refusal.
  fake.on("machines/list", 200, json::array());
  const char* refusal = R"(machines/create: 409 Conflict: a machine named "app" already exists in )"
                        R"(cloud space 17; stove does not manage it (rename the resource, or )"
                        R"(delete the existing one))";
  CHECK(error_of([&] {
          provider->adapter(Kind::machine)->create(test::machine_target("17", "app"),
                                                   notes.context());
        }) == refusal);

  // Nor is a machine of that name that is not the one asked for, unless an
  // interrupted create of ours may have made it.
  fake.on("machines/list", 200,
          json::array({{{"id", 5}, {"name", "app"}, {"status", "RUNNING"}, {"imageId", 3}}}));
  fake.on("machines/get", 200, machine_json(4096, 8, 100));
  CHECK(error_of([&] {
          provider->adapter(Kind::machine)->create(test::machine_target("17", "app"),
                                                   notes.context());
        }) == refusal);
  auto interrupted = test::machine_target("17", "app");
  interrupted.adopt = true;
  CHECK(provider->adapter(Kind::machine)->create(interrupted, notes.context()).remote_id == "5");
}

namespace {

// Machine 5 on a fake cloudapi that resizes as the G8 does
// (cloudapi_machines.resize, cloudapi_disks.resize): no decrease unless
// HALTED (400), the size stored at once, 202 false when the live change
// fails (`live` false).
struct FakeMachine {
  std::mutex mutex;
  std::string status = "RUNNING";
  int64_t memory = 2048;
  int64_t vcpus = 2;
  int64_t disk = 20;
  bool live = true;
  bool stores = true; // false: a broken server that forgets the new size
  std::string refusal; // when set, machines/resize answers 400 with it

  explicit FakeMachine(FakeCloudapi& fake) {
    fake.on("machines/get", [this](const Call&, int) {
      std::lock_guard lock(mutex);
      return Answer{200, machine_json(memory, vcpus, disk, status).dump()};
    });
    fake.on("machines/update", 200, true);
    fake.on("machines/stop", [this](const Call&, int) { return set_status("HALTED"); });
    fake.on("machines/start", [this](const Call&, int) { return set_status("RUNNING"); });
    fake.on("machines/resize", [this](const Call& call, int) { return resize(call.body); });
    fake.on("disks/resize", [this](const Call& call, int) { return grow(call.body); });
  }

  Answer set_status(const char* to) {
    std::lock_guard lock(mutex);
    status = to;
    return Answer{200, "true"};
  }

  Answer resize(const json& body) {
    std::lock_guard lock(mutex);
    int64_t m = body.at("memory");
    int64_t v = body.at("vcpus");
    if (!refusal.empty()) {
      return Answer{400, json(refusal).dump()};
    }
    if (m < memory && status != "HALTED") {
      return Answer{400, "\"Can not decrease memory on a running machine\""};
    }
    if (v < vcpus && status != "HALTED") {
      return Answer{400, "\"Can not decrease vcpus on a running machine\""};
    }
    if (stores) {
      memory = m;
      vcpus = v;
    }
    return status != "HALTED" && !live ? Answer{202, "false"} : Answer{200, "true"};
  }

  Answer grow(const json& body) {
    std::lock_guard lock(mutex);
    int64_t size = body.at("size");
    if (size <= disk) {
      return Answer{400, "\"The specified size is smaller than or equal the original size\""};
    }
    disk = size;
    return status != "HALTED" && !live ? Answer{202, "false"} : Answer{200, "true"};
  }
};

} // namespace

TEST_CASE("providers: openvcloud wire - a machine update renames, stops a running machine to "
          "shrink it, grows its disk while stopped, and starts it again") {
  FakeCloudapi fake;
  FakeMachine machine(fake);
  auto provider = openvcloud_on(fake);
  auto* machines = provider->adapter(Kind::machine);
  test::Notes notes;
  auto target = test::update_of(test::machine_target("17", "app", "5"),
                                {{"name", "app2"},
                                 {"description", "x"},
                                 {"memory", 1024},
                                 {"vcpus", 1},
                                 {"disk_boot_size", 40}},
                                k_machine_observed);
  Remote remote = machines->update(target, notes.context());
  CHECK(remote.remote_id == "5");
  CHECK(remote.observed["memory"] == 1024);
  CHECK(remote.observed["vcpus"] == 1);
  CHECK(remote.observed["disk_boot_size"] == 40);
  CHECK(remote.observed["status"] == "RUNNING");
  CHECK(fake.paths() == std::vector<std::string>{"machines/update", "machines/get", "machines/stop",
                                                 "machines/get", "machines/resize", "disks/resize",
                                                 "machines/start", "machines/get", "machines/get"});
  auto calls = fake.calls();
  CHECK(calls[0].body == json{{"machineId", 5}, {"name", "app2"}, {"description", "x"}});
  CHECK(calls[2].body == json{{"machineId", 5}});
  CHECK(calls[4].body == json{{"machineId", 5}, {"memory", 1024}, {"vcpus", 1}});
  CHECK(calls[5].body == json{{"diskId", 80}, {"size", 40}});
  CHECK(calls[6].body == json{{"machineId", 5}});
  CHECK(notes.list() ==
        std::vector<std::string>{"stopping to resize", "starting after the resize"});
}

TEST_CASE("providers: openvcloud wire - a machine stopped to shrink is started again when the "
          "resize is refused") {
  FakeCloudapi fake;
  FakeMachine machine(fake);
  machine.refusal = "Not enough resources";
  auto provider = openvcloud_on(fake);
  test::Notes notes;
  auto target = test::update_of(test::machine_target("17", "app", "5"),
                                {{"memory", 1024}, {"vcpus", 1}}, k_machine_observed);
  CHECK(error_of([&] { provider->adapter(Kind::machine)->update(target, notes.context()); }) ==
        "machines/resize: 400 Bad Request: Not enough resources");
  CHECK(fake.paths() == std::vector<std::string>{"machines/get", "machines/stop", "machines/get",
                                                 "machines/resize", "machines/start"});
  CHECK(machine.status == "RUNNING");
  CHECK(notes.list() == std::vector<std::string>{"stopping to resize",
                                                 "starting again after the failed resize"});
}

TEST_CASE("providers: openvcloud wire - a 202 false from machines/resize or disks/resize is "
          "applied by one stop and start, then observed") {
  FakeCloudapi fake;
  FakeMachine machine(fake);
  machine.live = false;
  auto provider = openvcloud_on(fake);
  auto* machines = provider->adapter(Kind::machine);
  test::Notes notes;
  auto target =
      test::update_of(test::machine_target("17", "app", "5"),
                      {{"memory", 4096}, {"vcpus", 4}, {"disk_boot_size", 40}}, k_machine_observed);
  Remote remote = machines->update(target, notes.context());
  CHECK(remote.observed["memory"] == 4096);
  CHECK(remote.observed["disk_boot_size"] == 40);
  CHECK(remote.observed["status"] == "RUNNING");
  CHECK(fake.paths() == std::vector<std::string>{"machines/get", "machines/resize", "disks/resize",
                                                 "machines/stop", "machines/get", "machines/start",
                                                 "machines/get", "machines/get"});
  CHECK(notes.list() ==
        std::vector<std::string>{"stopping to apply the resize", "starting after the resize"});

  // The disk alone: the same.
  fake.clear();
  test::Notes disk_notes;
  auto disk_only =
      test::update_of(test::machine_target("17", "app", "5"),
                      {{"memory", 4096}, {"vcpus", 4}, {"disk_boot_size", 60}}, remote.observed);
  disk_only.prior_spec["memory"] = 4096;
  disk_only.prior_spec["vcpus"] = 4;
  machines->update(disk_only, disk_notes.context());
  CHECK(fake.paths() == std::vector<std::string>{"machines/get", "disks/resize", "machines/stop",
                                                 "machines/get", "machines/start", "machines/get",
                                                 "machines/get"});
  CHECK(disk_notes.list() ==
        std::vector<std::string>{"stopping to apply the resize", "starting after the resize"});
}

TEST_CASE("providers: openvcloud wire - a machine started since stove read it is stopped when the "
          "G8 refuses the decrease, and a size not taken is an error") {
  FakeCloudapi fake;
  FakeMachine machine(fake);
  machine.memory = 4096; // what the G8 has; stove reads a stale 512 first
  fake.on("machines/get", [&](const Call&, int n) {
    std::lock_guard lock(machine.mutex);
    return Answer{200, machine_json(n == 1 ? 512 : machine.memory, machine.vcpus, machine.disk,
                                    machine.status)
                           .dump()};
  });
  auto provider = openvcloud_on(fake);
  auto* machines = provider->adapter(Kind::machine);
  test::Notes notes;
  auto target = test::update_of(test::machine_target("17", "app", "5"),
                                {{"memory", 1024}, {"vcpus", 2}}, k_machine_observed);
  Remote remote = machines->update(target, notes.context());
  CHECK(remote.observed["memory"] == 1024);
  CHECK(fake.paths() == std::vector<std::string>{"machines/get", "machines/resize", "machines/stop",
                                                 "machines/get", "machines/resize",
                                                 "machines/start", "machines/get", "machines/get"});

  // The size not taken after the restart is an error, not a silent success.
  FakeCloudapi broken;
  FakeMachine forgetful(broken);
  forgetful.stores = false;
  auto broken_provider = openvcloud_on(broken);
  auto resize_only = test::update_of(test::machine_target("17", "app", "5"),
                                     {{"memory", 1024}, {"vcpus", 1}}, k_machine_observed);
  CHECK(
      error_of(
          [&] { broken_provider->adapter(Kind::machine)->update(resize_only, notes.context()); }) ==
      R"(cloud_space["web"].machine["app"]: machines/resize: the machine has 2048 MB and 2 vcpus after the resize, not 1024 MB and 1 vcpus)");
}

TEST_CASE("providers: openvcloud wire - description and label changes kept by stove alone make "
          "no call") {
  FakeCloudapi fake;
  auto provider = openvcloud_on(fake);
  test::Notes notes;
  json space_observed = {{"name", "web"}, {"status", "DEPLOYED"}, {"location", "nl-ams-1"}};
  auto space =
      test::update_of(test::space_target("web", 2, "17"),
                      {{"description", "new"}, {"labels", {{"team", "ops"}}}}, space_observed);
  Remote remote = provider->adapter(Kind::cloud_space)->update(space, notes.context());
  CHECK(remote.remote_id == "17");
  CHECK(remote.observed == space_observed);

  auto machine = test::update_of(test::machine_target("17", "app", "5"),
                                 {{"labels", {{"team", "ops"}}}}, k_machine_observed);
  remote = provider->adapter(Kind::machine)->update(machine, notes.context());
  CHECK(remote.observed == k_machine_observed);
  CHECK(fake.calls().empty());
  CHECK(provider->stats().requests == 0);

  // A new name is sent, alone.
  fake.on("cloudspaces/update", 200, true);
  fake.on("cloudspaces/get", 200, space_json("DEPLOYED"));
  fake.on("locations/list", 200, k_locations);
  auto renamed = test::update_of(test::space_target("web", 2, "17"),
                                 {{"name", "www"}, {"description", "new"}}, space_observed);
  remote = provider->adapter(Kind::cloud_space)->update(renamed, notes.context());
  CHECK(
      remote.observed ==
      json{{"name", "web"}, {"status", "DEPLOYED"}, {"location", "nl-ams-1"}, {"location_id", 2}});
  // The location's id, for the observed location_id: locations/list, once.
  CHECK(fake.paths() ==
        std::vector<std::string>{"cloudspaces/update", "cloudspaces/get", "locations/list"});
  CHECK(fake.calls()[0].body == json{{"cloudspaceId", 17}, {"name", "www"}});
}

TEST_CASE("providers: openvcloud wire - deleting a cloud space still DEPLOYING waits and tries "
          "again, and one already gone is fine") {
  FakeCloudapi fake;
  fake.on("cloudspaces/delete", [](const Call&, int n) {
    return n == 1 ? Answer{400, "\"Can not delete a CloudSpace that is being deployed.\""}
                  : Answer{200, "true"};
  });
  fake.on("cloudspaces/get", [](const Call&, int n) {
    return n == 1 ? Answer{200, space_json("DEPLOYING").dump()}
                  : Answer{404, "\"Could not find an accessible resource.\""};
  });
  auto provider = openvcloud_on(fake);
  test::Notes notes;
  provider->adapter(Kind::cloud_space)
      ->destroy(test::space_target("web", 2, "17"), notes.context());
  CHECK(fake.paths() == std::vector<std::string>{"cloudspaces/delete", "cloudspaces/get",
                                                 "cloudspaces/delete", "cloudspaces/get"});
  CHECK(fake.calls()[0].body == json{{"cloudspaceId", 17}, {"permanently", true}});
  CHECK(notes.list() == std::vector<std::string>{"waiting for DEPLOYED before deleting"});

  fake.clear();
  fake.on("cloudspaces/delete", 404, "Could not find 17 of type cloudspace");
  provider->adapter(Kind::cloud_space)
      ->destroy(test::space_target("web", 2, "17"), notes.context());
  CHECK(fake.paths() == std::vector<std::string>{"cloudspaces/delete"});

  // Any other refusal is an error.
  fake.on("cloudspaces/delete", 403, json{{"error", "not allowed"}});
  CHECK(error_of([&] {
          provider->adapter(Kind::cloud_space)
              ->destroy(test::space_target("web", 2, "17"), notes.context());
        }) ==
        "cloudspaces/delete: 403 Forbidden: not allowed (check the token in STOVE_OVC_TOKEN)");
}

TEST_CASE("providers: openvcloud wire - a 409 on a cloud space delete names the machines it "
          "holds, which stove does not manage") {
  FakeCloudapi fake;
  fake.on("cloudspaces/delete", 409,
          "In order to delete a CloudSpace it can not contain Machines.");
  fake.on("machines/list", 200,
          json::array({{{"id", 4}, {"name", "stray"}, {"status", "RUNNING"}},
                       {{"id", 9}, {"name", "left \"over\""}, {"status", "HALTED"}}}));
  auto provider = openvcloud_on(fake);
  test::Notes notes;
  auto destroy = [&] {
    return error_of([&] {
      provider->adapter(Kind::cloud_space)
          ->destroy(test::space_target("web", 2, "17"), notes.context());
    });
  };
  CHECK(destroy() ==
        R"(cloud_space["web"]: cloudspaces/delete: 409 Conflict: In order to delete a CloudSpace )"
        R"(it can not contain Machines.; it holds machines stove does not manage: "stray" (id 4), )"
        R"("left \"over\"" (id 9); delete them first)");
  CHECK(fake.paths() == std::vector<std::string>{"cloudspaces/delete", "machines/list"});
  CHECK(fake.calls()[0].body == json{{"cloudspaceId", 17}, {"permanently", true}});
  CHECK(fake.calls()[1].body == json{{"cloudspaceId", 17}});

  fake.on("machines/list", 200, json::array());
  CHECK(destroy() ==
        R"(cloud_space["web"]: cloudspaces/delete: 409 Conflict: In order to delete a CloudSpace )"
        R"(it can not contain Machines.; machines/list shows none (it leaves out machines in )"
        R"(ERROR, which still count))");
}

TEST_CASE("providers: openvcloud wire - error bodies surface the API's message, whatever their "
          "shape, and never the token") {
  FakeCloudapi fake;
  auto provider = openvcloud_on(fake);
  auto* machines = provider->adapter(Kind::machine);
  test::Notes notes;
  auto read_error = [&](int status, std::string body, std::string type) {
    fake.on("machines/get", [=](const Call&, int) { return Answer{status, body, type}; });
    return error_of(
        [&] { machines->read(test::machine_target("17", "app", "5"), notes.context()); });
  };
  CHECK(read_error(400, "\"parameter machineId must be an integer\"", "application/json") ==
        "machines/get: 400 Bad Request: parameter machineId must be an integer");
  CHECK(read_error(400, R"({"error": "bad machine"})", "application/json") ==
        "machines/get: 400 Bad Request: bad machine");
  CHECK(read_error(400, "  plain\n words  \n", "text/plain") ==
        "machines/get: 400 Bad Request: plain words");
  CHECK(read_error(418, "", "text/plain") == "machines/get: 418");
  std::string refused = read_error(401, json("invalid token " + k_jwt).dump(), "application/json");
  CHECK(refused == "machines/get: 401 Unauthorized: invalid token <redacted> (check the token "
                   "in STOVE_OVC_TOKEN)");
  CHECK(refused.find(k_jwt) == std::string::npos);

  // 404 is no error for a read: the machine is gone.
  fake.on("machines/get", 404, "machine 5 not found");
  CHECK_FALSE(machines->read(test::machine_target("17", "app", "5"), notes.context()));
}

namespace {

std::string form_decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] == '%' && i + 2 < text.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::map<std::string, std::string> form_of(const std::string& body) {
  std::map<std::string, std::string> fields;
  size_t at = 0;
  while (at <= body.size()) {
    size_t end = body.find('&', at);
    std::string pair = body.substr(at, end == std::string::npos ? std::string::npos : end - at);
    size_t eq = pair.find('=');
    if (eq != std::string::npos) {
      fields[form_decode(pair.substr(0, eq))] = form_decode(pair.substr(eq + 1));
    }
    if (end == std::string::npos) {
      break;
    }
    at = end + 1;
  }
  return fields;
}

// POST /v1/oauth/access_token as itsyou.online answers it
// (identityserver oauthservice/access_token.go): 400 "Bad Request" as
// text without the client credentials grant or for credentials other than
// "stove client" / "s3cr&t="; without
// response_type=id_token an opaque OAuth2 token in JSON; with it the JWT
// itself as application/jwt, or {"access_token": JWT} when Accept holds
// application/json.
Answer itsyouonline(const Call& call, const std::string& jwt) {
  auto form = form_of(call.raw);
  if (form["grant_type"] != "client_credentials" || form["client_id"] != "stove client" ||
      form["client_secret"] != "s3cr&t=") {
    return Answer{400, "Bad Request\n", "text/plain; charset=utf-8"};
  }
  if (form["response_type"] != "id_token") {
    return Answer{200,
                  json{{"access_token", "opaque-oauth2-token"}, {"token_type", "bearer"}}.dump(),
                  "application/json"};
  }
  if (call.accept.find("application/json") != std::string::npos) {
    return Answer{200, json{{"access_token", jwt}}.dump() + "\n", "application/json"};
  }
  return Answer{200, jwt, "application/jwt"};
}

const char* k_token_path = "/v1/oauth/access_token";

json credentials_settings(const FakeCloudapi& fake) {
  return {{"account_id", 42},
          {"token_env", "STOVE_OVC_TOKEN"},
          {"token_url", fmt::format("{}{}", fake.url(), k_token_path)},
          {"client_id_env", "OVC_ID"},
          {"client_secret_env", "OVC_SECRET"}};
}

std::unique_ptr<Provider> exchanging_provider(const FakeCloudapi& fake,
                                              const std::string& secret = "s3cr&t=") {
  auto environment = test::fake_environment({{"OVC_ID", "stove client"}, {"OVC_SECRET", secret}});
  return openvcloud::factory(test::openvcloud_config(fake.url(), credentials_settings(fake)),
                             test::provider_options(environment));
}

// The n-th token itsyou.online gives user john.
std::string johns_jwt(int n) {
  return test::jwt({{"username", "john"}, {"iss", "itsyouonline"}, {"n", n}});
}

} // namespace

TEST_CASE("providers: openvcloud wire - client credentials are exchanged at itsyou.online for "
          "its plain-text JWT, once, and again when it is refused") {
  std::atomic<int> exchanges{0}; // outlives the fake's handlers
  FakeCloudapi fake;
  fake.on(k_token_path,
          [&](const Call& call, int) { return itsyouonline(call, johns_jwt(++exchanges)); });
  fake.on("cloudspaces/get", 200, space_json("DEPLOYED"));
  fake.on("locations/list", 200, k_locations);
  auto provider = exchanging_provider(fake);
  auto* spaces = provider->adapter(Kind::cloud_space);
  test::Notes notes;
  CHECK(fake.calls().empty()); // fetched lazily
  REQUIRE(spaces->read(test::space_target("web", 2, "17"), notes.context()));
  REQUIRE(spaces->read(test::space_target("web", 2, "17"), notes.context()));
  // locations/list, once, for the observed location_id.
  CHECK(fake.paths() == std::vector<std::string>{k_token_path, "cloudspaces/get", "locations/list",
                                                 "cloudspaces/get"});
  auto calls = fake.calls();
  CHECK(calls[0].raw == "grant_type=client_credentials&client_id=stove%20client&client_secret="
                        "s3cr%26t%3D&response_type=id_token");
  CHECK(calls[0].content_type == "application/x-www-form-urlencoded");
  CHECK(calls[0].accept.find("application/json") == std::string::npos);
  CHECK(calls[1].authorization == "bearer " + johns_jwt(1));
  CHECK(calls[2].authorization == "bearer " + johns_jwt(1));
  CHECK(calls[3].authorization == "bearer " + johns_jwt(1));

  // An expired token: one new exchange, and the call is sent again.
  fake.clear();
  fake.on("cloudspaces/get", [](const Call& call, int) {
    return call.authorization == "bearer " + johns_jwt(1)
               ? Answer{401, "\"token expired\""}
               : Answer{200, space_json("DEPLOYED").dump()};
  });
  REQUIRE(spaces->read(test::space_target("web", 2, "17"), notes.context()));
  CHECK(fake.paths() ==
        std::vector<std::string>{"cloudspaces/get", k_token_path, "cloudspaces/get"});
  CHECK(fake.calls()[2].authorization == "bearer " + johns_jwt(2));
}

TEST_CASE("providers: openvcloud wire - the exchanged JWT names the access user, in JSON form "
          "too, and never shows in logs or errors") {
  FakeCloudapi fake;
  const std::string token = johns_jwt(1);
  // A server that answers JSON whatever the Accept: still taken.
  fake.on(k_token_path, 200, json{{"access_token", token}});
  fake.on("locations/list", 200, k_locations);
  fake.on("cloudspaces/create", 200, 17);
  fake.on("cloudspaces/get", [&](const Call&, int n) {
    return n == 1 ? Answer{500, json("backend down for " + token).dump()}
                  : Answer{200, space_json("DEPLOYED").dump()};
  });
  std::vector<std::string> lines;
  std::mutex lines_mutex;
  http::set_log_level(http::LogLevel::debug);
  http::set_log_sink([&](std::string_view line) {
    std::lock_guard lock(lines_mutex);
    lines.emplace_back(line);
  });
  auto provider = exchanging_provider(fake);
  test::Notes notes;
  provider->adapter(Kind::cloud_space)->create(test::space_target("web", 2), notes.context());
  http::set_log_sink({});
  http::set_log_level(http::LogLevel::warn);

  CHECK(fake.calls().at(2).path == "cloudspaces/create");
  CHECK(fake.calls().at(2).body.at("access") == "john@itsyouonline");
  CHECK_FALSE(lines.empty());
  for (const auto& line : lines) {
    CHECK(line.find(token) == std::string::npos);
    CHECK(line.find("s3cr&t=") == std::string::npos);
  }
}

TEST_CASE("providers: openvcloud wire - a token exchange refused, or answered with neither a JWT "
          "nor an access_token, is a clear error that never holds the secret") {
  FakeCloudapi fake;
  fake.on(k_token_path, [](const Call& call, int) { return itsyouonline(call, johns_jwt(1)); });
  // itsyou.online's answer to wrong credentials, once stove's form is
  // checked: 400 "Bad Request" as text.
  auto provider = exchanging_provider(fake, "wrong");
  test::Notes notes;
  auto read = [&] {
    return error_of([&] {
      provider->adapter(Kind::cloud_space)
          ->read(test::space_target("web", 2, "17"), notes.context());
    });
  };
  CHECK(read() == fmt::format("token exchange at {}{}: 400 Bad Request: Bad Request (check the "
                              "client credentials in OVC_ID and OVC_SECRET)",
                              fake.url(), k_token_path));

  provider = exchanging_provider(fake);
  fake.on(k_token_path, 401,
          json{{"error", "invalid_client"}, {"error_description", "wrong secret s3cr&t="}});
  CHECK(read() == fmt::format("token exchange at {}{}: 401 Unauthorized: invalid_client: wrong "
                              "secret <redacted> (check the client credentials in OVC_ID and "
                              "OVC_SECRET)",
                              fake.url(), k_token_path));
  fake.on(k_token_path, [](const Call&, int) {
    return Answer{200, "<html><body>Sign in</body></html>", "text/html"};
  });
  CHECK(read() == fmt::format("token exchange at {}{}: the answer is neither a JWT "
                              "(application/jwt) nor JSON holding an access_token (Content-Type "
                              "text/html, 33 bytes)",
                              fake.url(), k_token_path));
  fake.on(k_token_path, 200, json{{"token_type", "bearer"}});
  CHECK(read().find("the answer is neither a JWT") != std::string::npos);
  CHECK(fake.count("cloudspaces/get") == 0);
}

TEST_CASE("providers: openvcloud wire - access: the setting, else the JWT's user, else refused "
          "before any call") {
  FakeCloudapi fake;
  // A token that is no JWT says no user: refused when the provider is made.
  auto opaque = [&](json settings) {
    return openvcloud::factory(
        test::openvcloud_config(fake.url(), std::move(settings)),
        test::provider_options(test::fake_environment({{"STOVE_OVC_TOKEN", "tok-123"}})));
  };
  try {
    opaque({{"account_id", 42}, {"token_env", "STOVE_OVC_TOKEN"}});
    FAIL("no error");
  } catch (const stove::Error& e) {
    CHECK(e.kind() == stove::ErrorKind::input);
    CHECK(std::string(e.what()) ==
          R"(provider "ovc": "access" is not set and the token in STOVE_OVC_TOKEN is not a JWT )"
          R"(with username and iss claims to take it from; set "access" to the G8 user that )"
          R"(cloud spaces are created for (such as john@itsyouonline))");
    CHECK(std::string(e.what()).find("tok-123") == std::string::npos);
  }
  CHECK(opaque({{"account_id", 42}, {"token_env", "STOVE_OVC_TOKEN"}, {"access", "ops"}}) !=
        nullptr);

  // An exchanged JWT without a user (an organization's credentials): the
  // create is refused before it is sent, and leaves nothing.
  fake.on(k_token_path, [](const Call& call, int) {
    return itsyouonline(call, test::jwt({{"globalid", "gig"}, {"iss", "itsyouonline"}}));
  });
  fake.on("locations/list", 200, k_locations);
  auto provider = exchanging_provider(fake);
  test::Notes notes;
  try {
    provider->adapter(Kind::cloud_space)->create(test::space_target("web", 2), notes.context());
    FAIL("no error");
  } catch (const NothingCreated& e) {
    CHECK(std::string(e.what()) ==
          fmt::format(R"(provider "ovc": the token from {}{} is not a JWT with username and iss )"
                      R"(claims, so stove cannot tell which user cloudspaces/create should give )"
                      R"(access to; set "access" (the G8 user, such as john@itsyouonline))",
                      fake.url(), k_token_path));
  }
  CHECK(fake.count("cloudspaces/create") == 0);
}

TEST_CASE("providers: openvcloud wire - threads sharing a provider exchange the token and list "
          "the locations once") {
  FakeCloudapi fake;
  fake.on(k_token_path, [](const Call& call, int n) {
    std::this_thread::sleep_for(50ms); // long enough for every thread to want it
    return itsyouonline(call, johns_jwt(n));
  });
  fake.on("locations/list", [](const Call&, int) {
    std::this_thread::sleep_for(50ms);
    return Answer{200, k_locations.dump()};
  });
  fake.on("cloudspaces/create", [](const Call& call, int) {
    return Answer{200, call.body["name"] == "s0" ? "100" : "101"};
  });
  fake.on("cloudspaces/get", 200, space_json("DEPLOYED"));
  fake.on("locations/list", 200, k_locations);
  auto provider = exchanging_provider(fake);
  auto* spaces = provider->adapter(Kind::cloud_space);
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  std::mutex errors_mutex;
  std::vector<std::string> errors;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      test::Notes notes;
      try {
        spaces->create(test::space_target(fmt::format("s{}", i % 2), 2), notes.context());
        ++created;
      } catch (const std::exception& e) {
        std::lock_guard lock(errors_mutex);
        errors.emplace_back(e.what());
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  CHECK(errors == std::vector<std::string>{});
  CHECK(created == 6);
  CHECK(fake.count(k_token_path) == 1);
  CHECK(fake.count("locations/list") == 1);
  CHECK(fake.count("cloudspaces/create") == 6);
  for (const auto& call : fake.calls()) {
    if (call.path != k_token_path) {
      CHECK(call.authorization == "bearer " + johns_jwt(1));
    }
  }
}

TEST_CASE("providers: openvcloud wire - stop sends force and polls through a transitional "
          "status until HALTED") {
  FakeCloudapi fake;
  fake.on("machines/stop", 200, true);
  fake.on("machines/get", [](const Call&, int number) {
    // RUNNING before the stop, then HALTING once, then HALTED.
    const char* status = number == 1 ? "RUNNING" : number == 2 ? "HALTING" : "HALTED";
    return Answer{200, machine_json(2048, 2, 20, status).dump()};
  });
  auto provider = openvcloud_on(fake);
  test::Notes notes;
  ActionResult result = provider->adapter(Kind::machine)
                            ->execute(test::machine_target("17", "app", "5"), "stop",
                                      {{"force", true}}, notes.context());
  CHECK(result.ok);
  CHECK(result.outcome == "status=HALTED");
  CHECK(result.observed["status"] == "HALTED");
  CHECK(fake.paths() ==
        std::vector<std::string>{"machines/get", "machines/stop", "machines/get", "machines/get"});
  CHECK(fake.calls()[1].body == json{{"machineId", 5}, {"force", true}});
  CHECK(notes.list() == std::vector<std::string>{"waiting for HALTED"});
}

TEST_CASE("providers: openvcloud wire - a reboot is sent once, and a machine in ERROR fails "
          "the wait") {
  FakeCloudapi fake;
  fake.on("machines/get", 200, machine_json());
  fake.on("machines/reboot", 500, "hypervisor unavailable");
  auto provider = openvcloud_on(fake);
  auto* machines = provider->adapter(Kind::machine);
  test::Notes notes;
  const Target app = test::machine_target("17", "app", "5");
  CHECK(error_of([&] { machines->execute(app, "reboot", json::object(), notes.context()); }) ==
        "machines/reboot: 500 Internal Server Error: hypervisor unavailable");
  CHECK(fake.count("machines/reboot") == 1);
  CHECK(fake.calls()[1].body == json{{"machineId", 5}});

  fake.clear();
  fake.on("machines/start", 200, true);
  fake.on("machines/get", [](const Call&, int number) {
    return Answer{200, machine_json(2048, 2, 20, number == 1 ? "HALTED" : "ERROR").dump()};
  });
  CHECK(error_of([&] { machines->execute(app, "start", json::object(), notes.context()); }) ==
        R"(cloud_space["web"].machine["app"]: machine 5 is ERROR instead of RUNNING)");
}

TEST_CASE("providers: openvcloud wire - a 409 on the first attempt made nothing, one after a lost "
          "attempt may stand for ours") {
  const char* refusal = R"(machines/create: 409 Conflict: taken; stove does not manage it )"
                        R"((rename the resource, or delete the existing one))";
  auto kind_of_error = [](const std::function<void()>& run) -> std::string {
    try {
      run();
    } catch (const NothingCreated& e) {
      return fmt::format("NothingCreated: {}", e.what());
    } catch (const ProviderError& e) {
      return fmt::format("ProviderError: {}", e.what());
    }
    return "(no error)";
  };
  {
    FakeCloudapi fake;
    fake.on("machines/create", 409, "taken");
    fake.on("machines/list", 200, json::array());
    auto provider = openvcloud_on(fake);
    test::Notes notes;
    CHECK(kind_of_error([&] {
            provider->adapter(Kind::machine)->create(test::machine_target("17", "app"),
                                                     notes.context());
          }) == fmt::format("NothingCreated: {}", refusal));
  }
  {
    // The first reply is lost (500); the second says the name is taken, and
    // the listing does not show the first attempt's machine yet.
    FakeCloudapi fake;
    fake.on("machines/create", [](const FakeCloudapi::Call&, int number) {
      return number == 1 ? FakeCloudapi::Answer{500, "\"internal error\""}
                         : FakeCloudapi::Answer{409, "\"taken\""};
    });
    fake.on("machines/list", 200, json::array());
    auto provider = openvcloud_on(fake);
    test::Notes notes;
    CHECK(kind_of_error([&] {
            provider->adapter(Kind::machine)->create(test::machine_target("17", "app"),
                                                     notes.context());
          }) == fmt::format("ProviderError: {}", refusal));
    CHECK(fake.paths() == std::vector<std::string>{"machines/create", "machines/list",
                                                   "machines/create", "machines/list"});
  }
}

namespace {

// A machines/list entry, as the cloudapi summarises a machine: no disks or
// addresses, `storage` the total disk size.
json machine_summary(int64_t id, const std::string& name, int64_t space, int64_t storage) {
  return {{"id", id},     {"name", name},          {"status", "RUNNING"},
          {"imageId", 3}, {"cloudspaceId", space}, {"memory", 2048},
          {"vcpus", 2},   {"storage", storage}};
}

// The state's record of a machine: the target complete() gets.
Target recorded_machine(const Remote& listed, int64_t disk_boot_size) {
  Target t = test::machine_target(listed.observed.at("cloudspace_id").get<std::string>(),
                                  listed.observed.at("name").get<std::string>(), listed.remote_id);
  t.prior_observed = {{"name", t.spec["name"]},
                      {"status", "RUNNING"},
                      {"disk_boot_size", disk_boot_size},
                      {"boot_disk_id", "80"},
                      {"ip_address", "10.17.0.5"}};
  return t;
}

} // namespace

TEST_CASE("providers: openvcloud wire - listed cloud spaces carry location_id from one "
          "locations/list, none for an unknown location") {
  FakeCloudapi fake;
  fake.on("locations/list", 200, k_locations);
  json unknown = space_json("DEPLOYED");
  unknown["id"] = 18;
  unknown["name"] = "far";
  unknown["location"] = "us-nyc-9";
  json ghent = space_json("DEPLOYED");
  ghent["id"] = 19;
  ghent["name"] = "db";
  ghent["location"] = "be-g8-1";
  fake.on("cloudspaces/list", 200, json::array({space_json("DEPLOYED"), unknown, ghent}));
  fake.on("cloudspaces/get", 200, space_json("DEPLOYED"));
  auto provider = openvcloud_on(fake);
  auto* spaces = provider->adapter(Kind::cloud_space);
  test::Notes notes;

  spaces->begin_refresh();
  std::vector<Remote> listed;
  for (int i = 0; i < 3; ++i) {
    listed = spaces->list({}, notes.context());
  }
  spaces->end_refresh();
  REQUIRE(listed.size() == 3);
  CHECK(listed[0].remote_id == "17");
  CHECK(
      listed[0].observed ==
      json{{"name", "web"}, {"status", "DEPLOYED"}, {"location", "nl-ams-1"}, {"location_id", 2}});
  CHECK(listed[1].remote_id == "18");
  CHECK(listed[1].observed ==
        json{{"name", "far"}, {"status", "DEPLOYED"}, {"location", "us-nyc-9"}});
  CHECK(listed[2].remote_id == "19");
  CHECK(listed[2].observed ==
        json{{"name", "db"}, {"status", "DEPLOYED"}, {"location", "be-g8-1"}, {"location_id", 1}});
  // complete() adds nothing: the listing shows all a cloud space is.
  auto completed =
      spaces->complete(test::space_target("web", 2, "17"), listed[0], notes.context());
  REQUIRE(completed);
  CHECK(completed->observed == listed[0].observed);

  // read() observes the same, from the same cached locations.
  auto read = spaces->read(test::space_target("web", 2, "17"), notes.context());
  REQUIRE(read);
  CHECK(read->observed == listed[0].observed);
  CHECK(fake.count("locations/list") == 1);
  CHECK(fake.count("cloudspaces/list") == 3);
  CHECK(fake.count("cloudspaces/get") == 1);
  CHECK(provider->stats().requests == 5);
}

TEST_CASE("providers: openvcloud wire - refreshing machines whose storage matches the recorded "
          "boot disk lists each cloud space once and gets none") {
  FakeCloudapi fake;
  fake.on("machines/list", [](const Call& call, int) {
    const int64_t space = call.body.at("cloudspaceId").get<int64_t>();
    return Answer{200, json::array({machine_summary(space * 10 + 1, "app", space, 20),
                                    machine_summary(space * 10 + 2, "db", space, 40)})
                           .dump()};
  });
  auto provider = openvcloud_on(fake);
  auto* machines = provider->adapter(Kind::machine);
  test::Notes notes;

  machines->begin_refresh();
  for (int64_t space : {17, 18, 19}) {
    Parent parent;
    parent.kind = Kind::cloud_space;
    parent.address = fmt::format("cloud_space[\"s{}\"]", space);
    parent.remote_id = std::to_string(space);
    auto listed = machines->list({parent}, notes.context());
    REQUIRE(listed.size() == 2);
    CHECK(listed[0].remote_id == std::to_string(space * 10 + 1));
    for (const auto& remote : listed) {
      const int64_t size = remote.observed.at("name") == "app" ? 20 : 40;
      Remote now =
          machines->complete(recorded_machine(remote, size), remote, notes.context()).value();
      CHECK(now.remote_id == remote.remote_id);
      CHECK(now.observed == json{{"name", remote.observed.at("name")},
                                 {"status", "RUNNING"},
                                 {"memory", 2048},
                                 {"vcpus", 2},
                                 {"image_id", 3},
                                 {"cloudspace_id", std::to_string(space)},
                                 {"disk_boot_size", size}});
    }
  }
  machines->end_refresh();
  CHECK(fake.count("machines/list") == 3);
  CHECK(fake.count("machines/get") == 0);
  CHECK(provider->stats().requests == 3);
  auto calls = fake.calls();
  REQUIRE(calls.size() == 3);
  CHECK(calls[0].body == json{{"cloudspaceId", 17}});
  CHECK(calls[2].body == json{{"cloudspaceId", 19}});
}

TEST_CASE("providers: openvcloud wire - a machine whose listed storage differs from the recorded "
          "boot disk, or is missing, is read with one machines/get") {
  FakeCloudapi fake;
  json without_storage = machine_summary(6, "db", 17, 0);
  without_storage.erase("storage");
  fake.on("machines/list", 200,
          json::array({machine_summary(5, "app", 17, 30), without_storage,
                       machine_summary(7, "web", 17, 20)}));
  fake.on("machines/get", [](const Call& call, int) {
    json machine = machine_json(2048, 2, 30);
    machine["id"] = call.body.at("machineId");
    return Answer{200, machine.dump()};
  });
  auto provider = openvcloud_on(fake);
  auto* machines = provider->adapter(Kind::machine);
  test::Notes notes;
  Parent parent;
  parent.kind = Kind::cloud_space;
  parent.remote_id = "17";

  machines->begin_refresh();
  auto listed = machines->list({parent}, notes.context());
  REQUIRE(listed.size() == 3);
  // The boot disk grew from 20 to 30 GB behind stove's back.
  Remote grown =
      machines->complete(recorded_machine(listed[0], 20), listed[0], notes.context()).value();
  Remote unknown =
      machines->complete(recorded_machine(listed[1], 20), listed[1], notes.context()).value();
  Remote same =
      machines->complete(recorded_machine(listed[2], 20), listed[2], notes.context()).value();
  machines->end_refresh();

  CHECK(grown.remote_id == "5");
  json expected = k_machine_observed;
  expected["disk_boot_size"] = 30;
  CHECK(grown.observed == expected);
  CHECK(unknown.remote_id == "6");
  CHECK(unknown.observed == expected);
  CHECK(same.observed.at("disk_boot_size") == 20);
  CHECK_FALSE(same.observed.contains("storage"));
  CHECK(fake.paths() == std::vector<std::string>{"machines/list", "machines/get", "machines/get"});
  auto calls = fake.calls();
  CHECK(calls[1].body == json{{"machineId", 5}});
  CHECK(calls[2].body == json{{"machineId", 6}});
}

TEST_CASE("providers: openvcloud wire - a machine deleted between the listing and its "
          "machines/get is gone") {
  FakeCloudapi fake;
  fake.on("machines/list", 200, json::array({machine_summary(5, "app", 17, 30)}));
  fake.on("machines/get", 404, "machine 5 not found");
  auto provider = openvcloud_on(fake);
  auto* machines = provider->adapter(Kind::machine);
  test::Notes notes;
  Parent parent;
  parent.kind = Kind::cloud_space;
  parent.remote_id = "17";
  auto listed = machines->list({parent}, notes.context());
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].observed.at("storage") == 30);
  CHECK_FALSE(machines->complete(recorded_machine(listed[0], 20), listed[0], notes.context()));
  CHECK(fake.paths() == std::vector<std::string>{"machines/list", "machines/get"});
}
