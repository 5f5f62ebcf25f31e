// The provider registry and the factories' checks of configuration and
// credentials.

#include "util/error.hpp"
#include "providers/provider.hpp"
#include "providers/sandbox_provider.hpp"
#include "support/printing.hpp"
#include "unit/providers/fake_cloudapi.hpp"
#include "unit/providers/provider_fixtures.hpp"

#include <doctest/doctest.h>

using namespace stove;
using namespace stove::providers;
using nlohmann::json;

namespace {

// make_provider's error, which must be an input error unless `kind` says.
std::string make_error(const ProviderConfig& config, const ProviderOptions& options,
                       ErrorKind kind = ErrorKind::input) {
  try {
    make_provider(config, options);
  } catch (const Error& e) {
    CHECK(static_cast<int>(e.kind()) == static_cast<int>(kind));
    return e.what();
  }
  return "(no error)";
}

json ovc_settings(json extra = json::object()) {
  json settings = {{"account_id", 42}, {"token_env", "STOVE_OVC_TOKEN"}};
  settings.update(extra);
  return settings;
}

} // namespace

TEST_CASE("providers: make_provider refuses a type without a factory and names those it has") {
  register_builtin_provider_types();
  ProviderConfig config;
  config.name = "backups";
  config.type = "amanda";
  config.endpoint = "https://backup.example.com";
  std::string message = make_error(config, test::provider_options(test::fake_environment({})));
  const std::string start =
      R"(provider "backups": stove cannot apply provider type "amanda" (types it can apply: )";
  CHECK(message.substr(0, start.size()) == start);
  CHECK(message.find("bacularis, openvcloud, s3, sandbox") != std::string::npos);
}

TEST_CASE("providers: a missing STOVE_OVC_TOKEN is an input error that names the variable") {
  register_builtin_provider_types();
  auto config = test::openvcloud_config("https://cloud.example.com", ovc_settings());
  CHECK(make_error(config, test::provider_options(test::fake_environment({}))) ==
        R"(provider "ovc": environment variable STOVE_OVC_TOKEN is not set; it holds the JWT )"
        "bearer token (token_env), or set token_url, client_id_env and client_secret_env to "
        "exchange client credentials for one");
  // Set but empty is missing too.
  CHECK(
      make_error(config, test::provider_options(test::fake_environment({{"STOVE_OVC_TOKEN", ""}})))
          .find("STOVE_OVC_TOKEN is not set") != std::string::npos);

  auto other = test::openvcloud_config("https://cloud.example.com",
                                       ovc_settings({{"token_env", "PROD_OVC_JWT"}}));
  CHECK(make_error(other, test::provider_options(
                              test::fake_environment({{"STOVE_OVC_TOKEN", "not this one"}})))
            .find("environment variable PROD_OVC_JWT is not set") != std::string::npos);
  auto made = make_provider(other, test::provider_options(test::fake_environment(
                                       {{"PROD_OVC_JWT", test::user_jwt("john")}})));
  REQUIRE(made);
  CHECK(made->adapter(Kind::cloud_space) != nullptr);
  CHECK(made->adapter(Kind::machine) != nullptr);
  CHECK(made->adapter(Kind::backup) == nullptr);
  CHECK(made->adapter(Kind::bucket) == nullptr);
  CHECK(made->stats().requests == 0);
}

TEST_CASE("providers: token_url needs its client id and secret variables, each named when "
          "missing") {
  register_builtin_provider_types();
  json with_url = ovc_settings({{"token_url", "https://iam.example.com/token"}});
  auto bare = test::openvcloud_config("https://cloud.example.com", with_url);
  CHECK(make_error(bare, test::provider_options(test::fake_environment({}))) ==
        R"(provider "ovc": STOVE_OVC_TOKEN is not set, and token_url needs client_id_env and )"
        "client_secret_env (the variables holding the client id and secret)");

  with_url["client_id_env"] = "OVC_CLIENT_ID";
  with_url["client_secret_env"] = "OVC_CLIENT_SECRET";
  auto full = test::openvcloud_config("https://cloud.example.com", with_url);
  CHECK(make_error(full, test::provider_options(test::fake_environment({}))) ==
        R"(provider "ovc": environment variable OVC_CLIENT_ID is not set; it holds the client )"
        "id for token_url (client_id_env)");
  std::string message = make_error(
      full, test::provider_options(test::fake_environment({{"OVC_CLIENT_ID", "stove-id"}})));
  CHECK(message == R"(provider "ovc": environment variable OVC_CLIENT_SECRET is not set; it )"
                   "holds the client secret for token_url (client_secret_env)");
  CHECK(message.find("stove-id") == std::string::npos);
  CHECK(make_provider(full, test::provider_options(test::fake_environment(
                                {{"OVC_CLIENT_ID", "id"}, {"OVC_CLIENT_SECRET", "secret"}}))));
}

TEST_CASE("providers: an openvcloud endpoint must be an http or https URL") {
  register_builtin_provider_types();
  auto environment = test::fake_environment({{"STOVE_OVC_TOKEN", "jwt"}});
  auto config = test::openvcloud_config("ftp://cloud.example.com", ovc_settings());
  CHECK(make_error(config, test::provider_options(environment)) ==
        R"(provider "ovc": endpoint "ftp://cloud.example.com" is not an http:// or https:// URL)");
  config.endpoint = "https://";
  CHECK(make_error(config, test::provider_options(environment)) ==
        R"(provider "ovc": endpoint "https://" is not an http:// or https:// URL)");
  config.settings = json{{"token_env", "STOVE_OVC_TOKEN"}};
  config.endpoint = "https://cloud.example.com/";
  CHECK(make_error(config, test::provider_options(environment)) ==
        R"(provider "ovc": account_id is required (an integer))");
}

TEST_CASE("providers: a registered factory makes the providers of its type") {
  register_builtin_provider_types();
  // The registry outlives the test: the factory holds its own state.
  auto made = std::make_shared<int>(0);
  register_provider_type(
      "registry-test", [made](const ProviderConfig& config, const ProviderOptions& options) {
        ++*made;
        CHECK(config.name == "mine");
        CHECK(options.environment("REGISTRY_TEST") == std::optional<std::string>("yes"));
        return std::unique_ptr<Provider>();
      });
  ProviderConfig config;
  config.name = "mine";
  config.type = "registry-test";
  auto options = test::provider_options(test::fake_environment({{"REGISTRY_TEST", "yes"}}));
  // A factory that makes nothing is a bug in stove.
  CHECK(make_error(config, options, ErrorKind::internal) ==
        R"(provider "mine": the factory for type "registry-test" made no provider)");
  CHECK(*made == 1);
}

TEST_CASE("providers: the sandbox provider serves spaces and machines through the OpenVCloud "
          "adapter, as account 1 with the sandbox token, and buckets through the S3 adapter") {
  register_builtin_provider_types();
  test::FakeCloudapi fake;
  fake.on("cloudspaces/list", 200,
          json::array({{{"id", 1},
                        {"name", "mine"},
                        {"accountId", 1},
                        {"status", "DEPLOYED"},
                        {"location", "be-g8-1"}},
                       {{"id", 2},
                        {"name", "theirs"},
                        {"accountId", 2},
                        {"status", "DEPLOYED"},
                        {"location", "be-g8-1"}}}));
  fake.on("locations/list", 200,
          json::array({{{"id", 1}, {"locationCode", "be-g8-1"}, {"name", "Belgium, Ghent 1"}}}));
  ProviderConfig config;
  config.name = "sandbox";
  config.type = "sandbox";
  config.endpoint = fake.url();
  test::Notes notes;

  auto provider = make_provider(config, test::provider_options(test::fake_environment({})));
  CHECK(provider->adapter(Kind::backup) != nullptr);  // Bacularis: test_bacularis.cpp
  CHECK(provider->adapter(Kind::bucket) != nullptr);  // S3: test_s3.cpp
  REQUIRE(provider->adapter(Kind::machine) != nullptr);
  auto spaces = provider->adapter(Kind::cloud_space)->list({}, notes.context());
  REQUIRE(spaces.size() == 1);
  CHECK(spaces[0].remote_id == "1");
  CHECK(
      spaces[0].observed ==
      json{{"name", "mine"}, {"status", "DEPLOYED"}, {"location", "be-g8-1"}, {"location_id", 1}});
  CHECK(fake.calls().at(0).authorization == "bearer sandbox");
  CHECK(fake.paths() == std::vector<std::string>{"cloudspaces/list", "locations/list"});
  CHECK(provider->stats().requests == 2);

  // cloudspaces/create requires `access`: the sandbox provider's fixed user.
  fake.on("cloudspaces/create", 200, 3);
  fake.on("cloudspaces/get", 200,
          json{{"id", 3}, {"name", "new"}, {"status", "DEPLOYED"}, {"location", "be-g8-1"}});
  provider->adapter(Kind::cloud_space)->create(test::space_target("new", 1), notes.context());
  CHECK(fake.calls().at(2).path == "cloudspaces/create");
  CHECK(fake.calls().at(2).body == json{{"accountId", 1},
                                        {"location", "be-g8-1"},
                                        {"name", "new"},
                                        {"access", "stove@sandbox"}});
  fake.clear();

  auto own_token = make_provider(
      config, test::provider_options(test::fake_environment({{"STOVE_SANDBOX_TOKEN", "t0k3n"}})));
  own_token->adapter(Kind::cloud_space)->list({}, notes.context());
  CHECK(fake.calls().at(0).authorization == "bearer t0k3n");

  // A token of one's own is kept out of messages; the well-known default,
  // a word messages use, is not.
  fake.on("cloudspaces/get", 400, "the sandbox refused t0k3n");
  auto read_error = [&](Provider& p) -> std::string {
    try {
      p.adapter(Kind::cloud_space)->read(test::space_target("web", 1, "1"), notes.context());
    } catch (const ProviderError& e) {
      return e.what();
    }
    return "(no ProviderError)";
  };
  CHECK(read_error(*provider) == "cloudspaces/get: 400 Bad Request: the sandbox refused t0k3n");
  CHECK(read_error(*own_token) ==
        "cloudspaces/get: 400 Bad Request: the sandbox refused <redacted>");

  // The command layer replaces `sandbox` by the URL of the sandbox it started.
  config.endpoint = "sandbox:/tmp/cloud";
  CHECK(
      make_error(config, test::provider_options(test::fake_environment({})), ErrorKind::internal) ==
      R"(provider "sandbox": the embedded sandbox (endpoint "sandbox:/tmp/cloud") must be started before its provider is made)");
}
