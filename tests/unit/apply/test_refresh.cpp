// Refresh against a provider in memory: which listings are made (one per
// kind and managed parent, the top once per kind), what is reported
// drifted, deleted or unmanaged, and how apply_refresh folds that into a
// state. The adapters' listings over HTTP are tested against the sandbox
// elsewhere.

#include "apply/refresh.hpp"

#include "util/error.hpp"
#include "plan/plan_fixtures.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

using namespace stove;
using stove::test::config_from;
using stove::test::k_estate;
using stove::test::state_from;

namespace {

const char* k_web = R"(cloud_space["web"])";
const char* k_db = R"(cloud_space["db"])";
const char* k_app = R"(cloud_space["web"].machine["app"])";
const char* k_nightly = R"(cloud_space["web"].machine["app"].backup["nightly"])";
const char* k_assets = R"(bucket["assets"])";

// Objects by kind and parent id ("" at the top), listed as they are; every
// listing is counted (as an HTTP request too).
class MemoryCloud final : public providers::Provider {
public:
  struct Object {
    Kind kind;
    std::string parent_id;
    providers::Remote remote;
  };
  std::vector<Object> objects;
  std::optional<Kind> failing; // listings of this kind fail
  std::string gone_after_listing; // complete() of this remote id finds it gone

  providers::KindAdapter* adapter(Kind kind) override {
    std::lock_guard lock(m_mutex);
    auto& a = m_adapters[kind];
    if (!a) {
      a = std::make_unique<Lister>(*this, kind);
    }
    return a.get();
  }
  http::Stats stats() const override {
    std::lock_guard lock(m_mutex);
    return {m_calls.size(), 0};
  }
  // The listings made, sorted: "KIND in PARENT_ID", or "KIND at the top".
  std::vector<std::string> calls() const {
    std::lock_guard lock(m_mutex);
    std::vector<std::string> out = m_calls;
    std::sort(out.begin(), out.end());
    return out;
  }

  // The object `id` of `kind`.
  providers::Remote& object(Kind kind, const std::string& id) {
    for (auto& o : objects) {
      if (o.kind == kind && o.remote.remote_id == id) {
        return o.remote;
      }
    }
    FAIL("no ", to_string(kind), " ", id);
    return objects.front().remote;
  }
  // Deletes the object `id` of `kind` (not what is under it).
  void erase(Kind kind, const std::string& id) {
    std::erase_if(objects,
                  [&](const Object& o) { return o.kind == kind && o.remote.remote_id == id; });
  }

private:
  class Lister final : public providers::KindAdapter {
  public:
    Lister(MemoryCloud& cloud, Kind kind) : m_cloud(cloud), m_kind(kind) {}
    std::vector<providers::Remote> list(const std::vector<providers::Parent>& parents,
                                        const providers::OpContext&) override {
      // parents: nearest first.
      const std::string parent_id = parents.empty() ? std::string() : parents.front().remote_id;
      std::lock_guard lock(m_cloud.m_mutex);
      m_cloud.m_calls.push_back(parent_id.empty()
                                    ? fmt::format("{} at the top", to_string(m_kind))
                                    : fmt::format("{} in {}", to_string(m_kind), parent_id));
      if (m_cloud.failing == m_kind) {
        throw providers::ProviderError("connection refused");
      }
      std::vector<providers::Remote> out;
      for (const auto& o : m_cloud.objects) {
        if (o.kind == m_kind && o.parent_id == parent_id) {
          out.push_back(o.remote);
        }
      }
      return out;
    }
    std::optional<providers::Remote> complete(const providers::Target& target,
                                              providers::Remote listed,
                                              const providers::OpContext&) override {
      if (target.remote_id == m_cloud.gone_after_listing) {
        return std::nullopt;
      }
      return listed;
    }
    std::optional<providers::Remote> read(const providers::Target&,
                                          const providers::OpContext&) override {
      throw providers::ProviderError("refresh never reads one object");
    }
    providers::Remote create(const providers::Target&, const providers::OpContext&) override {
      throw providers::ProviderError("refresh never creates");
    }
    providers::Remote update(const providers::Target&, const providers::OpContext&) override {
      throw providers::ProviderError("refresh never updates");
    }
    void destroy(const providers::Target&, const providers::OpContext&) override {
      throw providers::ProviderError("refresh never destroys");
    }
    std::optional<providers::Remote> find(const providers::Target&,
                                          const providers::OpContext&) override {
      throw providers::ProviderError("refresh never finds");
    }

  private:
    MemoryCloud& m_cloud;
    Kind m_kind;
  };

  mutable std::mutex m_mutex;
  std::vector<std::string> m_calls;
  std::map<Kind, std::unique_ptr<Lister>> m_adapters;
};

// The estate of plan_fixtures applied, and a cloud holding exactly what its
// state records.
struct Fixture {
  Config config = config_from(k_estate);
  State state = state_from(config);
  MemoryCloud* cloud = nullptr;
  std::unique_ptr<ProviderSet> providers;

  Fixture() {
    auto owned = std::make_shared<MemoryCloud>();
    cloud = owned.get();
    for (const auto& r : state.resources) {
      nlohmann::json observed = r.spec;
      observed.erase("labels");
      cloud->objects.push_back(MemoryCloud::Object{
          *find_kind(r.kind), r.parent.empty() ? std::string() : id_of(r.parent),
          providers::Remote{r.remote_id, observed}});
    }
    providers = std::make_unique<ProviderSet>(
        config.providers, [owned](const ProviderConfig&) -> std::unique_ptr<providers::Provider> {
          return std::make_unique<Forward>(owned);
        });
  }

  std::string id_of(const std::string& address) const {
    for (const auto& r : state.resources) {
      if (r.address == address) {
        return r.remote_id;
      }
    }
    FAIL("no ", address, " in the state");
    return {};
  }
  const ResourceState* record(const std::string& address) const {
    for (const auto& r : state.resources) {
      if (r.address == address) {
        return &r;
      }
    }
    return nullptr;
  }

  DriftReport refresh(RefreshOptions options = {}) {
    return refresh_state(state, *providers, options);
  }

  // A Provider that hands out the shared cloud's adapters.
  struct Forward final : providers::Provider {
    explicit Forward(std::shared_ptr<MemoryCloud> cloud) : m_cloud(std::move(cloud)) {}
    providers::KindAdapter* adapter(Kind kind) override { return m_cloud->adapter(kind); }
    http::Stats stats() const override { return m_cloud->stats(); }
    std::shared_ptr<MemoryCloud> m_cloud;
  };
};

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<std::string> addresses(const DriftReport& report) {
  std::vector<std::string> out;
  for (const auto& d : report.drift) {
    out.push_back(d.address);
  }
  return out;
}

} // namespace

TEST_SUITE("refresh_state") {
  TEST_CASE("a cloud matching the state: one listing per kind at the top and per managed "
            "parent, nothing drifted") {
    Fixture f;
    DriftReport report = f.refresh();
    INFO(fmt::format("{}", fmt::join(f.cloud->calls(), ", ")));
    CHECK(report.read == f.state.resources.size());
    CHECK(report.skipped == 0);
    CHECK_FALSE(report.has_drift());
    CHECK(report.unmanaged.empty());
    // db has no managed machine, and is listed all the same; the backup
    // and the bucket have no children.
    CHECK(f.cloud->calls() == sorted({
                                  fmt::format("backup in {}", f.id_of(k_app)),
                                  "bucket at the top",
                                  "cloud_space at the top",
                                  fmt::format("machine in {}", f.id_of(k_db)),
                                  fmt::format("machine in {}", f.id_of(k_web)),
                              }));
    CHECK(report.http_requests == 5);
    CHECK(report.observed.size() == f.state.resources.size());
  }

  TEST_CASE("an object gone between its listing and complete() is deleted, and its children "
            "with it, unlisted") {
    Fixture f;
    f.cloud->gone_after_listing = f.id_of(k_app);
    DriftReport report = f.refresh();
    CHECK(addresses(report) == std::vector<std::string>{k_app, k_nightly});
    for (const auto& d : report.drift) {
      CHECK(d.deleted);
    }
    CHECK(f.cloud->calls() == sorted({
                                  "bucket at the top",
                                  "cloud_space at the top",
                                  fmt::format("machine in {}", f.id_of(k_db)),
                                  fmt::format("machine in {}", f.id_of(k_web)),
                              }));
    CHECK(report.read == f.state.resources.size() - 2);
  }

  TEST_CASE("a changed field, a deleted parent and an object made by hand") {
    Fixture f;
    f.cloud->object(Kind::bucket, f.id_of(k_assets)).observed["versioning"] = "enabled";
    f.cloud->erase(Kind::cloud_space, f.id_of(k_web));
    f.cloud->objects.push_back(MemoryCloud::Object{Kind::machine, f.id_of(k_db),
                                                   providers::Remote{"900", {{"name", "stray"}}}});

    DriftReport report = f.refresh();
    INFO(fmt::format("{}", fmt::join(f.cloud->calls(), ", ")));
    // web's machine and backup are gone with it, and not asked about.
    CHECK(addresses(report) == std::vector<std::string>{k_web, k_app, k_nightly, k_assets});
    for (const auto& d : report.drift) {
      CHECK(d.deleted == (d.address != k_assets));
    }
    const ResourceDrift& assets = report.drift.back();
    REQUIRE(assets.attributes.size() == 1);
    CHECK(assets.attributes[0].field == "versioning");
    CHECK(assets.attributes[0].state == "suspended");
    CHECK(assets.attributes[0].real == "enabled");
    CHECK(assets.real_spec.at("versioning") == "enabled");
    REQUIRE(report.unmanaged.size() == 1);
    CHECK(report.unmanaged[0].parent == k_db);
    CHECK(report.unmanaged[0].kind == Kind::machine);
    CHECK(report.unmanaged[0].remote_id == "900");
    CHECK(report.unmanaged[0].name == "stray");
    CHECK(report.read == 2);
    CHECK(f.cloud->calls() == sorted({
                                  "bucket at the top",
                                  "cloud_space at the top",
                                  fmt::format("machine in {}", f.id_of(k_db)),
                              }));

    // Folded into the state: the deleted forgotten, the real value taken.
    const uint64_t serial = f.state.serial;
    apply_refresh(f.state, report);
    CHECK(f.state.serial == serial);
    CHECK(f.record(k_web) == nullptr);
    CHECK(f.record(k_app) == nullptr);
    CHECK(f.record(k_nightly) == nullptr);
    REQUIRE(f.record(k_assets) != nullptr);
    CHECK(f.record(k_assets)->spec.at("versioning") == "enabled");
    CHECK(f.record(k_assets)->observed.at("versioning") == "enabled");
    REQUIRE(f.record(k_db) != nullptr);
  }

  TEST_CASE("an ignored field does not drift, by kind or by address") {
    Fixture f;
    f.cloud->object(Kind::bucket, f.id_of(k_assets)).observed["versioning"] = "enabled";
    RefreshOptions by_kind;
    by_kind.ignored[Kind::bucket] = {"versioning"};
    CHECK_FALSE(f.refresh(by_kind).has_drift());
    RefreshOptions by_address;
    by_address.ignored_by_address[k_assets] = {"versioning"};
    CHECK_FALSE(f.refresh(by_address).has_drift());
    CHECK(f.refresh().has_drift());
  }

  TEST_CASE("a failed listing fails the refresh, naming it") {
    Fixture f;
    f.cloud->failing = Kind::bucket;
    try {
      f.refresh();
      FAIL("the refresh did not fail");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::provider);
      CHECK(std::string(e.what()) ==
            fmt::format("refresh failed: could not read 1 listing; nothing was changed\n"
                        "  listing the bucket objects of provider \"{}\": connection refused",
                        f.state.resources.front().provider));
    }
  }
}
