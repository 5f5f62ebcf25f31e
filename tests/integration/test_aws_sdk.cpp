// The sandbox's S3 against AWS's own client: tests/node/s3-sdk-check.js
// drives `stove sandbox serve` with @aws-sdk/client-s3 (pinned in
// tests/node/package.json), through create, head, location, versioning,
// tagging, listing, objects and delete of buckets in three regions, and the
// errors AWS gives, comparing every answer with what the SDK takes from AWS.
//
// Needs node 18 or later (the SDK's engines; Debian 12's nodejs is 18) and
// tests/node/node_modules
// (`npm ci --prefix tests/node`; .ci/deps installs both). Without them
// these tests fail, saying so: they never pass by skipping.

#include "support/background.hpp"
#include "support/node.hpp"
#include "support/run.hpp"
#include "support/s3_client.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using namespace stove::test;
using Json = nlohmann::json;

namespace {

constexpr int k_sdk_node_major = 18;  // @aws-sdk/client-s3's "engines"

struct World {
  TempDir dir;
  SandboxProcess sandbox{(dir / "cloud").string()};
  std::string node = require_node({"@aws-sdk/client-s3"}, k_sdk_node_major);

  RunResult check(const std::string& secret) const {
    RunOptions options;
    // The SDK warns that later releases will need a newer node; the pinned
    // one does not.
    options.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true";
    return run_program(node,
                       {node_script("s3-sdk-check.js"), "--endpoint",
                        fmt::format("{}/s3", sandbox.url()), "--access-key-id", "sandbox",
                        "--secret-access-key", secret},
                       options);
  }

  // The sandbox's buckets, from its data file.
  Json buckets() const { return Json::parse(read_file(dir / "cloud" / "s3.json")).at("buckets"); }
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace

TEST_SUITE("the sandbox's S3 against AWS's JavaScript SDK") {
  TEST_CASE("@aws-sdk/client-s3 gets AWS's answers for buckets, in three regions, and AWS's "
            "errors") {
    World w;
    RunResult r = w.check(w.sandbox.token());
    INFO(r.out, r.err);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "s3-sdk-check: 46 checks passed\n"));
    CHECK(r.err.empty());
    // It deleted what it made.
    CHECK(w.buckets() == Json::array());
  }

  TEST_CASE("the check fails, naming the mismatch, when the sandbox answers otherwise") {
    World w;
    // A bucket the check means to create, there already in eu-west-1:
    // CreateBucket answers BucketAlreadyOwnedByYou, not what it expects.
    S3Client eu(fmt::format("{}/s3", w.sandbox.url()), "sandbox", w.sandbox.token(), "eu-west-1");
    REQUIRE(eu.send("PUT", "/sdk-eu",
                    "<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint>"
                    "</CreateBucketConfiguration>")
                .status == 200);
    RunResult r = w.check(w.sandbox.token());
    INFO(r.out, r.err);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "s3-sdk-check: FAIL CreateBucket from a client in eu-west-1: expected "
                          "{\"output\":{\"Location\":\"http://sdk-eu.s3.amazonaws.com/\"},"
                          "\"status\":200}, got {\"error\":\"BucketAlreadyOwnedByYou\""));
    CHECK_FALSE(contains(r.out, "checks passed"));
  }
}
