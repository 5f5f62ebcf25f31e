// Importing an object: the checks made before anything is contacted, and
// the record made from what a provider in memory reports. The adapters'
// reads over HTTP are tested against the sandbox elsewhere.

#include "apply/import.hpp"

#include "model/address.hpp"
#include "util/error.hpp"
#include "plan/plan.hpp"
#include "plan/plan_fixtures.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

using namespace stove;
using stove::test::config_from;
using stove::test::k_estate;
using stove::test::state_from;

namespace {

const char* k_space = R"(cloud_space["web"])";
const char* k_app = R"(cloud_space["web"].machine["app"])";
const char* k_nightly = R"(cloud_space["web"].machine["app"].backup["nightly"])";

// Objects by id, as a provider would report them; nullopt for unknown ids.
class MemoryObjects final : public providers::KindAdapter, public providers::Provider {
public:
  std::map<std::string, nlohmann::json> objects;
  std::optional<std::string> failure; // a read that the provider fails
  std::optional<std::string> outside; // what outside_parent() says of every object
  int reads = 0;

  providers::KindAdapter* adapter(Kind) override { return this; }
  http::Stats stats() const override { return {}; }

  std::optional<providers::Remote> read(const providers::Target& target,
                                        const providers::OpContext&) override {
    ++reads;
    if (failure) {
      throw providers::ProviderError(*failure, 500);
    }
    auto it = objects.find(target.remote_id);
    if (it == objects.end()) {
      return std::nullopt;
    }
    return providers::Remote{target.remote_id, it->second};
  }
  providers::Remote create(const providers::Target&, const providers::OpContext&) override {
    throw providers::ProviderError("import never creates");
  }
  providers::Remote update(const providers::Target&, const providers::OpContext&) override {
    throw providers::ProviderError("import never updates");
  }
  void destroy(const providers::Target&, const providers::OpContext&) override {
    throw providers::ProviderError("import never destroys");
  }
  std::optional<providers::Remote> find(const providers::Target&,
                                        const providers::OpContext&) override {
    return std::nullopt;
  }
  std::vector<providers::Remote> list(const std::vector<providers::Parent>&,
                                      const providers::OpContext&) override {
    return {};
  }
  std::optional<std::string> outside_parent(const providers::Target&,
                                            const providers::Remote&) const override {
    return outside;
  }
};

struct Fixture {
  Config config = config_from(k_estate);
  State state = state_from(config);
  MemoryObjects* cloud = nullptr;
  std::unique_ptr<ProviderSet> providers;

  Fixture() {
    auto owned = std::make_unique<MemoryObjects>();
    cloud = owned.get();
    auto shared = std::shared_ptr<MemoryObjects>(std::move(owned));
    providers = std::make_unique<ProviderSet>(
        config.providers, [shared](const ProviderConfig&) -> std::unique_ptr<providers::Provider> {
          return std::make_unique<Forward>(shared);
        });
  }

  // Forgets `address` from the state.
  void forget(const std::string& address) {
    std::erase_if(state.resources, [&](const ResourceState& r) { return r.address == address; });
  }
  // Forgets `address` and what is under it.
  void forget_tree(const std::string& address) {
    const std::string under = fmt::format("{}.", address);
    std::erase_if(state.resources, [&](const ResourceState& r) {
      return r.address == address || r.address.starts_with(under);
    });
  }

  ImportResult import(const std::string& address, const std::string& id) {
    ImportRequest request = prepare_import(config, state, *parse_address(address), id);
    return import_resource(request, *providers, ImportOptions{});
  }

  // A Provider that hands out the shared in-memory objects.
  struct Forward final : providers::Provider {
    explicit Forward(std::shared_ptr<MemoryObjects> objects) : m_objects(std::move(objects)) {}
    providers::KindAdapter* adapter(Kind kind) override { return m_objects->adapter(kind); }
    http::Stats stats() const override { return {}; }
    std::shared_ptr<MemoryObjects> m_objects;
  };
};

// prepare_import's usage error, or "(no error)".
std::string refused(const Fixture& f, const std::string& address, const std::string& id) {
  try {
    prepare_import(f.config, f.state, *parse_address(address), id);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    return e.what();
  }
  return "(no error)";
}

std::string id_of(const State& state, const std::string& address) {
  for (const auto& r : state.resources) {
    if (r.address == address) {
      return r.remote_id;
    }
  }
  FAIL("no ", address, " in the state");
  return {};
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

} // namespace

TEST_SUITE("import_resource") {
  TEST_CASE("the record takes the file's spec with the real value of every field the provider "
            "reports") {
    Fixture f;
    f.forget(k_app);
    f.cloud->objects["7"] = {{"name", "app"},
                             {"memory", 2048},
                             {"vcpus", 1},
                             {"image_id", 12},
                             {"disk_boot_size", 10},
                             {"status", "RUNNING"},
                             {"cloudspace_id", id_of(f.state, k_space)}};
    ImportResult result = f.import("cloud_space.web.machine.app", "7");
    const ResourceState& r = result.record;
    CHECK(r.address == k_app);
    CHECK(r.kind == "machine");
    CHECK(r.remote_id == "7");
    CHECK(r.parent == k_space);
    CHECK(r.dependencies == std::vector<std::string>{k_space});
    CHECK(r.status == ResourceStatus::completed);
    CHECK(r.observed == f.cloud->objects["7"]);
    CHECK(r.spec.at("memory") == 2048);
    CHECK(r.spec.at("vcpus") == 1);
    CHECK(r.spec.at("description") == ""); // not reported: the file's
    REQUIRE(result.differences.size() == 1);
    CHECK(result.differences[0].field == "memory");
    CHECK(result.differences[0].state == 1024);
    CHECK(result.differences[0].real == 2048);
    CHECK_FALSE(r.created_at.empty());
    CHECK(r.updated_at == r.created_at);

    // Planned against the file, the record is an in-place update of memory.
    State state = f.state;
    state.resources.push_back(r);
    Plan plan = make_plan(f.config, state, "state.json");
    for (const auto& c : plan.changes) {
      CAPTURE(c.address);
      CHECK(c.action == (c.address == k_app ? Action::update : Action::no_op));
    }
  }

  TEST_CASE("an object that matches the file plans as a no-op") {
    Fixture f;
    f.forget(R"(bucket["assets"])");
    f.cloud->objects["assets"] = {{"name", "assets"},
                                  {"region", "us-east-1"},
                                  {"versioning", "suspended"},
                                  {"tags", nlohmann::json::object()}};
    ImportResult result = f.import("bucket.assets", "assets");
    CHECK(result.differences.empty());
    CHECK(result.record.spec.at("region") == ""); // applied as "": the provider's choice
    State state = f.state;
    state.resources.push_back(result.record);
    CHECK_FALSE(make_plan(f.config, state, "state.json").summary().has_changes());
  }

  TEST_CASE("no such object, another parent, and a failed read are errors") {
    Fixture f;
    f.forget(k_app);
    CHECK(error_of([&] { f.import(k_app, "8"); }) ==
          R"(cloud_space["web"].machine["app"]: no machine with id "8" at provider "sandbox")");
    // The adapter says where the object is when that is not in its parent.
    f.cloud->objects["8"] = {{"name", "app"}};
    f.cloud->outside = "is in cloud space \"9\", not in cloud_space[\"web\"] (id \"1\")";
    CHECK(error_of([&] { f.import(k_app, "8"); }) ==
          R"(cloud_space["web"].machine["app"]: machine "8" at provider "sandbox" is )"
          R"(in cloud space "9", not in cloud_space["web"] (id "1"))");
    CHECK(f.cloud->reads == 2);
    f.cloud->outside.reset();
    f.cloud->failure = "machines/get: HTTP 500: the cloud is down";
    CHECK(error_of([&] { f.import(k_app, "8"); }) ==
          R"(cloud_space["web"].machine["app"]: reading machine "8" at provider "sandbox" )"
          R"(failed: machines/get: HTTP 500: the cloud is down)");
  }

  TEST_CASE("an object at the top has no parent to be outside of") {
    Fixture f;
    f.forget(R"(bucket["assets"])");
    f.cloud->objects["assets"] = {{"name", "assets"}};
    f.cloud->outside = "is somewhere else";
    CHECK(f.import("bucket.assets", "assets").record.address == R"(bucket["assets"])");
  }
}

TEST_SUITE("prepare_import") {
  TEST_CASE("refuses before reading: an undeclared address, one already managed, a parent not in "
            "the state or never created, an id already bound") {
    Fixture f;
    CHECK(refused(f, "cloud_space.web.machine.ap", "1") ==
          R"(infra.yaml declares no resource cloud_space["web"].machine["ap"]; did you mean )"
          R"(cloud_space["web"].machine["app"]?)");
    CHECK(refused(f, "cloud_space.web", "1") ==
          fmt::format(R"(cloud_space["web"] is already managed (id "{}"); `stove state rm` it )"
                      "first to import another object",
                      id_of(f.state, k_space)));

    // app2 is declared next to app, which the state holds.
    f.config = config_from(R"(- type: cloud_space
  name: web
  location_id: 1
  machines:
    - {name: app, image_id: 12, memory: 1024, vcpus: 1, disk_boot_size: 10}
    - {name: app2, image_id: 12, memory: 1024, vcpus: 1, disk_boot_size: 10}
)");
    const std::string app_id = id_of(f.state, k_app);
    CHECK(refused(f, "cloud_space.web.machine.app2", app_id) ==
          fmt::format(R"(machine "{}" at provider "sandbox" is already managed as )"
                      R"(cloud_space["web"].machine["app"]; `stove state mv` it to )"
                      R"(cloud_space["web"].machine["app2"] instead, or `stove state rm` it first)",
                      app_id));
    // Another kind's id, or another provider's, may be the same.
    CHECK(refused(f, "cloud_space.web.machine.app2", id_of(f.state, k_space)) == "(no error)");
    CHECK(refused(f, "cloud_space.web.machine.app2", "") ==
          "REMOTE_ID is empty: give the provider's id of the object");
    f.config = config_from(k_estate);

    f.forget_tree(k_space);
    CHECK(refused(f, k_app, "1") == R"(cloud_space["web"].machine["app"]: its parent )"
                                    R"(cloud_space["web"] is not in the state; import its parent )"
                                    "first");
    CHECK(refused(f, k_nightly, "1") ==
          R"(cloud_space["web"].machine["app"].backup["nightly"]: its parent )"
          R"(cloud_space["web"].machine["app"] is not in the state; import its parent first)");

    Fixture g;
    g.forget_tree(k_app);
    g.state.resources.front().remote_id.clear();
    CHECK(refused(g, k_app, "1") ==
          R"(cloud_space["web"].machine["app"]: its parent cloud_space["web"] was never created )"
          "(its create did not complete); run stove apply first");
  }
}
