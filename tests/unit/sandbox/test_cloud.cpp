// The sandbox's cloudapi rules (lib/sandbox/cloud.cpp) on a clock the test
// moves: the G8's answers, status and body, as its source gives them
// (0-complexity/openvcloud apps/cloudbroker/base/cloudapi__*). The HTTP
// framing of these answers is checked in test_server.cpp.

#include "sandbox/cloud.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

using namespace std::chrono_literals;
using nlohmann::json;
using stove::sandbox::Cloud;
using stove::sandbox::Reply;

namespace {

// A cloud whose clock only moves when the test says; cloud spaces take a
// second to deploy: VIRTUAL for 250 ms, DEPLOYING until 1000 ms.
struct World {
  int64_t now = 1'700'000'000'000;
  Cloud cloud{1000ms, [this] { return now; }};

  Reply call(const std::string& method, const json& params = json::object()) {
    auto slash = method.find('/');
    return cloud.call(method.substr(0, slash), method.substr(slash + 1), params);
  }

  int64_t create_space(const std::string& name) {
    Reply r = call("cloudspaces/create", {{"accountId", 7},
                                          {"location", "be-g8-1"},
                                          {"name", name},
                                          {"access", "john@itsyouonline"}});
    REQUIRE(r.status == 200);
    return r.body.get<int64_t>();
  }

  int64_t create_machine(int64_t space, const std::string& name) {
    Reply r = call("machines/create", {{"cloudspaceId", space},
                                       {"name", name},
                                       {"imageId", 12},
                                       {"disksize", 20},
                                       {"memory", 2048},
                                       {"vcpus", 2}});
    REQUIRE(r.status == 200);
    return r.body.get<int64_t>();
  }

  std::string space_status(int64_t id) {
    return call("cloudspaces/get", {{"cloudspaceId", id}}).body.at("status").get<std::string>();
  }

  json machine(int64_t id) { return call("machines/get", {{"machineId", id}}).body; }
};

// Status and body, for one CHECK.
std::pair<int, json> answer(const Reply& r) {
  return {r.status, r.body};
}

} // namespace

TEST_SUITE("sandbox cloud") {
  TEST_CASE("cloudspaces/create requires access, a G8 user name") {
    World w;
    json params = {{"accountId", 7}, {"location", "be-g8-1"}, {"name", "web"}};
    CHECK(answer(w.call("cloudspaces/create", params)) ==
          std::pair<int, json>{400, "Param with name:access is missing."});
    params["access"] = "";
    CHECK(answer(w.call("cloudspaces/create", params)) ==
          std::pair<int, json>{400, "Param with name:access is missing."});
    params["access"] = "j";
    CHECK(answer(w.call("cloudspaces/create", params)) ==
          std::pair<int, json>{400, "The name cannot be shorter than two characters"});
    params["access"] = "<john>";
    CHECK(answer(w.call("cloudspaces/create", params)) ==
          std::pair<int, json>{400, "The name you entered contains invalid characters"});
    CHECK(w.call("cloudspaces/list").body.empty());

    params["access"] = "john@itsyouonline";
    CHECK(answer(w.call("cloudspaces/create", params)) == std::pair<int, json>{200, 1});
    CHECK(w.call("cloudspaces/get", {{"cloudspaceId", 1}}).body.at("acl") ==
          json::parse(R"([{"userGroupId": "john@itsyouonline", "type": "U", "right": "ACDRUX",
                           "status": "CONFIRMED"}])"));
  }

  TEST_CASE("a new cloud space is VIRTUAL, then DEPLOYING, then DEPLOYED") {
    World w;
    int64_t id = w.create_space("web");
    CHECK(w.space_status(id) == "VIRTUAL");
    // The external address is reserved by the create itself.
    CHECK(w.call("cloudspaces/get", {{"cloudspaceId", id}}).body.at("externalnetworkip") ==
          "203.0.113.2");
    w.now += 249;
    CHECK(w.space_status(id) == "VIRTUAL");
    CHECK(w.call("cloudspaces/list").body.at(0).at("status") == "VIRTUAL");
    w.now += 1;
    CHECK(w.space_status(id) == "DEPLOYING");
    w.now += 749;
    CHECK(w.space_status(id) == "DEPLOYING");
    w.now += 1;
    CHECK(w.space_status(id) == "DEPLOYED");
  }

  TEST_CASE("machines may be created while the cloud space deploys") {
    World w;
    int64_t id = w.create_space("web");
    CHECK(w.space_status(id) == "VIRTUAL");
    int64_t m = w.create_machine(id, "app");
    CHECK(w.machine(m).at("status") == "RUNNING");
  }

  TEST_CASE("cloudspaces/delete: 409 while it holds machines, 400 while DEPLOYING, 404 for none") {
    World w;
    int64_t id = w.create_space("web");
    int64_t m = w.create_machine(id, "app");
    const json body = {{"cloudspaceId", id}, {"permanently", true}};
    // The machines are checked first, even while VIRTUAL or DEPLOYING.
    std::pair<int, json> conflict{409,
                                  "In order to delete a CloudSpace it can not contain Machines."};
    CHECK(answer(w.call("cloudspaces/delete", body)) == conflict);
    w.now += 500;
    CHECK(answer(w.call("cloudspaces/delete", body)) == conflict);
    CHECK(answer(w.call("machines/delete", {{"machineId", m}, {"permanently", true}})) ==
          std::pair<int, json>{200, true});
    CHECK(answer(w.call("cloudspaces/delete", body)) ==
          std::pair<int, json>{400, "Can not delete a CloudSpace that is being deployed."});
    w.now += 500;
    CHECK(answer(w.call("cloudspaces/delete", body)) == std::pair<int, json>{200, true});
    CHECK(answer(w.call("cloudspaces/delete", body)) ==
          std::pair<int, json>{404, "Could not find 1 of type cloudspace"});
    CHECK(answer(w.call("cloudspaces/get", {{"cloudspaceId", 1}})) ==
          std::pair<int, json>{404, "Could not find 1 of type cloudspace"});
    CHECK(answer(w.call("cloudspaces/delete", {{"cloudspaceId", 42}})) ==
          std::pair<int, json>{404, "Could not find 42 of type cloudspace"});
    // A VIRTUAL cloud space may be deleted: its deployment has not begun.
    int64_t fresh = w.create_space("fresh");
    CHECK(w.space_status(fresh) == "VIRTUAL");
    CHECK(answer(w.call("cloudspaces/delete", {{"cloudspaceId", fresh}, {"permanently", true}})) ==
          std::pair<int, json>{200, true});
  }

  TEST_CASE("without permanently a cloud space is DELETED and keeps its name, and with it "
            "DESTROYED") {
    World w;
    int64_t id = w.create_space("web");
    w.now += 1000;
    CHECK(answer(w.call("cloudspaces/delete", {{"cloudspaceId", id}})) ==
          std::pair<int, json>{200, true});
    CHECK(answer(w.call("cloudspaces/get", {{"cloudspaceId", id}})) ==
          std::pair<int, json>{404, "Could not find an accessible resource."});
    CHECK(w.call("cloudspaces/list").body.empty());
    json listed = w.call("cloudspaces/list", {{"includedeleted", true}}).body;
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].at("status") == "DELETED");
    CHECK(listed[0].at("descr") == "");
    Reply again = w.call("cloudspaces/create", {{"accountId", 7},
                                                {"location", "be-g8-1"},
                                                {"name", "web"},
                                                {"access", "john@itsyouonline"}});
    CHECK(again.status == 409);
    CHECK(answer(w.call("machines/create", {{"cloudspaceId", id},
                                            {"name", "m"},
                                            {"imageId", 1},
                                            {"disksize", 10},
                                            {"memory", 1024},
                                            {"vcpus", 1}})) ==
          std::pair<int, json>{404, "Could not find an accessible resource."});

    // A DELETED space can still be deleted, permanently: then it is gone
    // and its name free.
    CHECK(answer(w.call("cloudspaces/delete", {{"cloudspaceId", id}, {"permanently", "True"}})) ==
          std::pair<int, json>{200, true});
    CHECK(w.call("cloudspaces/list", {{"includedeleted", true}}).body.empty());
    CHECK(w.create_space("web") == 2);
  }

  TEST_CASE("a DELETED machine keeps its name and no longer blocks its cloud space's delete") {
    World w;
    int64_t space = w.create_space("web");
    w.now += 1000;
    int64_t m = w.create_machine(space, "app");
    CHECK(answer(w.call("machines/delete", {{"machineId", m}})) == std::pair<int, json>{200, true});
    CHECK(answer(w.call("machines/get", {{"machineId", m}})) ==
          std::pair<int, json>{404, fmt::format("Machine {} not found", m)});
    CHECK(w.call("machines/list", {{"cloudspaceId", space}}).body.empty());
    CHECK(w.call("machines/create", {{"cloudspaceId", space},
                                     {"name", "app"},
                                     {"imageId", 12},
                                     {"disksize", 20},
                                     {"memory", 2048},
                                     {"vcpus", 2}})
              .status == 409);
    CHECK(answer(w.call("machines/delete", {{"machineId", m}})) == std::pair<int, json>{200, true});
    CHECK(answer(w.call("machines/get", {{"machineId", 99}})) ==
          std::pair<int, json>{404, "Could not find 99 of type vmachine"});
    // Deleting the space permanently destroys its DELETED machines.
    CHECK(answer(w.call("cloudspaces/delete", {{"cloudspaceId", space}, {"permanently", true}})) ==
          std::pair<int, json>{200, true});
    CHECK(answer(w.call("machines/delete", {{"machineId", m}})) ==
          std::pair<int, json>{404, fmt::format("Could not find {} of type vmachine", m)});
  }

  TEST_CASE("machines/resize decreases only a HALTED machine, memory checked first") {
    World w;
    int64_t space = w.create_space("web");
    int64_t m = w.create_machine(space, "app"); // 2048 MB, 2 vcpus, RUNNING
    auto resize = [&](json memory, json vcpus) {
      json params = {{"machineId", m}};
      if (!memory.is_null()) {
        params["memory"] = memory;
      }
      if (!vcpus.is_null()) {
        params["vcpus"] = vcpus;
      }
      return answer(w.call("machines/resize", params));
    };
    using A = std::pair<int, json>;
    CHECK(resize(1024, 1) == A{400, "Can not decrease memory on a running machine"});
    CHECK(resize(4096, 1) == A{400, "Can not decrease vcpus on a running machine"});
    CHECK(resize(4096, nullptr) == A{400, "cannot pass vcpus or memory without the other."});
    CHECK(resize(3001, 2) == A{400, "memory value should be an even number"});
    CHECK(answer(w.call("machines/resize", {{"machineId", m}, {"sizeId", 3}, {"memory", 4096}})) ==
          A{400, "sizeId and (vcpus or memory) are mutually exclusive"});
    CHECK(w.machine(m).at("memory") == 2048);

    CHECK(resize(4096, 4) == A{200, true});
    CHECK(w.machine(m).at("memory") == 4096);
    CHECK(answer(w.call("machines/stop", {{"machineId", m}})) == A{200, true});
    CHECK(resize(1024, 1) == A{200, true});
    json halted = w.machine(m);
    CHECK(halted.at("status") == "HALTED");
    CHECK(halted.at("memory") == 1024);
    CHECK(halted.at("vcpus") == 1);
  }

  TEST_CASE("a live resize the hypervisor cannot do is 202 false: stored, applied by a stop and "
            "start") {
    World w;
    int64_t space = w.create_space("web");
    int64_t m = w.create_machine(space, "app");
    REQUIRE(w.cloud.admin_update_machine(m, {{"live_resize", false}}).status == 200);
    CHECK(answer(w.call("machines/resize", {{"machineId", m}, {"memory", 4096}, {"vcpus", 4}})) ==
          std::pair<int, json>{202, false});
    // The G8 stores the new size at once.
    CHECK(w.machine(m).at("memory") == 4096);
    CHECK(w.machine(m).at("vcpus") == 4);
    auto awaiting = [&] { return w.cloud.snapshot().data.machines.at(m).awaiting_restart; };
    CHECK(awaiting());
    CHECK(w.call("machines/reboot", {{"machineId", m}}).status == 200);
    CHECK(awaiting()); // a reboot is no stop and start
    CHECK(w.call("machines/stop", {{"machineId", m}}).status == 200);
    CHECK(w.call("machines/start", {{"machineId", m}}).status == 200);
    CHECK_FALSE(awaiting());
  }

  TEST_CASE("disks/resize grows only, 202 false when the running guest cannot see it live") {
    World w;
    int64_t space = w.create_space("web");
    int64_t m = w.create_machine(space, "app"); // a 20 GB boot disk
    int64_t disk = w.machine(m).at("disks").at(0).at("id");
    using A = std::pair<int, json>;
    const A not_larger{400, "The specified size is smaller than or equal the original size"};
    CHECK(answer(w.call("disks/resize", {{"diskId", disk}, {"size", 20}})) == not_larger);
    CHECK(answer(w.call("disks/resize", {{"diskId", disk}, {"size", 10}})) == not_larger);
    CHECK(answer(w.call("disks/resize", {{"diskId", disk}, {"size", 30}})) == A{200, true});
    CHECK(answer(w.call("disks/resize", {{"diskId", 77}, {"size", 30}})) ==
          A{404, "Could not find 77 of type disk"});

    REQUIRE(w.cloud.admin_update_machine(m, {{"live_resize", false}}).status == 200);
    CHECK(answer(w.call("disks/resize", {{"diskId", disk}, {"size", 40}})) == A{202, false});
    CHECK(w.machine(m).at("disks").at(0).at("sizeMax") == 40);
    CHECK(w.cloud.snapshot().data.machines.at(m).awaiting_restart);
    // A HALTED machine's disk grows offline: 200.
    CHECK(w.call("machines/stop", {{"machineId", m}}).status == 200);
    CHECK(answer(w.call("disks/resize", {{"diskId", disk}, {"size", 50}})) == A{200, true});
    CHECK(w.call("machines/delete", {{"machineId", m}}).status == 200);
    CHECK(answer(w.call("disks/resize", {{"diskId", disk}, {"size", 60}})) ==
          A{400, fmt::format("Disk with id {} is not created", disk)});
  }

  TEST_CASE("get and list answer the G8's field names") {
    World w;
    int64_t space = w.create_space("web");
    int64_t m = w.create_machine(space, "app");
    json got = w.call("cloudspaces/get", {{"cloudspaceId", space}}).body;
    for (const char* key : {"id", "name", "accountId", "location", "gid", "type", "status",
                            "description", "externalnetworkip", "publicipaddress", "resourceLimits",
                            "acl", "creationTime", "updateTime"}) {
      CHECK_MESSAGE(got.contains(key), key);
    }
    json listed = w.call("cloudspaces/list").body.at(0);
    CHECK(listed.contains("descr"));
    CHECK_FALSE(listed.contains("description"));

    json machine = w.machine(m);
    CHECK(machine.at("imageid") == 12);
    CHECK(machine.at("cloudspaceid") == space);
    CHECK(machine.at("sizeid") == 0);
    CHECK_FALSE(machine.contains("imageId"));
    CHECK_FALSE(machine.contains("cloudspaceId"));
    json summary = w.call("machines/list", {{"cloudspaceId", space}}).body.at(0);
    CHECK(summary.at("imageId") == 12);
    CHECK(summary.at("nics").at(0).at("ipAddress") ==
          machine.at("interfaces").at(0).at("ipAddress"));
    CHECK(summary.at("disks") == json::array({machine.at("disks").at(0).at("id")}));
    CHECK(summary.at("storage") == 20);
  }
}
