#pragma once

// The sandbox's Bacularis: the subset of the Bacularis (Baculum) REST API v2
// that stove's backup adapter uses, on the same server as the cloudapi,
// under /api/v2/. The director's configuration is Client, FileSet,
// Schedule, Pool and Job resources, each a JSON object of directives,
// persisted in DATA_DIR/bacula.json (group-committed: a change is answered
// once it is on disk).
//
//   GET    /api/v2/config/dir/{Type}          [{"Type": {directives}}, ...]
//   GET    /api/v2/config/dir/{Type}/{Name}   {directives}
//   POST   /api/v2/config/dir/{Type}/{Name}   {"config": "<directives as a JSON string>"}
//   PUT    /api/v2/config/dir/{Type}/{Name}   same body; replaces the directives
//   DELETE /api/v2/config/dir/{Type}/{Name}
//   PUT    /api/v2/console                    ["reload"] -> {"output": ["reloaded"], "error": 0}
//   GET    /api/v2/jobs/resnames              {"output": {"sandbox-dir": [jobs]}}: the
//                                             jobs the director runs, as of the last
//                                             reload (a restart reloads)
//
//   POST   /api/v2/jobs/run                   {"name", "level" (F, I or D), "client",
//                                             "fileset", "storage", "pool"}: every one
//                                             required, as Bacularis does; output is
//                                             bconsole's, ending "Job queued. JobId=N"
//   GET    /api/v2/jobs/{jobid}               the catalog's record: jobid, job, name,
//                                             type, level, client, fileset, pool,
//                                             jobstatus, schedtime, starttime, endtime,
//                                             realendtime, jobfiles, jobbytes, joberrors
//   GET    /api/v2/joblog/{jobid}             the job's log, as a list of lines
//
// A run job is C (created) for the first quarter of the job duration, then
// R (running), then T (terminated normally). The file daemon is looked for,
// when the job is queued, at the job's Client Address: when no sandbox
// machine has that address, or its machine is HALTED, the job fails ('f', a
// fatal error in its log) when it would have started running; a machine
// stopped after that does not change the outcome. jobs/run errors: 50 the job does not exist
// (or is not loaded: reload first), 51 a level other than F, I, D, 52 no
// such FileSet, 53 no such Client, 54 no storage, 55 no such Pool.
//
// Replies are {"output": ..., "error": N}. As Baculum does, config errors
// come with HTTP 200 and a code: 94 validation (a bad name, a missing
// required directive, a bad Run directive, a reference to a resource that
// does not exist), 98 already exists, 99 dependency (deleting a resource a
// Job uses). A missing resource is 404 with error 97; an unknown path 404
// with error 8; a console command other than reload error 1; bad or
// missing credentials 401 with error 6. Credentials: `Authorization: Bearer
// TOKEN`, or basic auth as user "sandbox" with the token as password.
//
// Names: 1 to 127 characters, letters, digits, '-', '_', '.', ':' and
// spaces, but not at either end (Bacula allows spaces in quoted names).
// Required directives: Client Address; FileSet Include with at least one
// File; Schedule Run, each "[Key=Value ...] [date spec] at HH:MM" with Level
// (if given) Full, Incremental, Differential or VirtualFull; Job Type, and
// for a Backup job Client and FileSet; a Job's Client, FileSet, Schedule and
// Pool must exist.

#include "sandbox/cloud.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace stove::sandbox {

class Committer;

// The resource types, then names, and their directives.
using BaculaConfig = std::map<std::string, std::map<std::string, nlohmann::json>, std::less<>>;

// A job run through jobs/run, as the catalog keeps it. Its status follows
// from the time: C before start_ms, then f if it fails, else R until
// end_ms, then T.
struct JobRun {
  int64_t id = 0;
  std::string name;  // the Job resource
  std::string level; // F, I or D
  std::string client;
  std::string fileset;
  std::string pool;
  std::string storage;
  int64_t queued_ms = 0; // Unix time in milliseconds
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  std::string failure; // empty: it succeeds; else the fatal error it ends with
  int64_t files = 0;
  int64_t bytes = 0;
};

struct BaculaJobs {
  int64_t next_id = 1;
  std::map<int64_t, JobRun> runs;
};

nlohmann::json bacula_to_document(const BaculaConfig& config, const BaculaJobs& jobs = {});
// Throws std::runtime_error saying what is wrong.
BaculaConfig bacula_from_document(const nlohmann::json& document);
// The job runs a document holds (none in a file from before jobs/run).
BaculaJobs bacula_jobs_from_document(const nlohmann::json& document);

// How run jobs behave.
struct JobOptions {
  std::chrono::milliseconds duration{1000}; // queued -> terminated
  // Whether the file daemon at an address answers: nullopt when nothing
  // has the address, false when its machine is down. Unset: every client
  // answers.
  std::function<std::optional<bool>(std::string_view address)> client_reachable;
  std::function<int64_t()> clock; // Unix time in milliseconds; unset: the system clock
};

class Bacularis {
public:
  Bacularis(std::string data_dir, std::string token, JobOptions jobs = {});
  ~Bacularis();
  Bacularis(const Bacularis&) = delete;
  Bacularis& operator=(const Bacularis&) = delete;

  // Whether the path is this API's.
  static bool handles(std::string_view path);
  // Whether the request changes the configuration (or reloads it).
  static bool is_mutating(std::string_view method, std::string_view path);

  // Loads DATA_DIR/bacula.json, or writes an empty one; starts the writer.
  // Throws stove::Error(ErrorKind::io).
  void start();
  // Writes what is not on disk yet. Returns why that failed, if it did.
  std::optional<std::string> stop();

  // One request: credentials, routing, the change, and waiting until it is
  // on disk. Thread-safe.
  Reply serve(std::string_view method, std::string_view path, const std::string& authorization,
              const std::string& body);

  // The admin endpoint (server.cpp, /sandbox/admin/bacula/{Type}/{Name}),
  // behind the API's back and without its rules: admin_update merges
  // `directives` (a JSON object; a null value removes that directive) into
  // the resource, or creates it (201) when it does not exist; admin_delete
  // deletes it even when a Job uses it. Neither reloads the director. JSON
  // replies, errors {"error": "..."}; answered once on disk. Thread-safe.
  Reply admin_update(const std::string& type, const std::string& name,
                     const nlohmann::json& directives);
  Reply admin_delete(const std::string& type, const std::string& name);

  // The same without credentials or persistence (for tests of the rules).
  Reply call(std::string_view method, std::string_view path, const std::string& body);

  uint64_t writes() const;

private:
  Reply run_job(const std::string& body);
  Reply committed(Reply reply);

  std::string m_data_file;
  std::string m_token;
  mutable std::mutex m_mutex;
  BaculaConfig m_config;
  std::set<std::string, std::less<>> m_running_jobs; // as of the last reload
  JobOptions m_job_options;
  BaculaJobs m_jobs;
  uint64_t m_version = 0;
  std::unique_ptr<Committer> m_committer;
};

} // namespace stove::sandbox
