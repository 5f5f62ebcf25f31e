#include "sandbox/bacula_jobs.hpp"

#include "model/bacula_name.hpp"
#include "sandbox/clock.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <stdexcept>

namespace stove::sandbox {

using nlohmann::json;

namespace {

constexpr std::string_view k_director = "sandbox-dir";
constexpr int k_fd_port = 9102;

// JobError.
constexpr int k_job_does_not_exist = 50;
constexpr int k_invalid_job_level = 51;
constexpr int k_fileset_does_not_exist = 52;
constexpr int k_client_does_not_exist = 53;
constexpr int k_storage_does_not_exist = 54;
constexpr int k_pool_does_not_exist = 55;

// "2026-11-22 07:48:00", as the catalog has times.
std::string catalog_time(int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
  return text;
}

// "22-Nov 07:48", as the job log has them.
std::string log_time(int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%d-%b %H:%M", &tm);
  return text;
}

std::string_view level_name(std::string_view letter) {
  if (letter == "F") {
    return "Full";
  }
  if (letter == "D") {
    return "Differential";
  }
  return "Incremental";
}

char run_status(const JobRun& run, int64_t now) {
  if (now < run.start_ms) {
    return 'C';
  }
  if (!run.failure.empty()) {
    return 'f';
  }
  return now < run.end_ms ? 'R' : 'T';
}

// How many paths a FileSet's Include names.
int64_t included_paths(const json* fileset) {
  if (fileset == nullptr) {
    return 0;
  }
  int64_t count = 0;
  for (const auto& block : fileset->value("Include", json::array())) {
    count += static_cast<int64_t>(block.value("File", json::array()).size());
  }
  return count;
}

} // namespace

int64_t now_ms(const JobOptions& options) {
  return options.clock ? options.clock() : system_now_ms();
}

json jobs_to_json(const BaculaJobs& jobs) {
  json runs = json::array();
  for (const auto& [id, r] : jobs.runs) {
    runs.push_back({{"id", r.id},
                    {"name", r.name},
                    {"level", r.level},
                    {"client", r.client},
                    {"fileset", r.fileset},
                    {"pool", r.pool},
                    {"storage", r.storage},
                    {"queued_ms", r.queued_ms},
                    {"start_ms", r.start_ms},
                    {"end_ms", r.end_ms},
                    {"failure", r.failure},
                    {"files", r.files},
                    {"bytes", r.bytes}});
  }
  return runs;
}

BaculaJobs jobs_from_document(const json& document) {
  BaculaJobs jobs;
  try {
    jobs.next_id = document.value("next_jobid", int64_t{1});
    for (const json& j : document.value("jobs", json::array())) {
      JobRun r;
      r.id = j.at("id").get<int64_t>();
      r.name = j.at("name").get<std::string>();
      r.level = j.at("level").get<std::string>();
      r.client = j.at("client").get<std::string>();
      r.fileset = j.at("fileset").get<std::string>();
      r.pool = j.at("pool").get<std::string>();
      r.storage = j.at("storage").get<std::string>();
      r.queued_ms = j.at("queued_ms").get<int64_t>();
      r.start_ms = j.at("start_ms").get<int64_t>();
      r.end_ms = j.at("end_ms").get<int64_t>();
      r.failure = j.at("failure").get<std::string>();
      r.files = j.at("files").get<int64_t>();
      r.bytes = j.at("bytes").get<int64_t>();
      // Job ids never repeat, even if the counter was lost.
      jobs.next_id = std::max(jobs.next_id, r.id + 1);
      int64_t id = r.id;
      if (!jobs.runs.emplace(id, std::move(r)).second) {
        throw std::runtime_error(fmt::format("job {} appears twice", id));
      }
    }
  } catch (const json::exception& e) {
    throw std::runtime_error(fmt::format("jobs: {}", e.what()));
  }
  return jobs;
}

json run_record(const JobRun& run, int64_t now) {
  const char status = run_status(run, now);
  const bool started = status != 'C';
  const bool ended = status == 'T' || status == 'f';
  const int64_t ended_ms = status == 'f' ? run.start_ms : run.end_ms;
  const bool ok = status == 'T';
  return {{"jobid", run.id},
          {"job", fmt::format("{}.{}_{:02}", run.name, catalog_time(run.queued_ms).substr(0, 10),
                              run.id % 100)},
          {"name", run.name},
          {"type", "B"},
          {"level", run.level},
          {"client", run.client},
          {"fileset", run.fileset},
          {"pool", run.pool},
          {"storage", run.storage},
          {"jobstatus", std::string(1, status)},
          {"schedtime", catalog_time(run.queued_ms)},
          {"starttime", started ? json(catalog_time(run.start_ms)) : json(nullptr)},
          {"endtime", ended ? json(catalog_time(ended_ms)) : json(nullptr)},
          {"realendtime", ended ? json(catalog_time(ended_ms)) : json(nullptr)},
          {"jobfiles", ok ? run.files : 0},
          {"jobbytes", ok ? run.bytes : 0},
          {"joberrors", status == 'f' ? 1 : 0}};
}

json run_log(const JobRun& run, int64_t now) {
  const char status = run_status(run, now);
  auto line = [&](int64_t at, const std::string& text) {
    return fmt::format("{} {} JobId {}: {}", log_time(at), k_director, run.id, text);
  };
  json lines = json::array();
  if (status == 'C') {
    return lines;
  }
  lines.push_back(line(run.start_ms, fmt::format("Start Backup JobId {}, Job={}", run.id,
                                                 run_record(run, now)["job"].get<std::string>())));
  if (status == 'f') {
    lines.push_back(line(run.start_ms, fmt::format("Fatal error: {}", run.failure)));
    lines.push_back(
        line(run.start_ms, "Error: Bacula sandbox-dir: Termination: *** Backup Error ***"));
    return lines;
  }
  lines.push_back(line(run.start_ms, "Using Device \"FileChgr1-Dev1\" to write."));
  if (status == 'T') {
    lines.push_back(line(run.end_ms, fmt::format("Bacula sandbox-dir: {} Backup OK: {} files, "
                                                 "{} bytes. Termination: Backup OK",
                                                 level_name(run.level), run.files, run.bytes)));
  }
  return lines;
}

RunAnswer queue_run(const json& params_in, const bacula::Resources& resources, bool loaded,
                    BaculaJobs& jobs, const JobOptions& options) {
  const json params = params_in.is_object() ? params_in : json::object();
  auto text = [&](const char* key) {
    auto it = params.find(key);
    return it != params.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const std::string name = text("name");
  if (name.empty() || check_bacula_name(name) ||
      bacula::find_resource(resources, "Job", name) == nullptr || !loaded) {
    return {k_job_does_not_exist, "Job does not exist."};
  }
  const std::string level = text("level");
  if (level != "F" && level != "I" && level != "D") {
    return {k_invalid_job_level, "Inputted job level is invalid."};
  }
  const std::string fileset = text("fileset");
  if (fileset.empty() || bacula::find_resource(resources, "Fileset", fileset) == nullptr) {
    return {k_fileset_does_not_exist, "FileSet resource does not exist."};
  }
  const std::string client = text("client");
  const json* client_resource =
      client.empty() ? nullptr : bacula::find_resource(resources, "Client", client);
  if (client_resource == nullptr) {
    return {k_client_does_not_exist, "Client does not exist."};
  }
  const std::string storage = text("storage");
  if (storage.empty() || bacula::find_resource(resources, "Storage", storage) == nullptr) {
    return {k_storage_does_not_exist, "Storage does not exist."};
  }
  const std::string pool = text("pool");
  if (pool.empty() || bacula::find_resource(resources, "Pool", pool) == nullptr) {
    return {k_pool_does_not_exist, "Pool does not exist."};
  }

  const int64_t now = now_ms(options);
  const int64_t duration = std::max<int64_t>(options.duration.count(), 0);
  JobRun run;
  run.id = jobs.next_id++;
  run.name = name;
  run.level = level;
  run.client = client;
  run.fileset = fileset;
  run.pool = pool;
  run.storage = storage;
  run.queued_ms = now;
  run.start_ms = now + duration / 4;
  run.end_ms = now + duration;
  // The file daemon is reached when the job starts.
  const std::string address = client_resource->value("Address", "");
  const int64_t port = client_resource->value("FdPort", int64_t{k_fd_port});
  std::optional<bool> reachable = true;
  if (options.client_reachable) {
    reachable = options.client_reachable(address);
  }
  if (!reachable || !*reachable) {
    run.failure =
        fmt::format("bsockcore.c:209 Unable to connect to Client: {} on {}:{}. ERR={}", client,
                    address, port, reachable ? "Connection refused" : "No route to host");
  }
  const int64_t paths =
      std::max<int64_t>(included_paths(bacula::find_resource(resources, "Fileset", fileset)), 1);
  run.files = paths * (level == "F" ? 1200 : 40);
  run.bytes = run.files * 8192;
  const int64_t id = run.id;
  jobs.runs.emplace(id, std::move(run));

  json output = json::array(
      {"Using Catalog \"MyCatalog\"", "Run Backup job", fmt::format("JobName:  {}", name),
       fmt::format("Level:    {}", level_name(level)), fmt::format("Client:   {}", client),
       fmt::format("FileSet:  {}", fileset), fmt::format("Pool:     {}", pool),
       fmt::format("Storage:  {}", storage), fmt::format("When:     {}", catalog_time(now)),
       "Priority: 10", "OK to run? (yes/mod/no): yes", fmt::format("Job queued. JobId={}", id)});
  return {0, std::move(output)};
}

} // namespace stove::sandbox
