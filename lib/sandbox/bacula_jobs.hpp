#pragma once

// The sandbox director's catalog of job runs: what POST jobs/run queues and
// GET jobs/{jobid} and joblog/{jobid} report. A run's status follows from
// the clock: C (created) for the first quarter of the job duration, then R
// (running), then T (terminated normally); or f (a fatal error) when its
// file daemon cannot be reached as the job starts.

#include "sandbox/bacula_config.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace stove::sandbox {

// A job run, as the catalog keeps it.
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

// How run jobs behave.
struct JobOptions {
  std::chrono::milliseconds duration{1000}; // queued -> terminated
  // Whether the file daemon at an address answers: nullopt when nothing
  // has the address, false when its machine is down. Unset: every client
  // answers.
  std::function<std::optional<bool>(std::string_view address)> client_reachable;
  std::function<int64_t()> clock; // Unix time in milliseconds; unset: the system clock
};

// Now, in Unix milliseconds, by the options' clock (the system's if unset).
int64_t now_ms(const JobOptions& options);

nlohmann::json jobs_to_json(const BaculaJobs& jobs);
// The runs a data document holds (none in one from before jobs/run).
// Throws std::runtime_error saying what is wrong.
BaculaJobs jobs_from_document(const nlohmann::json& document);

// The catalog's record of a run (GET jobs/{jobid}) and its log so far (GET
// joblog/{jobid}), at `now`.
nlohmann::json run_record(const JobRun& run, int64_t now);
nlohmann::json run_log(const JobRun& run, int64_t now);

// An answer to POST jobs/run: Bacularis' error code and output.
struct RunAnswer {
  int error = 0;
  nlohmann::json output;
};

// POST jobs/run with `params`, checked as Bacularis checks them (the job
// loaded at the last reload, then the level, FileSet, Client, Storage and
// Pool), against `resources`. Queues the run in `jobs` and answers with
// bconsole's output, ending "Job queued. JobId=N".
RunAnswer queue_run(const nlohmann::json& params, const bacula::Resources& resources, bool loaded,
                    BaculaJobs& jobs, const JobOptions& options);

} // namespace stove::sandbox
