// The S3 adapter against the sandbox's S3 (lib/sandbox/s3), in process:
// buckets created, read, updated in place and deleted through the sandbox
// provider, checked with signed requests of the test's own.

#include "util/error.hpp"
#include "providers/provider.hpp"
#include "providers/s3.hpp"
#include "providers/s3_xml.hpp"
#include "providers/sandbox_provider.hpp"
#include "providers/sigv4.hpp"
#include "sandbox/server.hpp"
#include "support/temp_dir.hpp"
#include "unit/providers/fake_s3.hpp"
#include "unit/providers/provider_fixtures.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

using namespace stove;
using namespace stove::providers;
using nlohmann::json;

namespace {

sandbox::Options sandbox_options(const test::TempDir& dir) {
  sandbox::Options o;
  o.data_dir = (dir / "cloud").string();
  o.threads = 4;
  o.deploy_delay = std::chrono::milliseconds(0);
  return o;
}

ProviderConfig sandbox_config(const sandbox::Server& server) {
  ProviderConfig config;
  config.name = "sandbox";
  config.type = "sandbox";
  config.endpoint = server.url();
  return config;
}

std::unique_ptr<Provider> sandbox_provider(const sandbox::Server& server,
                                           std::map<std::string, std::string> env = {}) {
  return make_sandbox_provider(sandbox_config(server),
                               test::provider_options(test::fake_environment(std::move(env))));
}

Target bucket(std::string name, std::string versioning = "suspended", json tags = json::object(),
              std::string region = "") {
  Target t;
  t.kind = Kind::bucket;
  t.address = fmt::format("bucket[{}]", json(name).dump());
  t.spec = {{"name", std::move(name)},
            {"region", std::move(region)},
            {"versioning", std::move(versioning)},
            {"tags", std::move(tags)},
            {"labels", json::object()}};
  return t;
}

// Signed requests of the test's own, to check what the sandbox holds.
class Raw {
public:
  explicit Raw(const sandbox::Server& server, std::string secret = "sandbox",
               std::string region = "us-east-1")
    : m_url(fmt::format("{}/s3", server.url())), m_secret(std::move(secret)),
      m_region(std::move(region)), m_client([] {
        http::ClientOptions o;
        o.name = "raw";
        o.retry.max_attempts = 1;
        return o;
      }()) {}

  http::Response send(std::string method, std::string path, std::string body = {},
                      http::Headers headers = {}, bool sign = true) {
    http::Request request;
    request.method = std::move(method);
    request.url = fmt::format("{}{}", m_url, path);
    request.body = std::move(body);
    request.headers = std::move(headers);
    if (sign) {
      sigv4::sign_request(request, {"sandbox", m_secret, ""}, m_region, "s3",
                          std::chrono::system_clock::now());
    }
    return m_client.send(request);
  }

  std::string code(const http::Response& r) {
    auto e = s3xml::parse_error(r.body);
    return e ? e->code : std::string();
  }

private:
  std::string m_url;
  std::string m_secret;
  std::string m_region;
  http::Client m_client;
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ProviderError& e) {
    return e.what();
  }
  return "(no error)";
}

} // namespace

TEST_CASE("s3: a bucket is created with versioning and tags, read, updated in place and deleted") {
  test::TempDir dir;
  sandbox::Server server(sandbox_options(dir));
  server.start();
  auto provider = sandbox_provider(server);
  KindAdapter* buckets = provider->adapter(Kind::bucket);
  REQUIRE(buckets != nullptr);
  test::Notes notes;
  Raw raw(server);

  Target t = bucket("logs", "enabled", {{"env", "prod"}, {"team", "a&b <ops>"}});
  Remote created = buckets->create(t, notes.context());
  CHECK(created.remote_id == "logs");
  CHECK(created.observed == json{{"name", "logs"},
                                 {"region", "us-east-1"},
                                 {"versioning", "enabled"},
                                 {"tags", {{"env", "prod"}, {"team", "a&b <ops>"}}}});
  CHECK(notes.list().empty());

  // What the sandbox itself holds.
  auto versioning = raw.send("GET", "/logs?versioning");
  CHECK(versioning.status == 200);
  CHECK(s3xml::text(versioning.body, "Status") == std::optional<std::string>("Enabled"));
  auto tagging = raw.send("GET", "/logs?tagging");
  CHECK(tagging.status == 200);
  CHECK(tagging.body.find("<Tag><Key>team</Key><Value>a&amp;b &lt;ops&gt;</Value></Tag>") !=
        std::string::npos);
  auto location = raw.send("GET", "/logs?location");
  CHECK(location.status == 200);
  CHECK(s3xml::text(location.body, "LocationConstraint") == std::optional<std::string>(""));

  t.remote_id = "logs";
  auto read = buckets->read(t, notes.context());
  REQUIRE(read.has_value());
  CHECK(read->observed == created.observed);
  auto found = buckets->find(t, notes.context());
  REQUIRE(found.has_value());
  CHECK(found->remote_id == "logs");
  auto listed = buckets->list({}, notes.context());
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].remote_id == "logs");
  CHECK(listed[0].observed == json{{"name", "logs"}});

  // Versioning suspended, one tag changed, one dropped.
  Target changed = test::update_of(t, {{"versioning", "suspended"}, {"tags", {{"env", "staging"}}}},
                                   created.observed);
  Remote updated = buckets->update(changed, notes.context());
  CHECK(updated.observed == json{{"name", "logs"},
                                 {"region", "us-east-1"},
                                 {"versioning", "suspended"},
                                 {"tags", {{"env", "staging"}}}});
  CHECK(s3xml::text(raw.send("GET", "/logs?versioning").body, "Status") ==
        std::optional<std::string>("Suspended"));

  // No tags left: the tag set is deleted.
  Target untagged = test::update_of(changed, {{"tags", json::object()}}, updated.observed);
  Remote bare = buckets->update(untagged, notes.context());
  CHECK(bare.observed["tags"] == json::object());
  auto no_tags = raw.send("GET", "/logs?tagging");
  CHECK(no_tags.status == 404);
  CHECK(raw.code(no_tags) == "NoSuchTagSet");

  // Deleted, and deleting again is fine.
  buckets->destroy(untagged, notes.context());
  CHECK_FALSE(buckets->read(untagged, notes.context()).has_value());
  CHECK_FALSE(buckets->find(untagged, notes.context()).has_value());
  CHECK(raw.send("HEAD", "/logs").status == 404);
  buckets->destroy(untagged, notes.context());
  CHECK(buckets->list({}, notes.context()).empty());
}

TEST_CASE("s3: a bucket in another region sends its location constraint") {
  test::TempDir dir;
  sandbox::Server server(sandbox_options(dir));
  server.start();
  auto provider = sandbox_provider(server);
  test::Notes notes;
  Remote r = provider->adapter(Kind::bucket)
                 ->create(bucket("eu-data", "suspended", json::object(), "eu-west-1"),
                          notes.context());
  CHECK(r.observed == json{{"name", "eu-data"},
                           {"region", "eu-west-1"},
                           {"versioning", "suspended"},
                           {"tags", json::object()}});
  Raw raw(server, "sandbox", "eu-west-1");
  CHECK(s3xml::text(raw.send("GET", "/eu-data?location").body, "LocationConstraint") ==
        std::optional<std::string>("eu-west-1"));
  // Never versioned: GET ?versioning has no Status, which reads as suspended.
  CHECK(raw.send("GET", "/eu-data?versioning").body.find("<Status>") == std::string::npos);

  // Signed for the provider's region, as stove did before: AWS's answer to
  // a path-style request at another region's endpoint.
  Raw home(server);
  auto moved = home.send("GET", "/eu-data?versioning");
  CHECK(moved.status == 301);
  CHECK(moved.header("x-amz-bucket-region") == std::optional<std::string>("eu-west-1"));
  const std::string id = moved.header("x-amz-request-id").value_or("?");
  CHECK(moved.body ==
        fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>PermanentRedirect"
                    "</Code><Message>The bucket you are attempting to access must be addressed "
                    "using the specified endpoint. Please send all future requests to this "
                    "endpoint.</Message><Bucket>eu-data</Bucket><Endpoint>127.0.0.1:{}</Endpoint>"
                    "<RequestId>{}</RequestId><HostId>{}</HostId></Error>",
                    server.port(), id, moved.header("x-amz-id-2").value_or("?")));
  auto head = home.send("HEAD", "/eu-data");
  CHECK(head.status == 301);
  CHECK(head.body.empty());
  CHECK(head.header("x-amz-bucket-region") == std::optional<std::string>("eu-west-1"));
  // A credential scope that names no region: the bucket's is expected.
  Raw nowhere(server, "sandbox", "eu_west_1");
  auto malformed = nowhere.send("GET", "/eu-data?location");
  CHECK(malformed.status == 400);
  CHECK(nowhere.code(malformed) == "AuthorizationHeaderMalformed");
  CHECK(s3xml::parse_error(malformed.body)->message ==
        "The authorization header is malformed; the region 'eu_west_1' is wrong; expecting "
        "'eu-west-1'");
  CHECK(s3xml::parse_error(malformed.body)->region == "eu-west-1");
  // ListBuckets answers in any region, as every regional endpoint does.
  CHECK(raw.send("GET", "/").status == 200);
  CHECK(home.send("GET", "/").status == 200);
}

TEST_CASE("s3: the sandbox's CreateBucket takes the region rules of AWS's endpoints") {
  test::TempDir dir;
  sandbox::Server server(sandbox_options(dir));
  server.start();
  Raw home(server);
  Raw eu(server, "sandbox", "eu-west-1");
  auto config = [](const std::string& constraint) {
    return fmt::format("<CreateBucketConfiguration xmlns=\"{}\"><LocationConstraint>{}"
                       "</LocationConstraint></CreateBucketConfiguration>",
                       s3xml::k_namespace, constraint);
  };
  auto message = [](const http::Response& r) {
    auto e = s3xml::parse_error(r.body);
    return e ? fmt::format("{} {}: {}", r.status, e->code, e->message) : std::to_string(r.status);
  };
  // us-east-1's endpoint makes buckets anywhere; another region's only there.
  auto made_home = home.send("PUT", "/made-home");
  CHECK(made_home.status == 200);
  CHECK(made_home.header("Location") == std::optional<std::string>("/made-home"));
  auto made_far = home.send("PUT", "/made-far", config("ap-south-1"));
  CHECK(made_far.status == 200);
  CHECK(made_far.header("Location") ==
        std::optional<std::string>("http://made-far.s3.amazonaws.com/"));
  CHECK(eu.send("PUT", "/made-eu", config("eu-west-1")).status == 200);
  CHECK(message(eu.send("PUT", "/other", config("ap-south-1"))) ==
        "400 IllegalLocationConstraintException: The ap-south-1 location constraint is "
        "incompatible for the region specific endpoint this request was sent to.");
  CHECK(message(eu.send("PUT", "/other")) ==
        "400 IllegalLocationConstraintException: The unspecified location constraint is "
        "incompatible for the region specific endpoint this request was sent to.");
  CHECK(message(home.send("PUT", "/other", config("us-east-1"))) ==
        "400 InvalidLocationConstraint: The specified location-constraint is not valid");
  CHECK(message(Raw(server, "sandbox", "ap-south").send("PUT", "/other")) ==
        "400 AuthorizationHeaderMalformed: The authorization header is malformed; the region "
        "'ap-south' is wrong; expecting 'us-east-1'");
  // Legacy names were only ever us-east-1's.
  CHECK(home.send("PUT", "/Legacy_Name").status == 200);
  CHECK(message(eu.send("PUT", "/Legacy_Too", config("eu-west-1"))) ==
        "400 InvalidBucketName: The specified bucket is not valid.");
  // Again: us-east-1 answers its owner 200, for legacy compatibility; other
  // regions BucketAlreadyOwnedByYou.
  CHECK(home.send("PUT", "/made-home").status == 200);
  CHECK(message(eu.send("PUT", "/made-eu", config("eu-west-1"))) ==
        "409 BucketAlreadyOwnedByYou: Your previous request to create the named bucket "
        "succeeded and you already own it.");
  CHECK(message(home.send("PUT", "/made-far", config("ap-south-1"))) ==
        "409 BucketAlreadyOwnedByYou: Your previous request to create the named bucket "
        "succeeded and you already own it.");
  // Where each went.
  for (const auto& [name, region] : std::vector<std::pair<std::string, std::string>>{
           {"made-home", "us-east-1"}, {"made-far", "ap-south-1"}, {"made-eu", "eu-west-1"}}) {
    auto head = Raw(server, "sandbox", region).send("HEAD", "/" + name);
    CHECK(head.status == 200);
    CHECK(head.header("x-amz-bucket-region") == std::optional<std::string>(region));
  }
}

TEST_CASE("s3: my_bucket, a legacy us-east-1 name, works on the sandbox") {
  test::TempDir dir;
  sandbox::Server server(sandbox_options(dir));
  server.start();
  auto provider = sandbox_provider(server);
  test::Notes notes;
  KindAdapter* buckets = provider->adapter(Kind::bucket);
  Remote r = buckets->create(bucket("my_bucket", "enabled", {{"owner", "me"}}), notes.context());
  CHECK(r.remote_id == "my_bucket");
  CHECK(r.observed["versioning"] == "enabled");
  Raw raw(server);
  auto list = raw.send("GET", "/");
  CHECK(list.status == 200);
  CHECK(list.body.find("<Name>my_bucket</Name>") != std::string::npos);
  // Names that neither rule allows are refused, with S3's code.
  CHECK(error_of([&] { buckets->create(bucket("ab"), notes.context()); }) ==
        "PUT bucket ab: 400 InvalidBucketName: The specified bucket is not valid.");
  CHECK(error_of([&] { buckets->create(bucket("no spaces"), notes.context()); }) ==
        "PUT bucket no spaces: 400 InvalidBucketName: The specified bucket is not valid.");
}

TEST_CASE("s3: deleting a non-empty bucket fails with a clear message") {
  test::TempDir dir;
  sandbox::Server server(sandbox_options(dir));
  server.start();
  auto provider = sandbox_provider(server);
  test::Notes notes;
  KindAdapter* buckets = provider->adapter(Kind::bucket);
  Target t = bucket("full");
  t.remote_id = buckets->create(t, notes.context()).remote_id;
  Raw raw(server);
  CHECK(raw.send("PUT", "/full/reports/2024.csv", "a,b\n").status == 200);

  try {
    buckets->destroy(t, notes.context());
    FAIL("the delete succeeded");
  } catch (const ProviderError& e) {
    CHECK(std::string(e.what()) ==
          "bucket full is not empty; empty it first (stove does not delete objects), then "
          "apply again");
    CHECK(e.http_status() == 409);
  }
  CHECK(buckets->read(t, notes.context()).has_value());
  CHECK(raw.send("DELETE", "/full/reports/2024.csv").status == 204);
  buckets->destroy(t, notes.context());
  CHECK_FALSE(buckets->read(t, notes.context()).has_value());
}

TEST_CASE("s3: a bucket already there is adopted only after an interrupted create") {
  test::TempDir dir;
  sandbox::Server server(sandbox_options(dir));
  server.start();
  auto provider = sandbox_provider(server);
  test::Notes notes;
  Raw raw(server);
  // Made by an earlier attempt whose response was lost, say.
  REQUIRE(raw.send("PUT", "/assets").status == 200);
  std::string tags = s3xml::tagging_document({{"stale", "yes"}});
  REQUIRE(raw.send("PUT", "/assets?tagging", tags, {{"Content-MD5", sigv4::content_md5(tags)}})
              .status == 204);

  // Not without an interrupted create of this resource: the bucket may be
  // anyone's.
  Target t = bucket("assets", "enabled", {{"app", "web"}});
  CHECK(error_of([&] { provider->adapter(Kind::bucket)->create(t, notes.context()); }) ==
        "bucket assets already exists and stove does not manage it; rename the resource, or "
        "delete the existing bucket");
  CHECK(notes.list().empty());

  t.adopt = true;
  Remote r = provider->adapter(Kind::bucket)->create(t, notes.context());
  CHECK(r.observed == json{{"name", "assets"},
                           {"region", "us-east-1"},
                           {"versioning", "enabled"},
                           {"tags", {{"app", "web"}}}});
  CHECK(notes.list() == std::vector<std::string>{"adopting the existing bucket assets"});

  // Adopting a bucket in another region than wanted would be a replacement.
  Target elsewhere = bucket("assets", "enabled", json::object(), "eu-west-1");
  elsewhere.adopt = true;
  CHECK(error_of([&] { provider->adapter(Kind::bucket)->create(elsewhere, notes.context()); }) ==
        R"(bucket["assets"]: bucket assets already exists in region us-east-1, not )"
        "eu-west-1; it cannot be adopted");
}

TEST_CASE("s3: a name another account holds is a clear BucketAlreadyExists error") {
  test::TempDir dir;
  sandbox::Server server(sandbox_options(dir));
  server.start();
  auto provider = sandbox_provider(server);
  test::Notes notes;
  CHECK(error_of([&] {
          provider->adapter(Kind::bucket)->create(bucket("foreign-logs"), notes.context());
        }) ==
        "PUT bucket foreign-logs: 409 BucketAlreadyExists: The requested bucket name is not "
        "available. The bucket namespace is shared by all users of the system. Please select a "
        "different name and try again. (the name is taken by another account; S3 bucket names "
        "are global, so choose another)");
}

TEST_CASE("s3: a wrong secret surfaces as SignatureDoesNotMatch without the secret") {
  test::TempDir dir;
  sandbox::Server server(sandbox_options(dir));
  server.start();
  auto provider = sandbox_provider(server, {{"STOVE_SANDBOX_TOKEN", "wrong-secret-4711"}});
  test::Notes notes;
  KindAdapter* buckets = provider->adapter(Kind::bucket);
  const std::string expected =
      "PUT bucket logs: 403 SignatureDoesNotMatch: The request signature we calculated does not "
      "match the signature you provided. Check your key and signing method. (check the sandbox "
      "token in STOVE_SANDBOX_TOKEN)";
  std::string message = error_of([&] { buckets->create(bucket("logs"), notes.context()); });
  CHECK(message == expected);
  CHECK(message.find("wrong-secret-4711") == std::string::npos);
  // A read's HEAD has no body; the GET asked after it names the cause.
  Target t = bucket("logs");
  t.remote_id = "logs";
  CHECK(error_of([&] { buckets->read(t, notes.context()); }) ==
        "GET bucket logs?location: 403 SignatureDoesNotMatch: The request signature we "
        "calculated does not match the signature you provided. Check your key and signing "
        "method. (check the sandbox token in STOVE_SANDBOX_TOKEN)");
}

TEST_CASE("s3: the sandbox checks signatures, payload hashes, Content-MD5 and XML") {
  test::TempDir dir;
  sandbox::Server server(sandbox_options(dir));
  server.start();
  Raw raw(server);
  REQUIRE(raw.send("PUT", "/checks").status == 200);

  auto unsigned_request = raw.send("GET", "/checks?location", "", {}, /*sign=*/false);
  CHECK(unsigned_request.status == 403);
  CHECK(raw.code(unsigned_request) == "AccessDenied");

  Raw wrong(server, "not-the-token");
  auto bad = wrong.send("GET", "/checks?location");
  CHECK(bad.status == 403);
  CHECK(wrong.code(bad) == "SignatureDoesNotMatch");

  // A body other than the one hashed.
  {
    http::Request request;
    request.method = "PUT";
    request.url = fmt::format("{}/s3/checks?versioning", server.url());
    request.body = "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>";
    sigv4::sign_request(request, {"sandbox", "sandbox", ""}, "us-east-1", "s3",
                        std::chrono::system_clock::now());
    request.body = "<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>";
    http::ClientOptions o;
    o.retry.max_attempts = 1;
    http::Client client(o);
    auto r = client.send(request);
    CHECK(r.status == 400);
    CHECK(raw.code(r) == "XAmzContentSHA256Mismatch");
  }

  auto malformed = raw.send("PUT", "/checks?versioning", "<VersioningConfiguration><Status>On"
                                                         "</Status></VersioningConfiguration>");
  CHECK(malformed.status == 400);
  CHECK(raw.code(malformed) == "MalformedXML");

  const std::string tags = s3xml::tagging_document({{"a", "1"}});
  auto missing = raw.send("PUT", "/checks?tagging", tags);
  CHECK(missing.status == 400);
  CHECK(raw.code(missing) == "InvalidRequest");
  auto invalid = raw.send("PUT", "/checks?tagging", tags, {{"Content-MD5", "not base64"}});
  CHECK(invalid.status == 400);
  CHECK(raw.code(invalid) == "InvalidDigest");
  auto mismatch =
      raw.send("PUT", "/checks?tagging", tags, {{"Content-MD5", sigv4::content_md5("other")}});
  CHECK(mismatch.status == 400);
  CHECK(raw.code(mismatch) == "BadDigest");
  const std::string twice =
      "<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>a</Key><Value>2</Value>"
      "</Tag></TagSet></Tagging>";
  auto duplicate = raw.send("PUT", "/checks?tagging", twice,
                            {{"Content-MD5", sigv4::content_md5(twice)}});
  CHECK(duplicate.status == 400);
  CHECK(raw.code(duplicate) == "InvalidTag");

  auto nothing = raw.send("GET", "/missing?location");
  CHECK(nothing.status == 404);
  CHECK(raw.code(nothing) == "NoSuchBucket");
  auto again = raw.send("PUT", "/checks");
  CHECK(again.status == 200);  // us-east-1's legacy answer to the owner
  auto us_east = raw.send("PUT", "/other",
                          "<CreateBucketConfiguration><LocationConstraint>us-east-1"
                          "</LocationConstraint></CreateBucketConfiguration>");
  CHECK(us_east.status == 400);
  CHECK(raw.code(us_east) == "InvalidLocationConstraint");

  // Requests count, and changes among them.
  auto counters = server.counters();
  CHECK(counters.requests == 12);
  CHECK(counters.mutating == 9);
}

TEST_CASE("s3: the sandbox's buckets persist across restarts") {
  test::TempDir dir;
  {
    sandbox::Server server(sandbox_options(dir));
    server.start();
    {
      // Gone before the stop, which otherwise waits out its kept-alive
      // connections.
      auto provider = sandbox_provider(server);
      test::Notes notes;
      provider->adapter(Kind::bucket)
          ->create(bucket("kept", "enabled", {{"k", "v"}}, "eu-central-1"), notes.context());
    }
    server.stop();
  }
  CHECK(test::read_file(dir / "cloud" / "s3.json").find("\"kept\"") != std::string::npos);
  sandbox::Server server(sandbox_options(dir));
  server.start();
  auto provider = sandbox_provider(server);
  test::Notes notes;
  Target t = bucket("kept");
  t.remote_id = "kept";
  auto r = provider->adapter(Kind::bucket)->read(t, notes.context());
  REQUIRE(r.has_value());
  CHECK(r->observed == json{{"name", "kept"},
                            {"region", "eu-central-1"},
                            {"versioning", "enabled"},
                            {"tags", {{"k", "v"}}}});
}

TEST_CASE("s3: creates survive injected faults, lost responses included, without duplicates") {
  test::TempDir dir;
  sandbox::Options o = sandbox_options(dir);
  o.fail_rate = 0.3;
  o.seed = 42;
  sandbox::Server server(o);
  server.start();
  auto provider = sandbox_provider(server);
  test::Notes notes;
  KindAdapter* buckets = provider->adapter(Kind::bucket);
  for (int i = 0; i < 6; ++i) {
    std::string name = fmt::format("faulty-{}", i);
    Remote r = buckets->create(bucket(name, "enabled", {{"n", std::to_string(i)}}), notes.context());
    CHECK(r.observed == json{{"name", name},
                             {"region", "us-east-1"},
                             {"versioning", "enabled"},
                             {"tags", {{"n", std::to_string(i)}}}});
  }
  CHECK(server.counters().injected_failures > 0);
  CHECK(buckets->list({}, notes.context()).size() == 6);
}

TEST_CASE("s3: the s3 provider type names a missing key variable, never a value") {
  register_builtin_provider_types();
  ProviderConfig config;
  config.name = "aws";
  config.type = "s3";
  config.endpoint = "https://s3.eu-west-1.amazonaws.com/";
  config.settings = {{"region", "eu-west-1"},
                     {"access_key_env", "AWS_ACCESS_KEY_ID"},
                     {"secret_key_env", "MY_SECRET"},
                     {"session_token_env", "AWS_SESSION_TOKEN"}};
  auto message = [&](std::map<std::string, std::string> env) -> std::string {
    try {
      make_provider(config, test::provider_options(test::fake_environment(std::move(env))));
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  CHECK(message({}) == R"(provider "aws": environment variable AWS_ACCESS_KEY_ID is not set; it )"
                       "holds the access key id (access_key_env)");
  CHECK(message({{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "x"}}) ==
        R"(provider "aws": environment variable MY_SECRET is not set; it holds the secret )"
        "access key (secret_key_env)");
  auto made = make_provider(config, test::provider_options(test::fake_environment(
                                        {{"AWS_ACCESS_KEY_ID", "AKID"}, {"MY_SECRET", "s"}})));
  REQUIRE(made);
  CHECK(made->adapter(Kind::bucket) != nullptr);
  CHECK(made->adapter(Kind::machine) == nullptr);

  auto settings = s3::settings_from_config(
      config, test::fake_environment({{"AWS_ACCESS_KEY_ID", "AKID"},
                                      {"MY_SECRET", "s"},
                                      {"AWS_SESSION_TOKEN", "tok"}}));
  CHECK(settings.endpoint == "https://s3.eu-west-1.amazonaws.com");
  CHECK(settings.region == "eu-west-1");
  CHECK(settings.credentials.access_key == "AKID");
  CHECK(settings.credentials.secret_key == "s");
  CHECK(settings.credentials.session_token == "tok");
}

TEST_CASE("s3: the XML scanner reads S3's replies and skips elements that share a prefix") {
  const std::string list =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListAllMyBucketsResult><Buckets>"
      "<Bucket><Name>a&amp;b</Name></Bucket><Bucket ><Name>c</Name></Bucket></Buckets>"
      "</ListAllMyBucketsResult>";
  auto buckets = s3xml::elements(list, "Bucket");
  REQUIRE(buckets.size() == 2);
  CHECK(s3xml::text(buckets[0], "Name") == std::optional<std::string>("a&b"));
  CHECK(s3xml::text(buckets[1], "Name") == std::optional<std::string>("c"));
  CHECK(s3xml::text("<LocationConstraint xmlns=\"x\"/>", "LocationConstraint") ==
        std::optional<std::string>(""));
  CHECK_FALSE(s3xml::text("<Other/>", "LocationConstraint").has_value());
  CHECK(s3xml::unescape("&lt;&#65;&#x42;&quot;&apos;&gt;&bogus;&") == "<AB\"'>&bogus;&");
  CHECK(s3xml::escape("<a href='x'>&\"") == "&lt;a href=&apos;x&apos;&gt;&amp;&quot;");
  auto error = s3xml::parse_error(
      "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>"
      "</Error>");
  REQUIRE(error.has_value());
  CHECK(error->code == "NoSuchBucket");
  CHECK(error->message == "The specified bucket does not exist");
  CHECK_FALSE(s3xml::parse_error("<html>502</html>").has_value());
  CHECK(s3xml::parse_tagging("<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>") ==
        std::nullopt);
}

// --- against scripted servers ------------------------------------------------

namespace {

std::unique_ptr<Provider> fake_provider(const test::FakeS3& server) {
  s3::Settings s;
  s.provider_name = "fake";
  s.endpoint = server.url();
  s.credentials = {"AKID", "fake-secret", ""};
  s.access_key_variable = "AWS_ACCESS_KEY_ID";
  s.secret_key_variable = "AWS_SECRET_ACCESS_KEY";
  return s3::make(std::move(s), test::provider_options(test::fake_environment({})).http);
}

// What S3 answers for the reads of an existing bucket in us-east-1, never
// versioned, without tags; 200 and no body for anything else.
test::FakeS3::Answer plain_bucket(const std::string& request) {
  if (request.ends_with("?location")) {
    return {200, fmt::format("<LocationConstraint xmlns=\"{}\"/>", s3xml::k_namespace)};
  }
  if (request.ends_with("?versioning")) {
    return {200, fmt::format("<VersioningConfiguration xmlns=\"{}\"/>", s3xml::k_namespace)};
  }
  if (request.ends_with("?tagging")) {
    return test::FakeS3::error(404, "NoSuchTagSet", "The TagSet does not exist");
  }
  return {200, ""};
}

const std::vector<std::string> k_plain_reads = {"HEAD /logs", "GET /logs?location",
                                                "GET /logs?versioning", "GET /logs?tagging"};

std::vector<std::string> concat(std::vector<std::vector<std::string>> parts) {
  std::vector<std::string> out;
  for (auto& part : parts) {
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

const json k_plain_logs = {
    {"name", "logs"}, {"region", "us-east-1"}, {"versioning", "suspended"}, {"tags", json::object()}};

const std::string k_owned =
    "Your previous request to create the named bucket succeeded and you already own it.";

} // namespace

TEST_CASE("s3: a first PUT answered BucketAlreadyOwnedByYou adopts only after an interrupted "
          "create") {
  // The name was free at the HEAD, then taken (by the same account) before
  // the PUT.
  test::FakeS3 server([](const std::string& request, int number) -> test::FakeS3::Answer {
    if (request == "HEAD /logs" && number <= 2) {
      return {404, ""};
    }
    if (request == "PUT /logs") {
      return test::FakeS3::error(409, "BucketAlreadyOwnedByYou", k_owned);
    }
    return plain_bucket(request);
  });
  auto provider = fake_provider(server);
  test::Notes notes;
  Target t = bucket("logs");
  CHECK(error_of([&] { provider->adapter(Kind::bucket)->create(t, notes.context()); }) ==
        fmt::format("bucket logs already exists and stove does not manage it; rename the "
                    "resource, or delete the existing bucket (the server answered PUT bucket "
                    "logs: 409 BucketAlreadyOwnedByYou: {})",
                    k_owned));
  CHECK(server.requests() == std::vector<std::string>{"HEAD /logs", "PUT /logs"});
  CHECK(notes.list().empty());

  t.adopt = true;
  Remote r = provider->adapter(Kind::bucket)->create(t, notes.context());
  CHECK(r.remote_id == "logs");
  CHECK(r.observed == k_plain_logs);
  CHECK(notes.list() == std::vector<std::string>{"adopting the existing bucket logs"});
  CHECK(server.requests() == concat({{"HEAD /logs", "PUT /logs", "HEAD /logs", "PUT /logs"},
                                     k_plain_reads, k_plain_reads}));
}

TEST_CASE("s3: after a lost PUT reply, BucketAlreadyOwnedByYou is the lost attempt's bucket") {
  test::FakeS3 server([](const std::string& request, int number) -> test::FakeS3::Answer {
    if (request == "HEAD /logs" && number <= 2) {
      return {404, ""};  // before the first PUT, and after its reply was lost
    }
    if (request == "PUT /logs") {
      return number == 1 ? test::FakeS3::error(500, "InternalError", "We encountered an "
                                                                     "internal error.")
                         : test::FakeS3::error(409, "BucketAlreadyOwnedByYou", k_owned);
    }
    return plain_bucket(request);
  });
  auto provider = fake_provider(server);
  test::Notes notes;
  Remote r = provider->adapter(Kind::bucket)->create(bucket("logs"), notes.context());
  CHECK(r.observed == k_plain_logs);
  CHECK(notes.list().empty());  // not adopted: made by this create
  CHECK(server.requests() ==
        concat({{"HEAD /logs", "PUT /logs", "HEAD /logs", "PUT /logs"}, k_plain_reads,
                k_plain_reads}));
}

TEST_CASE("s3: after a lost PUT reply, BucketAlreadyExists is the lost attempt's bucket only if "
          "HEAD sees it") {
  // As s3rver answers its owner.
  test::FakeS3 visible([](const std::string& request, int number) -> test::FakeS3::Answer {
    if (request == "HEAD /logs" && number <= 2) {
      return {404, ""};
    }
    if (request == "PUT /logs") {
      return number == 1 ? test::FakeS3::Answer{500, ""}
                         : test::FakeS3::error(409, "BucketAlreadyExists",
                                               "The requested bucket already exists");
    }
    return plain_bucket(request);
  });
  test::Notes notes;
  Remote r = fake_provider(visible)->adapter(Kind::bucket)->create(bucket("logs"), notes.context());
  CHECK(r.observed == k_plain_logs);
  CHECK(visible.requests() ==
        concat({{"HEAD /logs", "PUT /logs", "HEAD /logs", "PUT /logs", "HEAD /logs"},
                k_plain_reads, k_plain_reads}));

  // Someone else's: HEAD is refused.
  test::FakeS3 foreign([](const std::string& request, int number) -> test::FakeS3::Answer {
    if (request == "HEAD /logs") {
      return {number <= 2 ? 404 : 403, ""};
    }
    if (request == "PUT /logs") {
      return number == 1 ? test::FakeS3::Answer{500, ""}
                         : test::FakeS3::error(409, "BucketAlreadyExists",
                                               "The requested bucket name is not available.");
    }
    return plain_bucket(request);
  });
  CHECK(error_of([&] {
          fake_provider(foreign)->adapter(Kind::bucket)->create(bucket("logs"), notes.context());
        }) == "PUT bucket logs: 409 BucketAlreadyExists: The requested bucket name is not "
              "available. (the name is taken by another account; S3 bucket names are global, so "
              "choose another)");
  CHECK(foreign.requests() == std::vector<std::string>{"HEAD /logs", "PUT /logs", "HEAD /logs",
                                                       "PUT /logs", "HEAD /logs"});
}

TEST_CASE("s3: a server without versioning or tagging, answering as s3rver 3.7.1 does") {
  // s3rver 3.7.1 reads GET ?versioning as ListObjects and PUT ?versioning as
  // CreateBucket; it answers 501 NotImplemented for every ?tagging.
  const std::string list_result =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult "
      "xmlns=\"http://doc.s3.amazonaws.com/2006-03-01/\"><Name>logs</Name><Prefix></Prefix>"
      "<Marker></Marker><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>"
      "</ListBucketResult>";
  const std::string not_implemented =
      "A parameter you provided implies functionality that is not implemented";
  std::atomic<bool> exists = false;
  test::FakeS3 server([&](const std::string& request, int) -> test::FakeS3::Answer {
    if (request == "HEAD /logs") {
      return {exists ? 200 : 404, ""};
    }
    if (request == "PUT /logs" || request == "PUT /logs?versioning") {
      if (exists) {
        return test::FakeS3::error(409, "BucketAlreadyExists", "The requested bucket already exists");
      }
      exists = true;
      return {200, ""};
    }
    if (request == "DELETE /logs") {
      exists = false;
      return {204, ""};
    }
    if (request == "GET /logs?location") {
      return {200, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint "
                   "xmlns=\"http://doc.s3.amazonaws.com/2006-03-01/\"></LocationConstraint>"};
    }
    if (request == "GET /logs?versioning") {
      return {200, list_result};
    }
    if (request.ends_with("?tagging")) {
      return test::FakeS3::error(501, "NotImplemented", not_implemented);
    }
    return {400, ""};
  });
  auto provider = fake_provider(server);
  KindAdapter* buckets = provider->adapter(Kind::bucket);
  test::Notes notes;

  // The defaults: created, read, deleted.
  Target plain = bucket("logs");
  Remote made = buckets->create(plain, notes.context());
  CHECK(made.observed == k_plain_logs);
  INFO(fmt::format("{}", fmt::join(server.requests(), ", ")));
  CHECK(server.requests() == concat({{"HEAD /logs", "PUT /logs"}, k_plain_reads}));
  plain.remote_id = made.remote_id;
  auto read = buckets->read(plain, notes.context());
  REQUIRE(read.has_value());
  CHECK(read->observed == k_plain_logs);

  // Enabling versioning: refused before any PUT ?versioning.
  const std::string versioning_error =
      "bucket logs: the S3 server does not implement bucket versioning, so versioning: enabled "
      "cannot be applied (GET bucket logs?versioning: 200 with a ListBucketResult document, not "
      "a VersioningConfiguration)";
  Target versioned = bucket("logs", "enabled");
  versioned.remote_id = "logs";
  versioned.prior_spec = plain.spec;
  CHECK(error_of([&] { buckets->update(versioned, notes.context()); }) == versioning_error);
  // Tags likewise.
  Target tagged = bucket("logs", "suspended", {{"team", "web"}});
  tagged.remote_id = "logs";
  tagged.prior_spec = plain.spec;
  CHECK(error_of([&] { buckets->update(tagged, notes.context()); }) ==
        fmt::format("bucket logs: the S3 server does not implement bucket tagging, so tags "
                    "cannot be applied (GET bucket logs?tagging: 501 NotImplemented: {})",
                    not_implemented));
  buckets->destroy(plain, notes.context());
  CHECK_FALSE(exists);

  // A create that wants versioning: the bucket is made, then the same error.
  CHECK(error_of([&] { buckets->create(bucket("logs", "enabled"), notes.context()); }) ==
        versioning_error);
  CHECK(exists);
  for (const auto& request : server.requests()) {
    CHECK_MESSAGE(!request.starts_with("PUT /logs?"), request);
    CHECK_MESSAGE(!request.starts_with("DELETE /logs?"), request);
  }
}

TEST_CASE("s3: refresh lists buckets once and completes each with its region, versioning and "
          "tags, without a HEAD") {
  test::FakeS3 server([](const std::string& request, int) -> test::FakeS3::Answer {
    if (request == "GET /") {
      return {200, fmt::format("<ListAllMyBucketsResult xmlns=\"{}\"><Owner><ID>1</ID></Owner>"
                               "<Buckets><Bucket><Name>logs</Name><CreationDate>"
                               "2026-11-22T10:00:00.000Z</CreationDate></Bucket><Bucket><Name>"
                               "media</Name><CreationDate>2026-11-22T10:00:00.000Z</CreationDate>"
                               "</Bucket></Buckets></ListAllMyBucketsResult>",
                               s3xml::k_namespace)};
    }
    if (request == "GET /media?location") {
      return {200, fmt::format("<LocationConstraint xmlns=\"{}\">eu-west-1</LocationConstraint>",
                               s3xml::k_namespace)};
    }
    if (request == "GET /media?versioning") {
      return {200, fmt::format("<VersioningConfiguration xmlns=\"{}\"><Status>Enabled</Status>"
                               "</VersioningConfiguration>",
                               s3xml::k_namespace)};
    }
    if (request == "GET /media?tagging") {
      return {200, fmt::format("<Tagging xmlns=\"{}\"><TagSet><Tag><Key>team</Key><Value>web"
                               "</Value></Tag></TagSet></Tagging>",
                               s3xml::k_namespace)};
    }
    return plain_bucket(request);
  });
  auto provider = fake_provider(server);
  KindAdapter* buckets = provider->adapter(Kind::bucket);
  test::Notes notes;

  buckets->begin_refresh();
  auto listed = buckets->list({}, notes.context());
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].remote_id == "logs");
  CHECK(listed[0].observed == json{{"name", "logs"}});
  CHECK(listed[1].remote_id == "media");

  Target logs = bucket("logs");
  logs.remote_id = "logs";
  Target media = bucket("media", "suspended", json::object(), "eu-west-1");
  media.remote_id = "media";
  Remote logs_now = buckets->complete(logs, listed[0], notes.context()).value();
  Remote media_now = buckets->complete(media, listed[1], notes.context()).value();
  buckets->end_refresh();

  CHECK(logs_now.remote_id == "logs");
  CHECK(logs_now.observed == k_plain_logs);
  CHECK(media_now.remote_id == "media");
  CHECK(media_now.observed == json{{"name", "media"},
                                   {"region", "eu-west-1"},
                                   {"versioning", "enabled"},
                                   {"tags", {{"team", "web"}}}});
  CHECK(server.requests() ==
        std::vector<std::string>{"GET /", "GET /logs?location", "GET /logs?versioning",
                                 "GET /logs?tagging", "GET /media?location",
                                 "GET /media?versioning", "GET /media?tagging"});
  CHECK(provider->stats().requests == 7);
  // complete() observes what read() does.
  auto read = buckets->read(media, notes.context());
  REQUIRE(read.has_value());
  CHECK(read->observed == media_now.observed);
}

TEST_CASE("s3: a bucket deleted between the listing and complete() is gone") {
  test::FakeS3 server([](const std::string& request, int) -> test::FakeS3::Answer {
    if (request.starts_with("GET /logs?")) {
      return test::FakeS3::error(404, "NoSuchBucket", "The specified bucket does not exist");
    }
    return {400, ""};
  });
  auto provider = fake_provider(server);
  test::Notes notes;
  Target logs = bucket("logs");
  logs.remote_id = "logs";
  Remote listed{"logs", {{"name", "logs"}}};
  CHECK_FALSE(provider->adapter(Kind::bucket)->complete(logs, listed, notes.context()));
  CHECK(server.requests() == std::vector<std::string>{"GET /logs?location"});
}

// --- regions -------------------------------------------------------------------

namespace {

// AWS's answers for a bucket `logs` in `home`, to a request signed for
// `region` and so (stove addresses each region's endpoint) sent to that
// region's endpoint: 301 PermanentRedirect with x-amz-bucket-region when the
// bucket is elsewhere (no body to a HEAD), else plain_bucket's answers, with
// the header HEAD carries.
test::FakeS3::Answer regional(const std::string& request, const std::string& region,
                              const std::string& home) {
  if (region != home) {
    test::FakeS3::Answer moved = request.starts_with("HEAD ")
                                     ? test::FakeS3::Answer{301, ""}
                                     : test::FakeS3::error(301, "PermanentRedirect",
                                                           "The bucket you are attempting to "
                                                           "access must be addressed using the "
                                                           "specified endpoint.");
    moved.headers = {{"x-amz-bucket-region", home}};
    return moved;
  }
  if (request.ends_with("?location")) {
    return {200, fmt::format("<LocationConstraint xmlns=\"{}\">{}</LocationConstraint>",
                             s3xml::k_namespace, home == "us-east-1" ? "" : home)};
  }
  test::FakeS3::Answer answer = plain_bucket(request);
  if (request.starts_with("HEAD ")) {
    answer.headers = {{"x-amz-bucket-region", home}};
  }
  return answer;
}

const json k_eu_logs = {{"name", "logs"},
                        {"region", "eu-west-1"},
                        {"versioning", "suspended"},
                        {"tags", json::object()}};

} // namespace

TEST_CASE("s3: a bucket in another region than the provider's is created and read signed for "
          "its own") {
  std::atomic<bool> made{false};
  test::FakeS3 server([&](const std::string& request, int, const std::string& region) {
    if (request == "PUT /logs") {
      // A regional endpoint makes buckets in its own region only.
      if (region != "eu-west-1") {
        return test::FakeS3::error(400, "IllegalLocationConstraintException",
                                   "The eu-west-1 location constraint is incompatible for the "
                                   "region specific endpoint this request was sent to.");
      }
      made = true;
      return test::FakeS3::Answer{200, ""};
    }
    if (!made) {
      return request.starts_with("HEAD ")
                 ? test::FakeS3::Answer{404, ""}
                 : test::FakeS3::error(404, "NoSuchBucket", "The specified bucket does not exist");
    }
    return regional(request, region, "eu-west-1");
  });
  auto provider = fake_provider(server); // region us-east-1
  test::Notes notes;
  KindAdapter* buckets = provider->adapter(Kind::bucket);
  Remote r =
      buckets->create(bucket("logs", "suspended", json::object(), "eu-west-1"), notes.context());
  CHECK(r.observed == k_eu_logs);
  CHECK(server.requests() == concat({{"HEAD /logs", "PUT /logs"}, k_plain_reads}));
  CHECK(server.regions() == std::vector<std::string>(6, "eu-west-1"));

  // Then every request about it, whatever the provider's region.
  Target t = bucket("logs", "suspended", json::object(), "eu-west-1");
  t.remote_id = "logs";
  REQUIRE(buckets->read(t, notes.context()).has_value());
  buckets->destroy(t, notes.context());
  for (const std::string& region : server.regions()) {
    CHECK(region == "eu-west-1");
  }
}

TEST_CASE("s3: a bucket whose region is not known is found where S3's 301 says it is") {
  test::FakeS3 server([](const std::string& request, int, const std::string& region) {
    return regional(request, region, "eu-west-1");
  });
  auto provider = fake_provider(server);
  test::Notes notes;
  KindAdapter* buckets = provider->adapter(Kind::bucket);
  // Imported, say: no region in the spec, none observed yet.
  Target t = bucket("logs");
  t.remote_id = "logs";
  auto read = buckets->read(t, notes.context());
  REQUIRE(read.has_value());
  CHECK(read->observed == k_eu_logs);
  CHECK(server.requests() == concat({{"HEAD /logs"}, k_plain_reads}));
  CHECK(server.regions() ==
        std::vector<std::string>{"us-east-1", "eu-west-1", "eu-west-1", "eu-west-1", "eu-west-1"});
  // Learnt: the next request is signed for eu-west-1 at once.
  REQUIRE(buckets->read(t, notes.context()).has_value());
  CHECK(server.regions().size() == 9);
  CHECK(server.regions().back() == "eu-west-1");
  CHECK(server.regions()[5] == "eu-west-1");
}

TEST_CASE("s3: AuthorizationHeaderMalformed's <Region> and a HEAD's x-amz-bucket-region are "
          "followed too") {
  // What AWS answers where the request reaches the bucket's region but is
  // signed for another (the global endpoint, virtual-hosted).
  test::FakeS3 server([](const std::string& request, int, const std::string& region) {
    if (region != "ap-south-1") {
      if (request.starts_with("HEAD ")) {
        return test::FakeS3::Answer{400, "", {{"x-amz-bucket-region", "ap-south-1"}}};
      }
      return test::FakeS3::Answer{
          400, fmt::format("<Error><Code>AuthorizationHeaderMalformed</Code><Message>The "
                           "authorization header is malformed; the region '{}' is wrong; "
                           "expecting 'ap-south-1'</Message><Region>ap-south-1</Region>"
                           "<RequestId>R</RequestId><HostId>H</HostId></Error>",
                           region)};
    }
    return regional(request, region, "ap-south-1");
  });
  auto provider = fake_provider(server);
  test::Notes notes;
  KindAdapter* buckets = provider->adapter(Kind::bucket);
  Target t = bucket("logs");
  t.remote_id = "logs";
  // complete() starts with GET ?location (the listing showed the bucket).
  auto completed = buckets->complete(t, Remote{"logs", {{"name", "logs"}}}, notes.context());
  REQUIRE(completed.has_value());
  CHECK(completed->observed.at("region") == "ap-south-1");
  CHECK(server.regions().front() == "us-east-1");
  CHECK(server.regions().size() == 4);
  // A fresh provider, through HEAD.
  auto fresh = fake_provider(server);
  auto read = fresh->adapter(Kind::bucket)->read(t, notes.context());
  REQUIRE(read.has_value());
  CHECK(read->observed.at("region") == "ap-south-1");
  CHECK(server.requests().size() == 4 + 5);
  CHECK(server.regions()[4] == "us-east-1");
  CHECK(server.regions()[5] == "ap-south-1");
}

TEST_CASE("s3: an endpoint that serves one region refuses a bucket in another with what to do") {
  // A single-region server (MinIO, say, in us-east-1): any request signed
  // for another region is AuthorizationHeaderMalformed; there is no bucket.
  test::FakeS3 server([](const std::string& request, int, const std::string& region) {
    if (region != "us-east-1") {
      if (request.starts_with("HEAD ")) {
        return test::FakeS3::Answer{400, ""};
      }
      return test::FakeS3::Answer{
          400, fmt::format("<Error><Code>AuthorizationHeaderMalformed</Code><Message>The "
                           "authorization header is malformed; the region '{}' is wrong; "
                           "expecting 'us-east-1'</Message><Region>us-east-1</Region></Error>",
                           region)};
    }
    return request.starts_with("HEAD ")
               ? test::FakeS3::Answer{404, ""}
               : test::FakeS3::error(404, "NoSuchBucket", "The specified bucket does not exist");
  });
  auto provider = fake_provider(server);
  test::Notes notes;
  try {
    provider->adapter(Kind::bucket)
        ->create(bucket("logs", "suspended", json::object(), "eu-west-1"), notes.context());
    FAIL("the create succeeded");
  } catch (const NothingCreated& e) {
    CHECK(std::string(e.what()) ==
          "PUT bucket logs: 400 AuthorizationHeaderMalformed: The authorization header is "
          "malformed; the region 'eu-west-1' is wrong; expecting 'us-east-1' (the endpoint takes "
          "requests signed for us-east-1, so it cannot make a bucket in eu-west-1: use a "
          "provider whose endpoint serves eu-west-1)");
  }
  CHECK(server.requests() == std::vector<std::string>{"HEAD /logs", "PUT /logs"});
  CHECK(server.regions() == std::vector<std::string>{"eu-west-1", "eu-west-1"});

  // A read's bodiless 400 to HEAD is asked again by GET, whose document
  // names the region; there, the bucket is not.
  Target t = bucket("logs", "suspended", json::object(), "eu-west-1");
  t.remote_id = "logs";
  CHECK_FALSE(provider->adapter(Kind::bucket)->read(t, notes.context()).has_value());
  CHECK(server.requests() == std::vector<std::string>{"HEAD /logs", "PUT /logs", "HEAD /logs",
                                                      "GET /logs?location", "GET /logs?location"});
  CHECK(server.regions() ==
        std::vector<std::string>{"eu-west-1", "eu-west-1", "eu-west-1", "eu-west-1", "us-east-1"});
}
