#pragma once

// The Bacularis (Baculum) REST API v2 adapter: `backup` resources, as
// Bacula director configuration.
//
// Wire format. Every call is `{endpoint}/api/v2/...` with JSON bodies and
// either HTTP basic auth (username_env / password_env) or an OAuth2 bearer
// token (token_env). Replies are `{"output": ..., "error": N}`; a non-zero
// error is a failure whose message is in output (a string or a list of
// lines), whatever the HTTP status.
//
//   GET    /api/v2/config/dir/{Type}          [{"Type": {directives}}, ...]
//   GET    /api/v2/config/dir/{Type}/{Name}   {directives}; error 97 if missing
//   POST   /api/v2/config/dir/{Type}/{Name}   {"config": "<directives as a JSON string>"}
//                                             error 98 if it exists
//   PUT    /api/v2/config/dir/{Type}/{Name}   same body; replaces the resource
//   DELETE /api/v2/config/dir/{Type}/{Name}   error 99 while another resource uses it
//   PUT    /api/v2/console                    ["reload"]: the director rereads its config
////   POST   /api/v2/jobs/run                   {"name", "level": F|I|D, "client", "fileset",
//                                             "storage", "pool"}: the `run` action; output
//                                             is bconsole's, with "Job queued. JobId=N"
//   GET    /api/v2/jobs/{jobid}               the catalog's record; jobstatus C, R, ... then
//                                             T or W (success), E, e, f, I (failure), A
//   GET    /api/v2/joblog/{jobid}             the job's log lines: a failure's message
//
// What one backup makes (JOB is the backup's name, the remote id):
//   Client   MACHINE-fd      Address = the machine's ip_address, FDPort 9102,
//                            Catalog MyCatalog, AutoPrune yes. Shared by every
//                            backup of the machine. Password: the one in
//                            client_password_env if set, else none written and
//                            an operator's kept (updates merge into what is
//                            there). A secret: never observed, in the state or
//                            logged.
//   FileSet  JOB-fileset     Include [{File: fileset, Options: [{Signature: MD5}]}],
//                            Exclude [{File: excludes}] (left out when empty)
//   Schedule JOB-schedule    Run [schedule]
//   Pool     JOB-pool        retention_days as VolumeRetention, JobRetention and
//                            FileRetention ("N days"), PoolType Backup, AutoPrune
//                            and Recycle yes, LabelFormat "JOB-": per-job
//                            retention (on the shared Client it would be one
//                            value for every backup of a machine).
//   Job      JOB             Type Backup, Level Incremental (the Run directive
//                            may override it), Client, FileSet, Schedule, Pool,
//                            Storage File1, Messages Standard, Enabled yes/no.
// Then a reload. Observed: name, client, schedule, fileset, excludes,
// retention_days, enabled.
//
// The `run` action (stove exec) observes last_job: id, status, level,
// started, ended, files, bytes.

#include "providers/provider.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace stove::providers::bacularis {

// Bacularis error codes (BaculaConfigError).
inline constexpr int k_error_validation = 94;
inline constexpr int k_error_does_not_exist = 97;
inline constexpr int k_error_already_exists = 98;
inline constexpr int k_error_dependency = 99;

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
