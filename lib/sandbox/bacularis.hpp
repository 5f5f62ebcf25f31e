#pragma once

// The sandbox's Bacularis: the part of the Bacularis REST API that stove's
// backup adapter uses, on the same server as the cloudapi, answering as
// Bacularis 3.2+ does (bacularis-api's Config, ConfigV2, ConsoleCommand,
// JobRun, Job and JobLog pages) over the director whose configuration
// bacula_config.hpp keeps. Persisted in DATA_DIR/bacula.json
// (group-committed: a change is answered once it is on disk).
//
// Both API versions are served: /api/v3/ and /api/v2/. Replies are
// {"output": ..., "error": N} with HTTP 200, whatever the error; bad or
// missing credentials are 401 with error 6. A path that matches no endpoint
// gets Bacularis' welcome message with error 0. As a server older than
// 3.2.0 (BacularisOptions.api_version 2), /api/v3/ answers with a PHP error
// page (HTTP 500, text/html), as those servers do.
//
//   GET    config/dir/{Type}         [{"Type": {directives}}, ...], Type as
//                                    bdirjson spells it ("Fileset")
//   GET    config/dir/{Type}/{Name}  {directives} as bdirjson prints them;
//                                    [] (error 0) when there is none
//   POST   config/dir/{Type}/{Name}  v3: creates; 98 if it exists
//   PUT    config/dir/{Type}/{Name}  v3: replaces (directives left out are
//                                    removed; another Name renames); 97 if
//                                    it does not exist. v2: creates or
//                                    replaces
//   DELETE config/dir/{Type}/{Name}  v3: 97 if missing, 99 (output: JSON
//                                    text of what uses it) if in use
//   (v2 has no POST or DELETE of a resource: error 1000.)
//
// POST and PUT take {"config": "<the directives, as JSON text>"}; the
// directives must include Name. A PUT whose X-Baculum-API header is missing
// or at most 0.2 is taken for PHP-serialized data (error 1000), as
// Bacularis does. Every write is checked as bdirjson -t checks the whole
// file (error 94, "Config validation error." with the director's message).
// PUT and DELETE find the resource by its type as bdirjson spells it: a
// PUT to .../FileSet/X of an existing Fileset X adds a second one (94),
// and a DELETE of .../FileSet/X finds none (97).
//
//   PUT    console                   ["reload"]: the director rereads its
//                                    configuration (jobs/run sees the Jobs
//                                    as of the last reload); other commands
//                                    error 1
//   POST   jobs/run                  {"name", "level" (F, I or D), "client",
//                                    "fileset", "storage", "pool"}
//   GET    jobs/{jobid}, joblog/{jobid}
//                                    the catalog's record, the job's log
//   (bacula_jobs.hpp: how runs go; errors 50 to 55.)
//
// Credentials: `Authorization: Bearer TOKEN`, or basic auth as user
// "sandbox" with the token as password.

#include "sandbox/bacula_config.hpp"
#include "sandbox/bacula_jobs.hpp"
#include "sandbox/reply.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace stove::sandbox {

class Committer;

struct BacularisOptions {
  // 3: Bacularis 3.2.0 or later (API v2 and v3); 2: an older one (API v2
  // only).
  int api_version = 3;
};

// The password the sandbox's data from before version 2 gets for a Client
// that had none (a director requires one).
inline constexpr std::string_view k_sandbox_client_password = "sandbox-fd";

class Bacularis {
public:
  Bacularis(std::string data_dir, std::string token, JobOptions jobs = {},
            BacularisOptions options = {});
  ~Bacularis();
  Bacularis(const Bacularis&) = delete;
  Bacularis& operator=(const Bacularis&) = delete;

  // Whether the path is this API's (/api/...).
  static bool handles(std::string_view path);
  // Whether the request changes the configuration (or reloads it).
  static bool is_mutating(std::string_view method, std::string_view path);

  // Loads DATA_DIR/bacula.json (upgrading the sandbox's version 1 data), or
  // writes an empty one; starts the writer. Throws stove::Error(ErrorKind::io).
  void start();
  // Writes what is not on disk yet. Returns why that failed, if it did.
  std::optional<std::string> stop();

  // One request: credentials, routing, the change, and waiting until it is
  // on disk. `client_version` is the X-Baculum-API header's value. Thread-safe.
  Reply serve(std::string_view method, std::string_view path, const std::string& authorization,
              const std::string& client_version, const std::string& body);

  // The admin endpoint (server.cpp, /sandbox/admin/bacula/{Type}/{Name}),
  // behind the API's back and without its cross-resource checks:
  // admin_update merges `directives` (as Bacularis takes them; a null value
  // removes that directive) into the resource, or creates it (201);
  // admin_delete deletes it even when a Job uses it. Neither reloads the
  // director. JSON replies, errors {"error": "..."}; answered once on disk.
  Reply admin_update(const std::string& type, const std::string& name,
                     const nlohmann::json& directives);
  Reply admin_delete(const std::string& type, const std::string& name);
  // The director's configuration as a bacula-dir.conf (GET
  // /sandbox/admin/bacula/config): what bacula-dir -t and bdirjson read as
  // the API answers. Its working directory is DATA_DIR/bacula-dir.
  std::string config_text() const;

  // The same as serve() without credentials or persistence (for tests of the
  // rules).
  Reply call(std::string_view method, std::string_view path, const std::string& body,
             const std::string& client_version = "0.4");

  uint64_t writes() const;

private:
  Reply config_call(std::string_view method, int version, const std::string& type,
                    const std::string& name, const std::string& client_version,
                    const std::string& body);
  Reply write_resource(std::string_view method, int version, const std::string& type,
                       const std::string& name, const std::string& client_version,
                       const std::string& body);
  Reply delete_resource(const std::string& type, const std::string& name);
  Reply console(const std::string& body);
  Reply committed(Reply reply);
  void load_running_jobs();

  std::string m_data_file;
  std::string m_working_directory;
  std::string m_token;
  BacularisOptions m_options;
  mutable std::mutex m_mutex;
  bacula::Resources m_config;                        // the fixed resources included
  std::set<std::string, std::less<>> m_running_jobs; // as of the last reload
  JobOptions m_job_options;
  BaculaJobs m_jobs;
  uint64_t m_version = 0;
  std::unique_ptr<Committer> m_committer;
};

} // namespace stove::sandbox
