#pragma once

// The OpenVCloud cloudapi adapter: cloud spaces and machines. Every call is
// `POST {endpoint}/restmachine/cloudapi/{actor}/{method}` with a JSON body
// and `Authorization: bearer <JWT>`. The `openvcloud` provider type and the
// sandbox provider (whose fake cloudapi speaks the same wire format) both
// build on it.

#include "providers/provider.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace stove::providers::openvcloud {

// Client credentials exchanged for a JWT at token_url (grant_type
// client_credentials), when no token is given.
struct ClientCredentials {
  std::string token_url;
  std::string client_id;
  std::string client_secret;
  std::string client_id_variable; // for messages: where they came from
  std::string client_secret_variable;
};

// What the adapter needs, credentials resolved.
struct Settings {
  std::string provider_name;
  std::string endpoint; // http(s)://host[:port][/prefix], no trailing slash
  int64_t account_id = 0;
  // `access` of cloudspaces/create, which the G8 requires: the setting,
  // else USERNAME@ISS from the token's claims (empty until then for an
  // exchanged token).
  std::string access;
  std::optional<std::string> token;             // the bearer token, if given
  std::optional<ClientCredentials> credentials; // otherwise, how to get one
  std::string token_variable;                   // for messages: where the token came from
  // Whether the token is a credential to keep out of messages and logs:
  // not the sandbox's well-known default.
  bool token_is_secret = true;
};

// Reads an `openvcloud` provider's configuration and the credentials from
// `environment`. Throws stove::Error(ErrorKind::input) naming the variable
// (never a value) when a credential is missing, for a bad endpoint, or
// when `access` is unset and the token is not a JWT that names its user.
Settings settings_from_config(const ProviderConfig& config, const Environment& environment);

// The provider for those settings: one http::Client named after the
// provider, the credentials registered with it as secrets.
std::unique_ptr<Provider> make(Settings settings, http::ClientOptions http);

// The factory registered for `type: openvcloud`.
std::unique_ptr<Provider> factory(const ProviderConfig& config, const ProviderOptions& options);

} // namespace stove::providers::openvcloud
