// A bucket's life end to end: the built binary against `stove sandbox serve`,
// whose S3 checks every request's signature, keeps versioning and tags, and
// refuses to delete a bucket holding objects. What the sandbox holds is read
// from its data file (data_dir/s3.json, written before it answers) and with
// signed requests of the test's own.

#include "support/background.hpp"
#include "support/run.hpp"
#include "support/s3_client.hpp"
#include "support/temp_dir.hpp"

#include "providers/s3_xml.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

using namespace stove::test;
using Json = nlohmann::json;

namespace {

struct World {
  TempDir dir;
  std::string data = (dir / "cloud").string();
  SandboxProcess sandbox{data};
  std::string file = (dir / "infra.yaml").string();
  std::string state = (dir / "infra.state.json").string();

  // One bucket, `key: main` so that its address stays while its name
  // changes. `fields`: more YAML flow-mapping entries.
  void write(const std::string& name, const std::string& fields) const {
    dir.write("infra.yaml", fmt::format(R"(providers:
  sb:
    type: sandbox
    endpoint: {}
resources:
  - {{type: bucket, key: main, name: {}, {}}}
)",
                                        sandbox.url(), name, fields));
  }

  RunResult stove(const std::vector<std::string>& args) const {
    RunOptions options;
    options.env["STOVE_SANDBOX_TOKEN"] = sandbox.token();
    return run_stove(args, options);
  }
  RunResult apply() const {
    return stove({"--no-color", "apply", "--auto-approve", "--state", state, file});
  }
  RunResult plan() const { return stove({"--no-color", "plan", "--state", state, file}); }
  int plan_exit() const {
    return stove({"plan", "--detailed-exitcode", "--state", state, file}).exit_code;
  }

  // The state's record of bucket["main"].
  Json record() const {
    Json s = Json::parse(read_file(state));
    REQUIRE(s.at("resources").size() == 1);
    const Json& r = s.at("resources").at(0);
    REQUIRE(r.at("address") == R"(bucket["main"])");
    return r;
  }

  // The sandbox's buckets by name, from its data file.
  std::map<std::string, Json> stored() const {
    Json document = Json::parse(read_file(dir / "cloud" / "s3.json"));
    std::map<std::string, Json> out;
    for (const auto& b : document.at("buckets")) {
      out[b.at("name").get<std::string>()] = b;
    }
    return out;
  }

  S3Client client(const std::string& region = "us-east-1") const {
    return S3Client(fmt::format("{}/s3", sandbox.url()), "sandbox", sandbox.token(), region);
  }
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace

TEST_SUITE("buckets against stove sandbox serve") {
  TEST_CASE("a bucket is created, changed in place, replaced by a rename, and kept while it "
            "holds an object") {
    World w;

    // 1. create
    w.write("logs", "versioning: suspended, tags: {team: web}");
    RunResult created = w.apply();
    INFO(created.out, created.err);
    REQUIRE(created.exit_code == 0);
    CHECK(contains(created.out, "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.\n"));
    Json r = w.record();
    CHECK(r.at("remote_id") == "logs");
    CHECK(r.at("status") == "completed");
    CHECK(r.at("observed") == Json{{"name", "logs"},
                                   {"region", "us-east-1"},
                                   {"versioning", "suspended"},
                                   {"tags", {{"team", "web"}}}});
    auto stored = w.stored();
    REQUIRE(stored.size() == 1);
    CHECK(stored.at("logs").at("versioning") == ""); // never set: suspended is the default
    CHECK(stored.at("logs").at("tags") == Json{{"team", "web"}});
    CHECK(w.plan_exit() == 0);

    // 2. versioning and tags change in place
    w.write("logs", "versioning: enabled, tags: {team: data, env: prod}");
    RunResult planned = w.plan();
    INFO(planned.out, planned.err);
    CHECK(planned.exit_code == 0);
    CHECK(contains(planned.out, "bucket[\"main\"] will be updated in-place\n"));
    CHECK(contains(planned.out, "Plan: 0 to add, 1 to change, 0 to destroy."));
    RunResult updated = w.apply();
    INFO(updated.out, updated.err);
    REQUIRE(updated.exit_code == 0);
    CHECK(contains(updated.out, "Apply complete! Resources: 0 added, 1 changed, 0 destroyed.\n"));
    stored = w.stored();
    CHECK(stored.at("logs").at("versioning") == "Enabled");
    CHECK(stored.at("logs").at("tags") == Json{{"env", "prod"}, {"team", "data"}});
    S3Client client = w.client();
    auto versioning = client.send("GET", "/logs?versioning");
    CHECK(versioning.status == 200);
    CHECK(stove::providers::s3xml::text(versioning.body, "Status") ==
          std::optional<std::string>("Enabled"));
    r = w.record();
    CHECK(r.at("remote_id") == "logs");
    CHECK(r.at("observed") == Json{{"name", "logs"},
                                   {"region", "us-east-1"},
                                   {"versioning", "enabled"},
                                   {"tags", {{"env", "prod"}, {"team", "data"}}}});
    CHECK(w.plan_exit() == 0);

    // 3. a new name replaces the bucket
    w.write("logs-v2", "versioning: enabled, tags: {team: data, env: prod}");
    planned = w.plan();
    INFO(planned.out, planned.err);
    CHECK(contains(planned.out, "bucket[\"main\"] must be replaced\n"));
    CHECK(contains(planned.out, "Plan: 1 to add, 0 to change, 1 to destroy."));
    RunResult replaced = w.apply();
    INFO(replaced.out, replaced.err);
    REQUIRE(replaced.exit_code == 0);
    CHECK(contains(replaced.out, "Apply complete! Resources: 1 added, 0 changed, 1 destroyed.\n"));
    stored = w.stored();
    REQUIRE(stored.size() == 1);
    REQUIRE(stored.count("logs-v2") == 1);
    CHECK(stored.at("logs-v2").at("versioning") == "Enabled");
    CHECK(client.buckets() == std::set<std::string>{"logs-v2"});
    r = w.record();
    CHECK(r.at("remote_id") == "logs-v2");
    CHECK(w.plan_exit() == 0);

    // 4. a bucket holding an object is not deleted, and stays in the state
    REQUIRE(client.send("PUT", "/logs-v2/reports/2024.csv", "a,b\n").status == 200);
    const Json before = w.record();
    const std::string failure =
        "  failed:      bucket[\"main\"]: bucket logs-v2 is not empty; empty it first (stove does "
        "not delete objects), then apply again\n";
    RunResult destroyed =
        w.stove({"--no-color", "destroy", "--auto-approve", "--state", w.state, w.file});
    INFO(destroyed.out, destroyed.err);
    CHECK(destroyed.exit_code == 1);
    CHECK(contains(destroyed.out, failure));
    CHECK(contains(destroyed.out, "Destroy incomplete! Resources: 0 added, 0 changed, 0 "
                                  "destroyed; 1 failed, 0 skipped.\n"));
    Json after = w.record();
    CHECK(after == before);
    CHECK(w.stored().at("logs-v2").at("objects") == Json::array({"reports/2024.csv"}));

    // Removing it from the file: the same.
    w.dir.write("infra.yaml", fmt::format("providers:\n  sb: {{type: sandbox, endpoint: {}}}\n"
                                          "resources: []\n",
                                          w.sandbox.url()));
    RunResult removed = w.apply();
    INFO(removed.out, removed.err);
    CHECK(removed.exit_code == 1);
    CHECK(contains(removed.out, failure));
    after = w.record();
    CHECK(after == before);

    // Emptied, it goes.
    REQUIRE(client.send("DELETE", "/logs-v2/reports/2024.csv").status == 204);
    RunResult finished = w.apply();
    INFO(finished.out, finished.err);
    CHECK(finished.exit_code == 0);
    CHECK(contains(finished.out, "Apply complete! Resources: 0 added, 0 changed, 1 destroyed.\n"));
    CHECK(w.stored().empty());
    CHECK(Json::parse(read_file(w.state)).at("resources").empty());
  }

  TEST_CASE("a bucket in another region than the provider's is created, read and deleted there, "
            "and moving it to a third region replaces it") {
    World w;
    // The sandbox provider signs for us-east-1; the bucket lives in eu-west-1.
    w.write("eu-logs", "region: eu-west-1, versioning: enabled, tags: {team: web}");
    RunResult created = w.apply();
    INFO(created.out, created.err);
    REQUIRE(created.exit_code == 0);
    CHECK(contains(created.out, "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.\n"));
    auto stored = w.stored();
    REQUIRE(stored.count("eu-logs") == 1);
    CHECK(stored.at("eu-logs").at("region") == "eu-west-1");
    CHECK(stored.at("eu-logs").at("versioning") == "Enabled");
    CHECK(stored.at("eu-logs").at("tags") == Json{{"team", "web"}});
    CHECK(w.record().at("observed") == Json{{"name", "eu-logs"},
                                            {"region", "eu-west-1"},
                                            {"versioning", "enabled"},
                                            {"tags", {{"team", "web"}}}});
    CHECK(w.plan_exit() == 0);

    // What a client signing for the provider's region meets, as stove did
    // before: AWS's 301 from another region's endpoint.
    auto moved = w.client().send("GET", "/eu-logs?versioning");
    CHECK(moved.status == 301);
    CHECK(moved.header("x-amz-bucket-region") == std::optional<std::string>("eu-west-1"));
    auto error = stove::providers::s3xml::parse_error(moved.body);
    REQUIRE(error.has_value());
    CHECK(error->code == "PermanentRedirect");
    auto there = w.client("eu-west-1").send("GET", "/eu-logs?versioning");
    CHECK(there.status == 200);
    CHECK(stove::providers::s3xml::text(there.body, "Status") ==
          std::optional<std::string>("Enabled"));

    // Tags change in place, still signed for eu-west-1.
    w.write("eu-logs", "region: eu-west-1, versioning: enabled, tags: {team: data}");
    RunResult updated = w.apply();
    INFO(updated.out, updated.err);
    REQUIRE(updated.exit_code == 0);
    CHECK(contains(updated.out, "Apply complete! Resources: 0 added, 1 changed, 0 destroyed.\n"));
    CHECK(w.stored().at("eu-logs").at("tags") == Json{{"team", "data"}});

    // Another region: a replacement (delete in eu-west-1, create in
    // ap-south-1 under the same name).
    w.write("eu-logs", "region: ap-south-1, versioning: enabled, tags: {team: data}");
    RunResult planned = w.plan();
    INFO(planned.out, planned.err);
    CHECK(contains(planned.out, "bucket[\"main\"] must be replaced\n"));
    RunResult replaced = w.apply();
    INFO(replaced.out, replaced.err);
    REQUIRE(replaced.exit_code == 0);
    CHECK(contains(replaced.out, "Apply complete! Resources: 1 added, 0 changed, 1 destroyed.\n"));
    stored = w.stored();
    REQUIRE(stored.size() == 1);
    CHECK(stored.at("eu-logs").at("region") == "ap-south-1");
    CHECK(w.record().at("observed").at("region") == "ap-south-1");
    CHECK(w.plan_exit() == 0);

    RunResult destroyed =
        w.stove({"--no-color", "destroy", "--auto-approve", "--state", w.state, w.file});
    INFO(destroyed.out, destroyed.err);
    CHECK(destroyed.exit_code == 0);
    CHECK(w.stored().empty());
  }

  TEST_CASE("a region that cannot work is refused by validate, naming its place") {
    World w;
    w.write("My_Logs", "region: eu-west-1");
    RunResult checked = w.stove({"--no-color", "validate", w.file});
    CHECK(checked.exit_code != 0);
    CHECK(contains(checked.err,
                   fmt::format("{}:6:54: error: bucket \"My_Logs\": bucket name \"My_Logs\" "
                               "follows S3's legacy rules, which only us-east-1 ever took; region "
                               "eu-west-1 needs a name under S3's current rules\n",
                               w.file)));
    CHECK(w.stored().empty());
  }
}
