#pragma once

// The Bacularis REST API adapter: `backup` resources, as Bacula director
// configuration. It speaks API v3 (Bacularis 3.2.0 and later) and, with
// deletes refused, API v2 (bacularis_api.hpp: the wire, versions and
// errors); what a backup is in the director and how it reads back are in
// bacularis_directives.hpp; the `run` action in bacularis_run.hpp.
//
// Credentials: HTTP basic auth (username_env / password_env) or an OAuth2
// bearer token (token_env). client_password_env names the variable holding
// the file daemons' password, which every Client stove makes needs (the
// director requires one).

#include "providers/provider.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace stove::providers::bacularis {

// The longest Bacula resource name, and the longest backup name: its
// FileSet, Schedule and Pool are named after it with a suffix.
inline constexpr size_t k_max_name = 127;
inline constexpr size_t k_max_job_name = k_max_name - 9; // "-schedule"

struct Settings {
  std::string provider_name;
  std::string endpoint;             // http(s)://host[:port][/prefix], no trailing slash
  std::optional<std::string> token; // bearer; else basic auth
  std::string username;
  std::string password;
  std::string credential_hint; // "check the token in X": for 401/403 messages
  // The file daemons' password (client_password_env), written into each
  // Client this provider makes; a secret, never observed or logged. Unset:
  // stove writes none and keeps the one an operator set.
  std::optional<std::string> client_password;
  // Whether the token is a credential to keep out of messages and logs:
  // not the sandbox's well-known default ("sandbox").
  bool token_is_secret = true;
};

// Reads a `bacularis` provider's configuration and its credentials from
// `environment`: token_env when set, else username_env and password_env
// (STOVE_BACULARIS_USER, STOVE_BACULARIS_PASSWORD). Throws
// stove::Error(ErrorKind::input) naming a missing variable, never a value.
Settings settings_from_config(const ProviderConfig& config, const Environment& environment);

// The provider for those settings; the credentials are registered with its
// http::Client as secrets.
std::unique_ptr<Provider> make(Settings settings, http::ClientOptions http);

// The factory registered for `type: bacularis`.
std::unique_ptr<Provider> factory(const ProviderConfig& config, const ProviderOptions& options);

// Whether `name` is a valid Bacula resource name: 1 to 127 letters, digits,
// '-', '_', '.', ':' and inner spaces.
bool valid_name(std::string_view name);

// The Client of a machine: its name with anything Bacula does not allow
// replaced by '-', cut to fit, and "-fd" appended ("web 1" -> "web-1-fd").
std::string client_name(std::string_view machine_name);

} // namespace stove::providers::bacularis
