#include "plan/drift.hpp"

#include "util/error.hpp"
#include "plan/render.hpp"

#include <doctest/doctest.h>

using namespace stove;
using nlohmann::json;

namespace {

json machine_spec() {
  return {{"name", "app"},
          {"description", "web"},
          {"image_id", 12},
          {"memory", 2048},
          {"vcpus", 2},
          {"disk_boot_size", 20},
          {"labels", {{"team", "web"}}}};
}

std::string usage_error(const std::vector<std::string>& fields) {
  try {
    parse_ignored_fields(fields);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    return e.what();
  }
  return "no error";
}

} // namespace

TEST_SUITE("drift") {
  TEST_CASE("only the fields the provider reports are compared, in schema order") {
    json observed = {
        {"name", "app"},  {"status", "RUNNING"},  {"memory", 4096},          {"vcpus", 4},
        {"image_id", 12}, {"disk_boot_size", 20}, {"ip_address", "10.0.0.1"}};
    auto drift = drifted_attributes(schema_of(Kind::machine), machine_spec(), observed, {});
    REQUIRE(drift.size() == 2);
    CHECK(drift[0].field == "memory");
    CHECK(drift[0].state == 2048);
    CHECK(drift[0].real == 4096);
    CHECK(drift[1].field == "vcpus");
    CHECK(drift[1].state == 2);
    CHECK(drift[1].real == 4);
    // description and labels are not reported, so they never drift
    CHECK(drifted_attributes(schema_of(Kind::machine), machine_spec(),
                             {{"description", "other"}, {"labels", json::object()}}, {})
              .size() == 1);
  }

  TEST_CASE("labels never drift, nor a string the provider chose") {
    json bucket = {{"name", "logs"},
                   {"region", ""},
                   {"versioning", "enabled"},
                   {"tags", json::object()},
                   {"labels", json::object()}};
    json observed = {{"name", "logs"},
                     {"region", "us-east-1"},
                     {"versioning", "enabled"},
                     {"tags", json::object()},
                     {"labels", {{"x", "y"}}}};
    CHECK(drifted_attributes(schema_of(Kind::bucket), bucket, observed, {}).empty());
    observed["versioning"] = "suspended";
    auto drift = drifted_attributes(schema_of(Kind::bucket), bucket, observed, {});
    REQUIRE(drift.size() == 1);
    CHECK(drift[0].field == "versioning");
  }

  TEST_CASE("a field reported as null drifts from a value") {
    json backup = {{"name", "nightly"}, {"schedule", "daily at 02:00"}, {"enabled", true}};
    auto drift = drifted_attributes(schema_of(Kind::backup), backup,
                                    {{"schedule", nullptr}, {"enabled", true}}, {});
    REQUIRE(drift.size() == 1);
    CHECK(drift[0].field == "schedule");
    CHECK(drift[0].real.is_null());
  }

  TEST_CASE("ignored fields neither drift nor take the real value") {
    json observed = {{"memory", 4096}, {"vcpus", 4}};
    auto drift = drifted_attributes(schema_of(Kind::machine), machine_spec(), observed, {"memory"});
    REQUIRE(drift.size() == 1);
    CHECK(drift[0].field == "vcpus");
    json real = real_spec(schema_of(Kind::machine), machine_spec(), observed, {"memory"});
    CHECK(real["memory"] == 2048);
    CHECK(real["vcpus"] == 4);
    CHECK(real["labels"] == json{{"team", "web"}});
    CHECK(real["description"] == "web");
  }

  TEST_CASE("--ignore takes a field of any kind, or one of a kind by name or alias") {
    auto any = parse_ignored_fields({"name"});
    CHECK(any.size() == 4); // every kind has a name
    auto one = parse_ignored_fields({"machine.memory", "s3.tags", "memory"});
    CHECK(one.size() == 2);
    CHECK(one.at(Kind::machine) == std::vector<std::string>{"memory"});
    CHECK(one.at(Kind::bucket) == std::vector<std::string>{"tags"});
  }

  TEST_CASE("--ignore refuses a field no kind has, with a suggestion") {
    CHECK(usage_error({"memroy"}) ==
          "--ignore memroy: no kind has a field \"memroy\"; did you mean \"memory\"?");
    CHECK(usage_error({"machine.memroy"}) ==
          "--ignore machine.memroy: kind machine has no field \"memroy\"; did you mean "
          "\"machine.memory\"?");
    CHECK(usage_error({"vm.memory"}) == "--ignore vm.memory: no kind is called \"vm\"");
  }

  TEST_CASE("the report renders changed, deleted and unmanaged objects") {
    DriftReport report;
    ResourceDrift changed;
    changed.address = R"(cloud_space["web"].machine["app"])";
    changed.kind = Kind::machine;
    changed.provider = "ovc";
    changed.remote_id = "7";
    changed.attributes = {{"memory", 2048, 4096}, {"vcpus", 2, 4}};
    ResourceDrift deleted;
    deleted.address = R"(bucket["logs"])";
    deleted.kind = Kind::bucket;
    deleted.provider = "s3";
    deleted.remote_id = "logs";
    deleted.deleted = true;
    report.drift = {changed, deleted};
    report.unmanaged = {{R"(cloud_space["web"])", Kind::machine, "ovc", "9", "rogue"}};
    CHECK(render_drift(report, RenderOptions{}) == R"(Objects have changed outside of Stove

Stove found these changes made since the last apply, outside of Stove:

  # cloud_space["web"].machine["app"] has changed
  ~ machine [id=7] {
      ~ memory = 2048 -> 4096
      ~ vcpus  = 2 -> 4
    }

  # bucket["logs"] has been deleted
  - bucket [id=logs]

Objects Stove does not manage, inside resources it does

Stove leaves them alone; import them to manage them (stove import):

  ? cloud_space["web"]: machine "rogue" [id=9]
)");
    json j = json::parse(drift_to_json(report).dump());
    CHECK(j == json::parse(R"({"format_version": 1,
      "drift": [
        {"address": "cloud_space[\"web\"].machine[\"app\"]", "kind": "machine", "provider": "ovc",
         "remote_id": "7", "change": "changed",
         "attributes": {"memory": {"state": 2048, "real": 4096},
                        "vcpus": {"state": 2, "real": 4}}},
        {"address": "bucket[\"logs\"]", "kind": "bucket", "provider": "s3", "remote_id": "logs",
         "change": "deleted", "attributes": {}}],
      "unmanaged": [{"parent": "cloud_space[\"web\"]", "kind": "machine", "provider": "ovc",
                     "remote_id": "9", "name": "rogue"}]})"));
    CHECK(render_drift(DriftReport{}, RenderOptions{}).empty());
  }
}
