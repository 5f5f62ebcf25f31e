// The OpenVCloud adapter against the sandbox cloud, in process: the real
// server (lib/sandbox) on an ephemeral port, so that statuses, errors and
// timings are the sandbox's, not a script's.

#include "providers/openvcloud.hpp"
#include "providers/provider.hpp"
#include "sandbox/server.hpp"
#include "support/printing.hpp"
#include "support/temp_dir.hpp"
#include "unit/providers/provider_fixtures.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <set>
#include <thread>

using namespace stove;
using namespace stove::providers;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// The sandbox takes any token; this one is a JWT of itsyou.online user
// john, as a real G8's bearer is, so that the adapter finds its `access`.
const std::string k_token = test::user_jwt("john");

// A sandbox on loopback and an `openvcloud` provider for its account 1.
struct Cloud {
  explicit Cloud(double fail_rate = 0.0, const std::string& token = k_token,
                 std::chrono::milliseconds deploy_delay = 150ms)
      : server(options(dir, fail_rate, deploy_delay)) {
    server.start();
    provider = openvcloud::factory(
        test::openvcloud_config(server.url(),
                                {{"account_id", 1}, {"token_env", "STOVE_OVC_TOKEN"}}),
        test::provider_options(test::fake_environment({{"STOVE_OVC_TOKEN", token}})));
    spaces = provider->adapter(Kind::cloud_space);
    machines = provider->adapter(Kind::machine);
  }

  static sandbox::Options options(const test::TempDir& dir, double fail_rate,
                                  std::chrono::milliseconds deploy_delay) {
    sandbox::Options o;
    o.data_dir = (dir / "cloud").string();
    o.port = 0;
    o.token = k_token;
    o.deploy_delay = deploy_delay;
    o.fail_rate = fail_rate;
    o.seed = 20261122;
    o.threads = 4;
    return o;
  }

  test::TempDir dir;
  sandbox::Server server;
  std::unique_ptr<Provider> provider;
  KindAdapter* spaces = nullptr;
  KindAdapter* machines = nullptr;
};

// POST /sandbox/admin/PATH with `attributes`: a change behind the API's
// back (the hypervisor's abilities, unmanaged machines).
json admin(const Cloud& cloud, const std::string& path, const json& attributes) {
  httplib::Client client("127.0.0.1", cloud.server.port());
  auto res = client.Post(fmt::format("/sandbox/admin/{}", path),
                         {{"Authorization", fmt::format("Bearer {}", k_token)}}, attributes.dump(),
                         "application/json");
  REQUIRE(res);
  REQUIRE_MESSAGE(res->status / 100 == 2, res->body);
  return json::parse(res->body);
}

// The sandbox's data file, once it has stopped.
json saved_cloud(Cloud& cloud) {
  cloud.server.stop();
  return json::parse(test::read_file(cloud.dir / "cloud" / "cloud.json"));
}

std::string error_of(const std::function<void()>& run) {
  try {
    run();
  } catch (const ProviderError& e) {
    return e.what();
  }
  return "(no ProviderError)";
}

std::vector<std::string> names_of(const std::vector<Remote>& remotes) {
  std::vector<std::string> names;
  for (const auto& r : remotes) {
    names.push_back(r.observed.at("name").get<std::string>());
  }
  return names;
}

} // namespace

TEST_CASE("providers: openvcloud on the sandbox - a cloud space is created and polled until "
          "DEPLOYED") {
  Cloud cloud;
  test::Notes notes;
  auto started = http::Clock::now();
  Remote space = cloud.spaces->create(test::space_target("web", 2), notes.context());
  CHECK(http::Clock::now() - started >= 150ms);
  CHECK_FALSE(space.remote_id.empty());
  CHECK(space.observed ==
        json{{"name", "web"}, {"status", "DEPLOYED"}, {"location", "be-g8-2"}, {"location_id", 2}});
  CHECK(notes.list() == std::vector<std::string>{"waiting for DEPLOYED"});

  auto read = cloud.spaces->read(test::space_target("web", 2, space.remote_id), notes.context());
  REQUIRE(read);
  CHECK(read->observed == space.observed);
  auto listed = cloud.spaces->list({}, notes.context());
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].remote_id == space.remote_id);
}

TEST_CASE("providers: openvcloud on the sandbox - a machine is created RUNNING, read, renamed, "
          "resized live and through a restart, its disk grown, and deleted") {
  Cloud cloud;
  test::Notes notes;
  Remote space = cloud.spaces->create(test::space_target("web", 1), notes.context());
  auto target = test::machine_target(space.remote_id, "app");

  // Create.
  Remote machine = cloud.machines->create(target, notes.context());
  CHECK_FALSE(machine.remote_id.empty());
  const json& o = machine.observed;
  CHECK(o["name"] == "app");
  CHECK(o["status"] == "RUNNING");
  CHECK(o["memory"] == 2048);
  CHECK(o["vcpus"] == 2);
  CHECK(o["image_id"] == 3);
  CHECK(o["disk_boot_size"] == 20);
  CHECK(o["cloudspace_id"] == space.remote_id);
  CHECK_FALSE(o["boot_disk_id"].get<std::string>().empty());
  CHECK(o["ip_address"].get<std::string>().rfind("10.", 0) == 0);
  CHECK(o.size() == 9);
  target.remote_id = machine.remote_id;

  // Read.
  auto read = cloud.machines->read(target, notes.context());
  REQUIRE(read);
  CHECK(read->remote_id == machine.remote_id);
  CHECK(read->observed == machine.observed);

  // Rename.
  auto renamed = test::update_of(target, {{"name", "app-1"}}, machine.observed);
  Remote after = cloud.machines->update(renamed, notes.context());
  CHECK(after.observed["name"] == "app-1");
  CHECK(names_of(cloud.machines->list(renamed.parents, notes.context())) ==
        std::vector<std::string>{"app-1"});
  target = renamed;

  // Grow memory and vcpus: live (200), no restart.
  auto notes_before = notes.list().size();
  auto grown = test::update_of(target, {{"memory", 4096}, {"vcpus", 4}}, after.observed);
  after = cloud.machines->update(grown, notes.context());
  CHECK(after.observed["memory"] == 4096);
  CHECK(after.observed["vcpus"] == 4);
  CHECK(after.observed["status"] == "RUNNING");
  CHECK(notes.list().size() == notes_before);
  target = grown;

  // Shrink memory: the G8 shrinks only a HALTED machine (400 otherwise), so
  // stove stops it, resizes, starts it, then reads the new size.
  auto shrunk = test::update_of(target, {{"memory", 1024}}, after.observed);
  after = cloud.machines->update(shrunk, notes.context());
  CHECK(after.observed["memory"] == 1024);
  CHECK(after.observed["vcpus"] == 4);
  CHECK(after.observed["status"] == "RUNNING");
  auto all_notes = notes.list();
  CHECK(std::vector<std::string>(all_notes.begin() + static_cast<long>(notes_before),
                                 all_notes.end()) ==
        std::vector<std::string>{"stopping to resize", "starting after the resize"});
  target = shrunk;

  // Grow the boot disk.
  auto bigger = test::update_of(target, {{"disk_boot_size", 50}}, after.observed);
  after = cloud.machines->update(bigger, notes.context());
  CHECK(after.observed["disk_boot_size"] == 50);
  CHECK(after.observed["boot_disk_id"] == machine.observed["boot_disk_id"]);
  target = bigger;

  // Delete: gone, and deleting again is fine.
  cloud.machines->destroy(target, notes.context());
  CHECK_FALSE(cloud.machines->read(target, notes.context()));
  cloud.machines->destroy(target, notes.context());
  CHECK(cloud.machines->list(target.parents, notes.context()).empty());

  auto space_target = test::space_target("web", 1, space.remote_id);
  cloud.spaces->destroy(space_target, notes.context());
  CHECK_FALSE(cloud.spaces->read(space_target, notes.context()));
  CHECK(cloud.spaces->list({}, notes.context()).empty());
}

TEST_CASE("providers: openvcloud on the sandbox - for import, a machine of another cloud space "
          "is outside its parent") {
  Cloud cloud;
  test::Notes notes;
  Remote web = cloud.spaces->create(test::space_target("web", 1), notes.context());
  Remote db = cloud.spaces->create(test::space_target("db", 1), notes.context());
  auto target = test::machine_target(web.remote_id, "app");
  Remote machine = cloud.machines->create(target, notes.context());
  target.remote_id = machine.remote_id;
  Remote read = cloud.machines->read(target, notes.context()).value();
  CHECK_FALSE(cloud.machines->outside_parent(target, read).has_value());
  auto in_db = test::machine_target(db.remote_id, "app");
  CHECK(cloud.machines->outside_parent(in_db, read) ==
        std::optional<std::string>(
            fmt::format("is in cloud space \"{}\", not in {} (id \"{}\")", web.remote_id,
                        in_db.parents.front().address, db.remote_id)));
}

TEST_CASE("providers: openvcloud on the sandbox - a renamed cloud space keeps its id") {
  Cloud cloud;
  test::Notes notes;
  Remote space = cloud.spaces->create(test::space_target("web", 3), notes.context());
  auto renamed = test::update_of(test::space_target("web", 3, space.remote_id), {{"name", "www"}},
                                 space.observed);
  Remote after = cloud.spaces->update(renamed, notes.context());
  CHECK(after.remote_id == space.remote_id);
  CHECK(
      after.observed ==
      json{{"name", "www"}, {"status", "DEPLOYED"}, {"location", "ch-lug-1"}, {"location_id", 3}});
  auto listed = cloud.spaces->list({}, notes.context());
  CHECK(names_of(listed) == std::vector<std::string>{"www"});
  CHECK(listed.at(0).remote_id == space.remote_id);
}

TEST_CASE("providers: openvcloud on the sandbox - a create that outlives its deadline fails, "
          "and deleting the space still DEPLOYING waits for it") {
  Cloud cloud(0.0, k_token, 2000ms); // VIRTUAL for 500 ms, then DEPLOYING
  test::Notes notes;
  auto target = test::space_target("slow", 1);
  std::string message = error_of([&] { cloud.spaces->create(target, notes.context(150ms)); });
  auto found = cloud.spaces->find(target, notes.context());
  REQUIRE(found);
  // VIRTUAL is not yet DEPLOYED, not an error: only the deadline ends the wait.
  CHECK(message == fmt::format(R"(cloud space "slow" (id {}) was not DEPLOYED by the deadline )"
                               "(status VIRTUAL)",
                               found->remote_id));
  CHECK(notes.list() == std::vector<std::string>{"waiting for DEPLOYED"});

  // Once DEPLOYING, the G8 refuses the delete (400): stove waits and tries again.
  target.remote_id = found->remote_id;
  while (cloud.spaces->read(target, notes.context())->observed["status"] == "VIRTUAL") {
    std::this_thread::sleep_for(20ms);
  }
  test::Notes delete_notes;
  cloud.spaces->destroy(target, delete_notes.context());
  CHECK(delete_notes.list() == std::vector<std::string>{"waiting for DEPLOYED before deleting"});
  CHECK_FALSE(cloud.spaces->read(target, notes.context()));
  CHECK(cloud.spaces->list({}, notes.context()).empty());
}

TEST_CASE("providers: openvcloud on the sandbox - creating what already exists adopts it "
          "instead of making a second one") {
  Cloud cloud;
  test::Notes notes;
  auto space_target = test::space_target("web", 1);
  Remote space = cloud.spaces->create(space_target, notes.context());
  test::Notes again;
  Remote adopted = cloud.spaces->create(space_target, again.context());
  CHECK(adopted.remote_id == space.remote_id);
  CHECK(adopted.observed == space.observed);
  CHECK(again.list() ==
        std::vector<std::string>{
            fmt::format(R"(adopting the existing cloud space "web" (id {}))", space.remote_id)});
  CHECK(cloud.spaces->list({}, notes.context()).size() == 1);

  auto machine_target = test::machine_target(space.remote_id, "app");
  Remote machine = cloud.machines->create(machine_target, notes.context());
  test::Notes machine_again;
  Remote adopted_machine = cloud.machines->create(machine_target, machine_again.context());
  CHECK(adopted_machine.remote_id == machine.remote_id);
  CHECK(adopted_machine.observed == machine.observed);
  CHECK(machine_again.list() ==
        std::vector<std::string>{
            fmt::format(R"(adopting the existing machine "app" (id {}))", machine.remote_id)});
  CHECK(cloud.machines->list(machine_target.parents, notes.context()).size() == 1);
}

TEST_CASE("providers: openvcloud on the sandbox - lost responses and server errors make "
          "neither duplicates nor failures") {
  Cloud cloud(0.3);
  test::Notes notes;
  std::vector<std::string> space_ids;
  for (int i = 0; i < 4; ++i) {
    space_ids.push_back(
        cloud.spaces->create(test::space_target(fmt::format("space-{}", i), 1), notes.context())
            .remote_id);
  }
  std::set<std::string> machine_ids;
  for (int i = 0; i < 6; ++i) {
    machine_ids.insert(
        cloud.machines
            ->create(test::machine_target(space_ids[0], fmt::format("m-{}", i)), notes.context())
            .remote_id);
  }
  auto spaces = cloud.spaces->list({}, notes.context());
  CHECK(names_of(spaces) == std::vector<std::string>{"space-0", "space-1", "space-2", "space-3"});
  auto machines =
      cloud.machines->list(test::machine_target(space_ids[0], "x").parents, notes.context());
  CHECK(names_of(machines) == std::vector<std::string>{"m-0", "m-1", "m-2", "m-3", "m-4", "m-5"});
  CHECK(machine_ids.size() == 6);
  // The seed makes the faults the same on every run; some were injected.
  CHECK(cloud.server.counters().injected_failures > 0);
  CHECK(cloud.provider->stats().retries > 0);
}

TEST_CASE("providers: openvcloud on the sandbox - a wrong token is a clear error without the "
          "token") {
  const std::string wrong = test::user_jwt("mallory");
  Cloud cloud(0.0, wrong);
  test::Notes notes;
  std::string message = error_of([&] { cloud.spaces->list({}, notes.context()); });
  CHECK(message == "cloudspaces/list: 401 Unauthorized: missing or invalid bearer token (check "
                   "the token in STOVE_OVC_TOKEN)");
  CHECK(message.find(wrong) == std::string::npos);
  ProviderError error("");
  try {
    cloud.spaces->create(test::space_target("web", 1), notes.context());
  } catch (const ProviderError& e) {
    error = e;
  }
  CHECK(error.http_status() == 401);
  CHECK(std::string(error.what()) == "locations/list: 401 Unauthorized: missing or invalid bearer "
                                     "token (check the token in STOVE_OVC_TOKEN)");
}

TEST_CASE("providers: openvcloud on the sandbox - the API's 400 for odd memory surfaces as it "
          "is") {
  Cloud cloud;
  test::Notes notes;
  Remote space = cloud.spaces->create(test::space_target("web", 1), notes.context());
  auto target = test::machine_target(space.remote_id, "app");
  target.spec["memory"] = 2049;
  ProviderError error("");
  try {
    cloud.machines->create(target, notes.context());
  } catch (const ProviderError& e) {
    error = e;
  }
  CHECK(std::string(error.what()) ==
        "machines/create: 400 Bad Request: memory must be an even number of MB, not 2049");
  CHECK(error.http_status() == 400);
  CHECK(cloud.machines->list(target.parents, notes.context()).empty());
}

TEST_CASE("providers: openvcloud on the sandbox - cloudspaces/create gets the JWT's user as "
          "access") {
  Cloud cloud;
  test::Notes notes;
  cloud.spaces->create(test::space_target("web", 1), notes.context());
  json saved = saved_cloud(cloud);
  REQUIRE(saved["cloudspaces"].size() == 1);
  CHECK(saved["cloudspaces"][0]["access"] == "john@itsyouonline");
}

TEST_CASE("providers: openvcloud on the sandbox - a resize or disk growth the hypervisor cannot "
          "do live (202 false) is applied by one stop and start") {
  Cloud cloud;
  test::Notes notes;
  Remote space = cloud.spaces->create(test::space_target("web", 1), notes.context());
  auto target = test::machine_target(space.remote_id, "app");
  Remote machine = cloud.machines->create(target, notes.context());
  target.remote_id = machine.remote_id;
  admin(cloud, fmt::format("machines/{}", machine.remote_id), {{"live_resize", false}});

  test::Notes update_notes;
  auto bigger = test::update_of(target, {{"memory", 4096}, {"vcpus", 4}, {"disk_boot_size", 40}},
                                machine.observed);
  Remote after = cloud.machines->update(bigger, update_notes.context());
  CHECK(after.observed["memory"] == 4096);
  CHECK(after.observed["vcpus"] == 4);
  CHECK(after.observed["disk_boot_size"] == 40);
  CHECK(after.observed["status"] == "RUNNING");
  CHECK(update_notes.list() ==
        std::vector<std::string>{"stopping to apply the resize", "starting after the resize"});
  json saved = saved_cloud(cloud);
  CHECK(saved["machines"][0]["awaiting_restart"] == false);
  CHECK(saved["machines"][0]["boots"] == 1);
}

TEST_CASE("providers: openvcloud on the sandbox - shrinking a HALTED machine leaves it HALTED") {
  Cloud cloud;
  test::Notes notes;
  Remote space = cloud.spaces->create(test::space_target("web", 1), notes.context());
  auto target = test::machine_target(space.remote_id, "app");
  Remote machine = cloud.machines->create(target, notes.context());
  target.remote_id = machine.remote_id;
  cloud.machines->execute(target, "stop", json::object(), notes.context());

  test::Notes update_notes;
  auto smaller = test::update_of(target, {{"memory", 1024}, {"vcpus", 1}}, machine.observed);
  Remote after = cloud.machines->update(smaller, update_notes.context());
  CHECK(after.observed["memory"] == 1024);
  CHECK(after.observed["vcpus"] == 1);
  CHECK(after.observed["status"] == "HALTED");
  CHECK(update_notes.list().empty());
}

TEST_CASE("providers: openvcloud on the sandbox - a machine an update cut short left HALTED is "
          "started again, with or without a resize left to do") {
  Cloud cloud;
  test::Notes notes;
  Remote space = cloud.spaces->create(test::space_target("web", 1), notes.context());
  auto target = test::machine_target(space.remote_id, "app");
  Remote machine = cloud.machines->create(target, notes.context());
  target.remote_id = machine.remote_id;
  // A shrink was cut short after its stop: the journal gave the machine
  // what was observed before the update, RUNNING.
  cloud.machines->execute(target, "stop", json::object(), notes.context());
  json observed = machine.observed;
  observed["status"] = "HALTED";
  observed["interrupted_update"] = machine.observed;

  test::Notes resume_notes;
  auto smaller = test::update_of(target, {{"memory", 1024}, {"vcpus", 1}}, observed);
  Remote after = cloud.machines->update(smaller, resume_notes.context());
  CHECK(after.observed["memory"] == 1024);
  CHECK(after.observed["status"] == "RUNNING");
  CHECK(resume_notes.list() == std::vector<std::string>{"starting after the resize"});

  // Cut short after the resize, before the start: nothing left to change
  // but the start.
  cloud.machines->execute(target, "stop", json::object(), notes.context());
  observed = after.observed;
  observed["status"] = "HALTED";
  observed["interrupted_update"] = after.observed;
  test::Notes start_notes;
  auto same = test::update_of(smaller, json::object(), observed);
  CHECK(cloud.machines->update(same, start_notes.context()).observed["status"] == "RUNNING");
  CHECK(start_notes.list() ==
        std::vector<std::string>{"starting again after an update cut short"});

  // A machine stopped on purpose, with no update cut short, stays HALTED.
  cloud.machines->execute(target, "stop", json::object(), notes.context());
  observed = after.observed;
  observed["status"] = "HALTED";
  test::Notes quiet_notes;
  auto unchanged = test::update_of(smaller, {{"labels", {{"a", "b"}}}}, observed);
  CHECK(cloud.machines->update(unchanged, quiet_notes.context()).observed["status"] == "HALTED");
}

TEST_CASE("providers: openvcloud on the sandbox - a cloud space holding a machine stove does not "
          "manage is not deleted, and the error names the machine") {
  Cloud cloud;
  test::Notes notes;
  Remote space = cloud.spaces->create(test::space_target("web", 1), notes.context());
  json stray =
      admin(cloud, fmt::format("cloudspaces/{}/machines", space.remote_id), {{"name", "stray"}});
  auto target = test::space_target("web", 1, space.remote_id);
  ProviderError error("");
  try {
    cloud.spaces->destroy(target, notes.context());
  } catch (const ProviderError& e) {
    error = e;
  }
  CHECK(error.http_status() == 409);
  CHECK(std::string(error.what()) ==
        fmt::format(R"(cloud_space["web"]: cloudspaces/delete: 409 Conflict: In order to delete )"
                    R"(a CloudSpace it can not contain Machines.; it holds machines stove does )"
                    R"(not manage: "stray" (id {}); delete them first)",
                    stray["id"].get<int64_t>()));
  CHECK(cloud.spaces->read(target, notes.context()));
}
