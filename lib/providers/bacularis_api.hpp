#pragma once

// The Bacularis REST API as the backup adapter speaks it (internal to
// lib/providers): the version the server has, the request headers, the
// reply envelope and what its error codes mean.
//
// Versions. Bacularis 3.2.0 added API v3, whose config/dir/{Type}/{Name}
// takes POST (create) and DELETE besides GET and PUT; API v2, all that
// older servers have, takes only GET and PUT (a PUT creates a missing
// resource). The version is found once, on first use, by reading
// config/dir/Director through /api/v3/: a JSON reply means v3, anything
// else (older servers answer /api/v3/ with a PHP error page) v2. Against
// v2, creates are a GET then a PUT, and deletes are refused: v2 cannot
// delete a resource.
//
// Every request carries `X-Baculum-API: 0.4` (without it, or with 0.2 or
// less, Bacularis decodes a PUT's body with PHP's unserialize()) and
// `Accept: application/json`. Replies are {"output": ..., "error": N} with
// HTTP 200 whatever the error; a missing resource reads as output [] with
// error 0 (bdirjson prints {} for no match), and is error 97 to PUT (v3) and
// DELETE. Writes go one at a time: Bacularis rewrites the director's whole
// file on each, and two at once could lose one.

#include "providers/bacularis.hpp"

#include <nlohmann/json.hpp>

#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace stove::providers::bacularis {

// Bacularis error codes (BaculaConfigError, GenericError).
inline constexpr int k_error_validation = 94;
inline constexpr int k_error_does_not_exist = 97;
inline constexpr int k_error_already_exists = 98;
inline constexpr int k_error_dependency = 99;
inline constexpr int k_error_internal = 1000;

// The header Bacularis reads a client's API version from, and the value
// that makes it decode JSON bodies.
inline constexpr std::string_view k_client_version_header = "X-Baculum-API";
inline constexpr std::string_view k_client_version = "0.4";

class Api {
public:
  struct Reply {
    long status = 0;
    int64_t error = 0; // Bacularis' error code; -1 when the reply had none
    nlohmann::json output;
    std::string text; // the raw body
    bool ok() const { return status >= 200 && status < 300 && error == 0; }
    // A missing resource: error 97, or GET's empty output.
    bool missing() const;
  };

  Api(Settings settings, http::ClientOptions options);

  http::Stats stats() const { return m_client.stats(); }
  const http::RetryPolicy& retry() const { return m_client.options().retry; }
  const Settings& settings() const { return m_settings; }

  // 3 or 2: the server's API version, found on first use.
  int version(const OpContext& context);

  static std::string config_path(std::string_view type, std::string_view name = {});

  // Sends METHOD {endpoint}/api/vN/PATH; transport failures throw.
  Reply send(const std::string& method, const std::string& path, const nlohmann::json* body,
             const OpContext& context, bool idempotent = true);
  // "POST config/dir/Job/nightly: error 94: <the director's message>"
  std::string error_text(const std::string& method, const std::string& path,
                         const Reply& reply) const;
  [[noreturn]] void fail(const std::string& method, const std::string& path,
                         const Reply& reply) const;
  // Sends and returns the output of a successful reply; anything else is a
  // ProviderError.
  nlohmann::json call(const std::string& method, const std::string& path,
                      const nlohmann::json* body, const OpContext& context);

  // The directives of a resource as bdirjson prints them, or nullopt if
  // there is none.
  std::optional<nlohmann::json> get(std::string_view type, std::string_view name,
                                    const OpContext& context);
  // Every resource of `type`, as its directives.
  std::vector<nlohmann::json> list(std::string_view type, const OpContext& context);

  enum class Created { created, exists, unknown };
  // Creates a resource from its directives (Name among them): POST on v3, a
  // GET then a PUT on v2. `exists` when one of that name is there already;
  // `unknown` when the reply says it may or may not have been made (a 5xx,
  // a 429 the client gave up on), with that reply's text in `why`. Other
  // refusals throw ProviderError; so do transport failures.
  Created create(std::string_view type, const nlohmann::json& directives, const OpContext& context,
                 std::string* why);
  // Replaces a resource with `directives` (PUT: what they leave out is
  // removed). Returns false when it does not exist (v3); throws otherwise.
  bool replace(std::string_view type, const nlohmann::json& directives, const OpContext& context);

  enum class Removed { removed, missing, in_use };
  // Deletes a resource. `in_use` (error 99) puts what uses it in `users`.
  // Throws ProviderError for other failures, and against API v2.
  Removed remove(std::string_view type, std::string_view name, const OpContext& context,
                 std::string* users = nullptr);

  // PUT console ["reload"]: the director rereads its configuration.
  void reload(const OpContext& context);
  // The Jobs the director runs, as of its last reload (jobs/resnames).
  std::set<std::string> loaded_jobs(const OpContext& context);

private:
  std::string redact(std::string text) const;
  int detect_version(const OpContext& context);

  Settings m_settings;
  http::Client m_client;
  std::string m_authorization;
  std::mutex m_version_mutex;
  int m_version = 0;        // 0 until found
  std::mutex m_write_mutex; // one write at a time
};

// A reply's output as one line of text: a string, lines joined, or JSON;
// for a validation error, the director's own message.
std::string output_text(const nlohmann::json& output);

} // namespace stove::providers::bacularis
