#include "model/provider.hpp"

#include <algorithm>
#include <array>

namespace stove {

namespace {

ProviderSetting env_setting(std::string_view name, std::string_view default_var,
                            std::string_view doc) {
  ProviderSetting s;
  s.name = name;
  s.default_value = default_var.empty() ? nlohmann::json(nullptr) : nlohmann::json(default_var);
  s.doc = doc;
  return s;
}

// The rule the G8 applies to cloudspaces/create's `access` (its name
// validator): at least two characters, none of < > " '.
std::string check_g8_user(std::string_view value) {
  if (value.find_first_of("<>\"'") != std::string_view::npos) {
    return "must not contain < > \" or ' (the G8 refuses them in a user name)";
  }
  if (value.size() < 2) {
    return "must be at least two characters (the G8 refuses a shorter user name)";
  }
  return {};
}

std::vector<ProviderTypeSchema> build_table() {
  std::vector<ProviderTypeSchema> types;

  ProviderSetting account;
  account.name = "account_id";
  account.type = FieldType::integer;
  account.required = true;
  account.doc = "The OpenVCloud account that owns the cloud spaces.";
  ProviderSetting token_url;
  token_url.name = "token_url";
  token_url.doc = "Where to exchange client credentials for a JWT, if no token is given.";
  ProviderSetting access;
  access.name = "access";
  access.doc = "The G8 user given access to the cloud spaces stove creates; unset: USERNAME@ISS "
               "from the JWT's claims.";
  access.check = check_g8_user;
  types.push_back(ProviderTypeSchema{
      "openvcloud",
      {Kind::cloud_space, Kind::machine},
      true,
      {account,
       env_setting("token_env", "STOVE_OVC_TOKEN", "Variable holding the JWT bearer token."),
       token_url,
       env_setting("client_id_env", "", "Variable holding the client id, with token_url."),
       env_setting("client_secret_env", "",
                   "Variable holding the client secret, with token_url."),
       access},
      "OpenVCloud cloudapi: cloud spaces and machines."});

  types.push_back(ProviderTypeSchema{
      "bacularis",
      {Kind::backup},
      true,
      {env_setting("username_env", "STOVE_BACULARIS_USER", "Variable holding the user name."),
       env_setting("password_env", "STOVE_BACULARIS_PASSWORD", "Variable holding the password."),
       env_setting("token_env", "", "Variable holding an OAuth2 bearer token instead."),
       env_setting("client_password_env", "",
                   "Variable holding the file daemons' password, written into each Client "
                   "(a director needs it to reach them); unset: left to Bacularis.")},
      "Bacularis / Baculum REST API v2: backup jobs."});

  ProviderSetting region;
  region.name = "region";
  region.default_value = "us-east-1";
  region.doc = "The endpoint's region (an AWS endpoint's own): ListBuckets and buckets without "
               "a region are signed for it; a bucket in another region is signed for, and on "
               "AWS sent to, its own.";
  types.push_back(ProviderTypeSchema{
      "s3",
      {Kind::bucket},
      true,
      {region,
       env_setting("access_key_env", "AWS_ACCESS_KEY_ID", "Variable holding the access key id."),
       env_setting("secret_key_env", "AWS_SECRET_ACCESS_KEY",
                   "Variable holding the secret access key."),
       env_setting("session_token_env", "AWS_SESSION_TOKEN",
                   "Variable holding a session token, if any.")},
      "S3 REST API with Signature V4: buckets."});

  types.push_back(ProviderTypeSchema{
      "sandbox",
      {Kind::cloud_space, Kind::machine, Kind::backup, Kind::bucket},
      false,
      {},
      "The embedded sandbox cloud: every kind, on loopback, for trying stove out and tests."});
  return types;
}

const std::vector<ProviderTypeSchema>& table() {
  static const std::vector<ProviderTypeSchema> types = build_table();
  return types;
}

} // namespace

const ProviderSetting* ProviderTypeSchema::setting(std::string_view name) const {
  for (const auto& s : settings) {
    if (s.name == name) {
      return &s;
    }
  }
  return nullptr;
}

bool ProviderTypeSchema::serves(Kind kind) const {
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

std::span<const ProviderTypeSchema> all_provider_types() { return table(); }

const ProviderTypeSchema* find_provider_type(std::string_view type) {
  for (const auto& t : table()) {
    if (t.type == type) {
      return &t;
    }
  }
  return nullptr;
}

bool looks_like_secret(std::string_view name) {
  static constexpr std::array<std::string_view, 10> k_secret_names = {
      "token", "password", "secret", "secret_key", "access_key", "client_secret",
      "api_key", "jwt", "secret_access_key", "session_token"};
  return std::find(k_secret_names.begin(), k_secret_names.end(), name) != k_secret_names.end();
}

bool ProviderConfig::serves(Kind kind) const {
  const auto* schema = find_provider_type(type);
  return schema != nullptr && schema->serves(kind);
}

ProviderConfig implicit_sandbox_provider() {
  ProviderConfig p;
  p.name = std::string(k_sandbox_provider);
  p.type = "sandbox";
  p.endpoint = "sandbox";
  return p;
}

} // namespace stove
