// Buckets against a real protocol peer: the built stove binary and its `s3`
// provider against s3rver 3.7.1 (an S3 server in Node.js), behind
// tests/node/s3-verify.js, which checks every request's Signature V4 with
// AWS's own signer (@smithy/signature-v4) before s3rver sees it.
//
// Needs node and tests/node/node_modules (`npm ci --prefix tests/node`;
// .ci/deps installs both). Without them these tests fail, saying so: they
// never pass by skipping.

#include "support/background.hpp"
#include "support/node.hpp"
#include "support/run.hpp"
#include "support/s3_client.hpp"
#include "support/temp_dir.hpp"

#include "providers/s3_xml.hpp"
#include "providers/sigv4.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

using namespace stove::test;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string k_key_id = "STOVETESTKEYID";
const std::string k_secret = "stove-test-secret-0123456789";
// node tests/node/s3-verify.js, on ephemeral loopback ports, its buckets in
// `directory`.
class S3Verify {
public:
  S3Verify(const std::string& directory, const std::string& log) {
    const std::string node = require_node({"s3rver", "@smithy/signature-v4", "@smithy/hash-node"});
    const std::string script = node_script("s3-verify.js");
    m_process = std::make_unique<Background>(
        node,
        std::vector<std::string>{script, "--directory", directory, "--access-key-id", k_key_id,
                                 "--secret-access-key", k_secret},
        RunOptions{}, log);
    auto line = m_process->read_line(std::chrono::seconds(60));
    REQUIRE_MESSAGE(line.has_value(), "s3-verify.js did not start: ", m_process->err());
    const std::string prefix = "s3-verify: listening on http://127.0.0.1:";
    REQUIRE_MESSAGE(line->rfind(prefix, 0) == 0, "unexpected first line: ", *line);
    m_port = std::stoi(line->substr(prefix.size()));
    m_url = fmt::format("http://127.0.0.1:{}", m_port);
  }

  const std::string& url() const { return m_url; }

  // {"requests", "verified", "rejected"}.
  Json counters() const {
    httplib::Client client("127.0.0.1", m_port);
    auto res = client.Get("/__verify/counters");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    return Json::parse(res->body);
  }

  // What it wrote on standard error: each refusal, with the reason.
  std::string log() const { return m_process->err(); }

private:
  std::unique_ptr<Background> m_process;
  int m_port = 0;
  std::string m_url;
};

struct Bucket {
  std::string name;
  std::string extra; // more YAML flow-mapping entries, e.g. "versioning: enabled"
};

struct World {
  TempDir dir;
  std::string data = (dir / "s3rver").string();
  S3Verify verify{data, (dir / "s3-verify.log").string()};
  std::string file = (dir / "infra.yaml").string();
  std::string state = (dir / "infra.state.json").string();
  std::string secret = k_secret; // what stove is given

  void write(const std::vector<Bucket>& buckets) const {
    std::string out = fmt::format(R"(providers:
  objects:
    type: s3
    endpoint: {}
    access_key_env: STOVE_TEST_S3_KEY
    secret_key_env: STOVE_TEST_S3_SECRET
resources:
)",
                                  verify.url());
    for (const auto& b : buckets) {
      out += fmt::format("  - {{type: bucket, name: {}{}{}}}\n", b.name,
                         b.extra.empty() ? "" : ", ", b.extra);
    }
    dir.write("infra.yaml", out);
  }

  RunResult stove(const std::vector<std::string>& args) const {
    RunOptions options;
    options.env["STOVE_TEST_S3_KEY"] = k_key_id;
    options.env["STOVE_TEST_S3_SECRET"] = secret;
    return run_stove(args, options);
  }

  RunResult apply() const {
    return stove({"--no-color", "apply", "--auto-approve", "--state", state, file});
  }
  RunResult destroy() const {
    return stove({"--no-color", "destroy", "--auto-approve", "--state", state, file});
  }
  int plan_exit() const {
    return stove({"plan", "--detailed-exitcode", "--state", state, file}).exit_code;
  }

  Json state_json() const { return Json::parse(read_file(state)); }

  // address -> the state's record
  std::map<std::string, Json> resources() const {
    std::map<std::string, Json> out;
    const Json s = state_json();
    for (const auto& r : s.at("resources")) {
      out[r.at("address").get<std::string>()] = r;
    }
    return out;
  }

  // s3rver's buckets, asked through the verifier (signed by stove's code).
  std::set<std::string> listed() const {
    S3Client client(verify.url(), k_key_id, k_secret);
    return client.buckets();
  }

  // s3rver's buckets as directories in its data directory.
  std::set<std::string> on_disk() const {
    std::set<std::string> out;
    if (fs::exists(data)) {
      for (const auto& entry : fs::directory_iterator(data)) {
        if (entry.is_directory()) {
          out.insert(entry.path().filename().string());
        }
      }
    }
    return out;
  }
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

Json plain(const std::string& name) {
  return {{"name", name},
          {"region", "us-east-1"},
          {"versioning", "suspended"},
          {"tags", Json::object()}};
}

} // namespace

TEST_SUITE("buckets against s3rver behind a Signature V4 verifier") {
  TEST_CASE("apply creates buckets, plan is clean, a removed one is deleted, destroy the rest") {
    World w;
    const std::string alpha = R"(bucket["alpha"])";
    const std::string beta = R"(bucket["beta"])";

    w.write({{"alpha", ""}, {"beta", "versioning: suspended"}});
    RunResult created = w.apply();
    INFO(created.out, created.err, w.verify.log());
    REQUIRE(created.exit_code == 0);
    CHECK(contains(created.out, "Apply complete! Resources: 2 added, 0 changed, 0 destroyed.\n"));
    auto resources = w.resources();
    REQUIRE(resources.size() == 2);
    for (const auto& [address, name] : {std::pair{alpha, "alpha"}, std::pair{beta, "beta"}}) {
      const Json& r = resources.at(address);
      CHECK(r.at("kind") == "bucket");
      CHECK(r.at("provider") == "objects");
      CHECK(r.at("remote_id") == name);
      CHECK(r.at("status") == "completed");
      CHECK(r.at("observed") == plain(name));
    }
    CHECK(w.listed() == std::set<std::string>{"alpha", "beta"});
    CHECK(w.on_disk() == std::set<std::string>{"alpha", "beta"});

    RunResult planned =
        w.stove({"--no-color", "plan", "--detailed-exitcode", "--state", w.state, w.file});
    INFO(planned.out, planned.err);
    CHECK(planned.exit_code == 0);
    CHECK(contains(planned.out, "No changes."));

    // beta leaves the file: it is deleted.
    w.write({{"alpha", ""}});
    RunResult removed = w.apply();
    INFO(removed.out, removed.err);
    REQUIRE(removed.exit_code == 0);
    CHECK(contains(removed.out, "Apply complete! Resources: 0 added, 0 changed, 1 destroyed.\n"));
    CHECK(w.listed() == std::set<std::string>{"alpha"});
    CHECK(w.on_disk() == std::set<std::string>{"alpha"});
    resources = w.resources();
    REQUIRE(resources.size() == 1);
    CHECK(resources.count(alpha) == 1);
    CHECK(w.plan_exit() == 0);

    RunResult destroyed = w.destroy();
    INFO(destroyed.out, destroyed.err);
    REQUIRE(destroyed.exit_code == 0);
    CHECK(contains(destroyed.out, "Destroy complete! Resources: 1 destroyed.\n"));
    CHECK(w.listed().empty());
    CHECK(w.on_disk().empty());
    CHECK(w.state_json().at("resources").empty());
    CHECK(w.plan_exit() == 2);

    // Every request was signed right, and the verifier saw them all.
    Json counters = w.verify.counters();
    INFO(counters.dump());
    CHECK(counters.at("requests").get<int>() > 0);
    CHECK(counters.at("verified") == counters.at("requests"));
    CHECK(counters.at("rejected") == 0);
  }

  TEST_CASE("a wrong secret key is refused by the verifier with a clear 403 signature message") {
    World w;
    w.secret = "not-the-secret-4711";
    w.write({{"alpha", ""}});
    RunResult refused = w.apply();
    INFO(refused.out, refused.err, w.verify.log());
    CHECK(refused.exit_code == 1);
    CHECK(contains(refused.out,
                   "  failed:      bucket[\"alpha\"]: PUT bucket alpha: 403 SignatureDoesNotMatch: "
                   "The request signature we calculated does not match the signature you "
                   "provided. Check your key and signing method. (check the keys in "
                   "STOVE_TEST_S3_KEY and STOVE_TEST_S3_SECRET)\n"));
    CHECK_FALSE(contains(refused.out, w.secret));
    CHECK_FALSE(contains(refused.err, w.secret));
    // The HEAD before the PUT and the PUT: both refused, neither reached s3rver.
    Json counters = w.verify.counters();
    CHECK(counters == Json{{"requests", 2}, {"verified", 0}, {"rejected", 2}});
    CHECK(contains(w.verify.log(), "s3-verify: refused PUT /alpha: SignatureDoesNotMatch: "));
    CHECK(w.on_disk().empty());
    // Refused before anything was made: nothing recorded.
    CHECK(w.state_json().at("resources").empty());
    CHECK(w.listed().empty()); // with the right key: verified
    CHECK(w.verify.counters() == Json{{"requests", 3}, {"verified", 1}, {"rejected", 2}});
  }

  TEST_CASE("the verifier refuses unsigned, tampered and wrongly keyed requests before s3rver") {
    World w;
    S3Client right(w.verify.url(), k_key_id, k_secret);
    REQUIRE(right.send("PUT", "/epsilon").status == 200);

    auto code = [](const stove::http::Response& r) {
      auto e = stove::providers::s3xml::parse_error(r.body);
      return e ? e->code : std::string();
    };
    // No Authorization header.
    httplib::Client plain("127.0.0.1",
                          std::stoi(w.verify.url().substr(w.verify.url().rfind(':') + 1)));
    auto unsigned_put = plain.Put("/zeta", "", "application/xml");
    REQUIRE(unsigned_put);
    CHECK(unsigned_put->status == 403);
    CHECK(unsigned_put->body.find("<Code>SignatureDoesNotMatch</Code>") != std::string::npos);
    // A body other than the one signed.
    {
      stove::http::Request request;
      request.method = "PUT";
      request.url = fmt::format("{}/epsilon/a.txt", w.verify.url());
      request.body = "signed";
      stove::providers::sigv4::sign_request(request, {k_key_id, k_secret, ""}, "us-east-1", "s3",
                                            std::chrono::system_clock::now());
      request.body = "sent";
      stove::http::ClientOptions o;
      o.retry.max_attempts = 1;
      stove::http::Client client(o);
      auto r = client.send(request);
      CHECK(r.status == 400);
      CHECK(code(r) == "XAmzContentSHA256Mismatch");
    }
    // Another secret, another key id.
    S3Client wrong_secret(w.verify.url(), k_key_id, "guess");
    auto r = wrong_secret.send("PUT", "/zeta");
    CHECK(r.status == 403);
    CHECK(code(r) == "SignatureDoesNotMatch");
    S3Client wrong_key(w.verify.url(), "SOMEONEELSE", k_secret);
    r = wrong_key.send("PUT", "/zeta");
    CHECK(r.status == 403);
    CHECK(code(r) == "InvalidAccessKeyId");

    CHECK(w.on_disk() == std::set<std::string>{"epsilon"});
    CHECK(w.verify.counters() == Json{{"requests", 5}, {"verified", 1}, {"rejected", 4}});
  }

  TEST_CASE("what s3rver lacks (versioning, tags) fails clearly, the defaults keep working") {
    World w;
    const std::string gamma = R"(bucket["gamma"])";

    // Versioning enabled: the bucket is made, then refused before any
    // PUT ?versioning (which s3rver would read as CreateBucket).
    w.write({{"gamma", "versioning: enabled"}});
    RunResult enabled = w.apply();
    INFO(enabled.out, enabled.err);
    CHECK(enabled.exit_code == 1);
    CHECK(contains(enabled.out,
                   "  failed:      bucket[\"gamma\"]: bucket gamma: the S3 server does not "
                   "implement bucket versioning, so versioning: enabled cannot be applied (GET "
                   "bucket gamma?versioning: 200 with a ListBucketResult document, not a "
                   "VersioningConfiguration)\n"));
    auto resources = w.resources();
    REQUIRE(resources.count(gamma) == 1);
    CHECK(resources.at(gamma).at("status") == "failed");
    CHECK(resources.at(gamma).at("remote_id") == "");
    CHECK(w.listed() == std::set<std::string>{"gamma"});

    // The defaults: the next apply takes over the bucket the failed one made.
    w.write({{"gamma", ""}});
    RunResult adopted = w.apply();
    INFO(adopted.out, adopted.err);
    REQUIRE(adopted.exit_code == 0);
    CHECK(contains(adopted.out,
                   "bucket[\"gamma\"] will be created (its last create did not complete)\n"));
    CHECK(contains(adopted.out, "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.\n"));
    resources = w.resources();
    CHECK(resources.at(gamma).at("status") == "completed");
    CHECK(resources.at(gamma).at("remote_id") == "gamma");
    CHECK(resources.at(gamma).at("observed") == plain("gamma"));
    CHECK(w.plan_exit() == 0);

    // Tags: an update in place the server cannot do; the state keeps the
    // bucket as it was.
    w.write({{"gamma", "tags: {team: web}"}});
    RunResult tagged = w.apply();
    INFO(tagged.out, tagged.err);
    CHECK(tagged.exit_code == 1);
    CHECK(contains(tagged.out,
                   "  failed:      bucket[\"gamma\"]: bucket gamma: the S3 server does not "
                   "implement bucket tagging, so tags cannot be applied (GET bucket gamma?tagging: "
                   "501 NotImplemented: A parameter you provided implies functionality that is not "
                   "implemented)\n"));
    resources = w.resources();
    CHECK(resources.at(gamma).at("observed") == plain("gamma"));
    CHECK(resources.at(gamma).at("spec").at("tags") == Json::object());

    // A bucket made outside stove is not taken over.
    S3Client outside(w.verify.url(), k_key_id, k_secret);
    REQUIRE(outside.send("PUT", "/delta").status == 200);
    w.write({{"gamma", ""}, {"delta", ""}});
    RunResult taken = w.apply();
    INFO(taken.out, taken.err);
    CHECK(taken.exit_code == 1);
    CHECK(contains(taken.out, "  failed:      bucket[\"delta\"]: bucket delta already exists and "
                              "stove does not manage it; rename the resource, or delete the "
                              "existing bucket\n"));
    // Nothing recorded for it, so that no later run adopts or destroys it.
    CHECK(w.resources().count(R"(bucket["delta"])") == 0);
    RunResult again = w.apply();
    INFO(again.out, again.err);
    CHECK(again.exit_code == 1);
    CHECK(contains(again.out, "  failed:      bucket[\"delta\"]: bucket delta already exists and "
                              "stove does not manage it"));

    w.write({{"gamma", ""}});
    RunResult destroyed = w.destroy();
    INFO(destroyed.out, destroyed.err);
    REQUIRE(destroyed.exit_code == 0);
    CHECK(w.listed() == std::set<std::string>{"delta"});
    Json counters = w.verify.counters();
    CHECK(counters.at("verified") == counters.at("requests"));
    CHECK(counters.at("rejected") == 0);
  }
}
