#include "sandbox/bacularis.hpp"

#include "model/bacula_name.hpp"
#include "model/error.hpp"
#include "sandbox/admin.hpp"
#include "sandbox/committer.hpp"
#include "state/atomic_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

namespace stove::sandbox {

using nlohmann::json;

namespace {

constexpr std::string_view k_prefix = "/api/v2/";
constexpr std::string_view k_document_format = "stove-sandbox-bacula";
constexpr int k_document_version = 1;
constexpr std::string_view k_director = "sandbox-dir";
constexpr size_t k_max_name = 127;

// Bacularis' error codes (GenericError, AuthorizationError, BaculaConfigError).
constexpr int k_invalid_command = 1;
constexpr int k_unauthorized = 6;
constexpr int k_invalid_path = 8;
constexpr int k_validation = 94;
constexpr int k_does_not_exist = 97;
constexpr int k_already_exists = 98;
constexpr int k_dependency = 99;
// JobError.
constexpr int k_job_does_not_exist = 50;
constexpr int k_invalid_job_level = 51;
constexpr int k_fileset_does_not_exist = 52;
constexpr int k_client_does_not_exist = 53;
constexpr int k_storage_does_not_exist = 54;
constexpr int k_pool_does_not_exist = 55;
constexpr int k_fd_port = 9102;

constexpr std::array<std::string_view, 5> k_types = {"Client", "FileSet", "Schedule", "Pool",
                                                     "Job"};
// The directives of a Job that name other resources, and their types.
constexpr std::array<std::pair<std::string_view, std::string_view>, 4> k_job_references = {
    {{"Client", "Client"}, {"FileSet", "FileSet"}, {"Schedule", "Schedule"}, {"Pool", "Pool"}}};

Reply answer(int status, int error, json output, uint64_t version = 0) {
  return Reply{status, {{"output", std::move(output)}, {"error", error}}, version};
}

class Refusal : public std::exception {
public:
  Refusal(int status, int error, std::string message)
      : m_status(status), m_error(error), m_message(std::move(message)) {}
  Reply reply() const { return answer(m_status, m_error, m_message); }
  const char* what() const noexcept override { return m_message.c_str(); }

private:
  int m_status;
  int m_error;
  std::string m_message;
};

[[noreturn]] void invalid(std::string detail) {
  throw Refusal(200, k_validation, fmt::format("Config validation error. {}", detail));
}

std::string resource_text(std::string_view type, std::string_view name) {
  return fmt::format("Component Type: dir, Resource Type: {}, Resource Name: {}", type, name);
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

bool name_char(char c) { return bacula_name_char(c) || c == ' '; }

// Why `name` is not a valid Bacula resource name, or nullopt.
std::optional<std::string> name_problem(std::string_view name) {
  if (name.empty()) {
    return "a name cannot be empty";
  }
  if (name.size() > k_max_name) {
    return fmt::format("a name has at most {} characters, not {}", k_max_name, name.size());
  }
  if (name.front() == ' ' || name.back() == ' ') {
    return "a name cannot start or end with a space";
  }
  for (char c : name) {
    if (!name_char(c)) {
      return fmt::format("a name holds letters, digits, spaces and - _ . : only, not '{}'",
                         std::string(1, c));
    }
  }
  return std::nullopt;
}

std::vector<std::string> split(std::string_view text, char by) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(by, start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::string word;
  for (char c : text) {
    if (c == ' ' || c == '\t') {
      if (!word.empty()) {
        out.push_back(std::move(word));
        word.clear();
      }
    } else {
      word.push_back(c);
    }
  }
  if (!word.empty()) {
    out.push_back(std::move(word));
  }
  return out;
}

bool digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int to_int(std::string_view text) {
  int value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// Why a Run directive is not valid, or nullopt: "[Key=Value ...] [date
// spec] at HH:MM", Level one of Bacula's backup levels.
std::optional<std::string> run_problem(std::string_view run) {
  std::vector<std::string> tokens = words(run);
  size_t i = 0;
  for (; i < tokens.size(); ++i) {
    auto eq = tokens[i].find('=');
    if (eq == std::string::npos) {
      break;
    }
    std::string key = tokens[i].substr(0, eq);
    std::string value = tokens[i].substr(eq + 1);
    if (key.empty() || value.empty()) {
      return fmt::format("\"{}\" is not Key=Value", tokens[i]);
    }
    if (lower(key) == "level") {
      static constexpr std::array<std::string_view, 4> k_levels = {"full", "incremental",
                                                                   "differential", "virtualfull"};
      if (std::find(k_levels.begin(), k_levels.end(), lower(value)) == k_levels.end()) {
        return fmt::format("Level is Full, Incremental, Differential or VirtualFull, not \"{}\"",
                           value);
      }
    }
  }
  if (tokens.size() < i + 2 || lower(tokens[tokens.size() - 2]) != "at") {
    return "it must end with \"at HH:MM\"";
  }
  for (size_t j = i; j + 2 < tokens.size(); ++j) {
    if (lower(tokens[j]) == "at") {
      return "\"at\" may come only once, before the time";
    }
  }
  const std::string& time = tokens.back();
  auto parts = split(time, ':');
  if (parts.size() != 2 || !digits(parts[0]) || parts[0].size() > 2 || !digits(parts[1]) ||
      parts[1].size() != 2 || to_int(parts[0]) > 23 || to_int(parts[1]) > 59) {
    return fmt::format("the time is HH:MM between 00:00 and 23:59, not \"{}\"", time);
  }
  return std::nullopt;
}

// Why a retention period is not valid: "N [unit]" (a number alone is
// seconds).
std::optional<std::string> duration_problem(const json& value) {
  std::string text = value.is_string()           ? value.get<std::string>()
                     : value.is_number_integer() ? value.dump()
                                                 : std::string();
  std::vector<std::string> tokens = words(text);
  static constexpr std::array<std::string_view, 18> k_units = {
      "s",   "sec",  "secs", "seconds", "min",   "minutes", "h",     "hours",    "d",
      "day", "days", "w",    "weeks",   "month", "months",  "years", "quarters", "year"};
  bool ok = !tokens.empty();
  for (size_t i = 0; ok && i < tokens.size(); i += 2) {
    ok = digits(tokens[i]) &&
         (i + 1 >= tokens.size() ||
          std::find(k_units.begin(), k_units.end(), lower(tokens[i + 1])) != k_units.end());
  }
  if (!ok) {
    return fmt::format("{} is not a period such as \"30 days\"", value.dump());
  }
  return std::nullopt;
}

std::string string_directive(const json& d, const char* key) {
  auto it = d.find(key);
  return it != d.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Checks a list of {File: [...]} blocks; returns how many files it names.
size_t check_file_blocks(const std::string& what, const json& blocks, const char* key) {
  if (!blocks.is_array()) {
    invalid(fmt::format("{}: {} is a list of {{\"File\": [paths]}} blocks", what, key));
  }
  size_t files = 0;
  for (const auto& block : blocks) {
    if (!block.is_object()) {
      invalid(fmt::format("{}: {} is a list of {{\"File\": [paths]}} blocks", what, key));
    }
    auto f = block.find("File");
    if (f == block.end()) {
      continue;
    }
    json list = f->is_string() ? json::array({*f}) : *f;
    if (!list.is_array()) {
      invalid(fmt::format("{}: {} File is a list of paths", what, key));
    }
    for (const auto& path : list) {
      if (!path.is_string() || path.get<std::string>().empty()) {
        invalid(
            fmt::format("{}: {} File holds an empty path or one that is not a string", what, key));
      }
      ++files;
    }
  }
  return files;
}

bool yes_no(const json& value) {
  if (value.is_boolean()) {
    return true;
  }
  if (!value.is_string()) {
    return false;
  }
  std::string v = lower(value.get<std::string>());
  return v == "yes" || v == "no" || v == "true" || v == "false";
}

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error(ErrorKind::io, fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string base64(std::string_view data) {
  static constexpr char k_alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < data.size(); i += 3) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(data[i])) << 16;
    if (i + 1 < data.size()) {
      n |= static_cast<uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8;
    }
    if (i + 2 < data.size()) {
      n |= static_cast<uint32_t>(static_cast<unsigned char>(data[i + 2]));
    }
    out.push_back(k_alphabet[(n >> 18) & 63]);
    out.push_back(k_alphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < data.size() ? k_alphabet[(n >> 6) & 63] : '=');
    out.push_back(i + 2 < data.size() ? k_alphabet[n & 63] : '=');
  }
  return out;
}

bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

// "Bearer TOKEN", or "Basic base64(sandbox:TOKEN)"; the scheme in any case.
bool authorized(std::string_view header, const std::string& token) {
  auto space = header.find(' ');
  if (space == std::string_view::npos) {
    return false;
  }
  std::string scheme = lower(header.substr(0, space));
  auto start = header.find_first_not_of(' ', space);
  auto end = header.find_last_not_of(" \t");
  if (start == std::string_view::npos) {
    return false;
  }
  std::string_view credential = header.substr(start, end + 1 - start);
  if (scheme == "bearer") {
    return same_secret(credential, token);
  }
  if (scheme == "basic") {
    return same_secret(credential, base64(fmt::format("sandbox:{}", token)));
  }
  return false;
}

// The rules, on a configuration the caller has locked.
class Director {
public:
  explicit Director(BaculaConfig& config) : m_config(config) {}

  static bool known_type(std::string_view type) {
    return std::find(k_types.begin(), k_types.end(), type) != k_types.end();
  }

  const json* find(std::string_view type, std::string_view name) const {
    auto t = m_config.find(type);
    if (t == m_config.end()) {
      return nullptr;
    }
    auto r = t->second.find(std::string(name));
    return r == t->second.end() ? nullptr : &r->second;
  }

  json list(std::string_view type) const {
    json out = json::array();
    if (auto t = m_config.find(type); t != m_config.end()) {
      for (const auto& [name, directives] : t->second) {
        out.push_back({{std::string(type), directives}});
      }
    }
    return out;
  }

  // The directives a POST or PUT carries, checked.
  json directives(std::string_view type, std::string_view name, const std::string& body) const {
    json parsed = json::parse(body, nullptr, false);
    if (!parsed.is_object() || !parsed.contains("config") || !parsed["config"].is_string()) {
      invalid("the body must be {\"config\": \"<the directives as a JSON string>\"}");
    }
    json d = json::parse(parsed["config"].get<std::string>(), nullptr, false);
    if (!d.is_object()) {
      invalid("config must be a JSON object of directives");
    }
    const std::string what = fmt::format("{} \"{}\"", type, name);
    if (d.contains("Name") && d["Name"] != json(name)) {
      invalid(fmt::format("{}: Name {} differs from the name in the path", what, d["Name"].dump()));
    }
    d["Name"] = name;
    check(type, what, d);
    return d;
  }

  void check(std::string_view type, const std::string& what, const json& d) const {
    if (type == "Client") {
      if (string_directive(d, "Address").empty()) {
        invalid(fmt::format("{}: Address is required", what));
      }
      if (auto port = d.find("FDPort"); port != d.end()) {
        int value = port->is_number_integer() ? port->get<int>()
                    : port->is_string() && digits(port->get<std::string>())
                        ? to_int(port->get<std::string>())
                        : -1;
        if (value < 1 || value > 65535) {
          invalid(fmt::format("{}: FDPort is a port number, not {}", what, port->dump()));
        }
      }
    } else if (type == "FileSet") {
      auto include = d.find("Include");
      if (include == d.end() || check_file_blocks(what, *include, "Include") == 0) {
        invalid(fmt::format("{}: Include with at least one File is required", what));
      }
      if (auto exclude = d.find("Exclude"); exclude != d.end()) {
        check_file_blocks(what, *exclude, "Exclude");
      }
    } else if (type == "Schedule") {
      auto run = d.find("Run");
      json runs = run == d.end() ? json::array() : run->is_string() ? json::array({*run}) : *run;
      if (!runs.is_array() || runs.empty()) {
        invalid(fmt::format("{}: Run is required", what));
      }
      for (const auto& r : runs) {
        if (!r.is_string()) {
          invalid(fmt::format("{}: Run {} is not a string", what, r.dump()));
        }
        if (auto problem = run_problem(r.get<std::string>())) {
          invalid(fmt::format("{}: Run \"{}\": {}", what, r.get<std::string>(), *problem));
        }
      }
    } else if (type == "Pool") {
      static constexpr std::array<std::string_view, 6> k_pool_types = {
          "Backup", "Archive", "Cloned", "Migration", "Copy", "Save"};
      if (auto t = d.find("PoolType");
          t != d.end() &&
          (!t->is_string() || std::find(k_pool_types.begin(), k_pool_types.end(),
                                        t->get<std::string>()) == k_pool_types.end())) {
        invalid(fmt::format("{}: PoolType {} is not one of Backup, Archive, Cloned, Migration, "
                            "Copy, Save",
                            what, t->dump()));
      }
      for (const char* key : {"VolumeRetention", "JobRetention", "FileRetention"}) {
        if (auto v = d.find(key); v != d.end()) {
          if (auto problem = duration_problem(*v)) {
            invalid(fmt::format("{}: {}: {}", what, key, *problem));
          }
        }
      }
    } else if (type == "Job") {
      static constexpr std::array<std::string_view, 6> k_job_types = {
          "Backup", "Restore", "Verify", "Admin", "Copy", "Migrate"};
      std::string job_type = string_directive(d, "Type");
      if (std::find(k_job_types.begin(), k_job_types.end(), job_type) == k_job_types.end()) {
        invalid(fmt::format("{}: Type is required: Backup, Restore, Verify, Admin, Copy or "
                            "Migrate",
                            what));
      }
      if (job_type == "Backup") {
        for (const char* key : {"Client", "FileSet"}) {
          if (string_directive(d, key).empty()) {
            invalid(fmt::format("{}: a Backup job needs {}", what, key));
          }
        }
      }
      if (auto enabled = d.find("Enabled"); enabled != d.end() && !yes_no(*enabled)) {
        invalid(fmt::format("{}: Enabled is yes or no, not {}", what, enabled->dump()));
      }
      for (auto [key, ref_type] : k_job_references) {
        auto it = d.find(std::string(key));
        if (it == d.end()) {
          continue;
        }
        if (!it->is_string() || find(ref_type, it->get<std::string>()) == nullptr) {
          invalid(fmt::format("{}: {} {} does not exist", what, ref_type, it->dump()));
        }
      }
    }
  }

  // The Jobs that name `name` as their `type`.
  std::vector<std::string> users(std::string_view type, std::string_view name) const {
    std::vector<std::string> out;
    auto jobs = m_config.find("Job");
    if (jobs == m_config.end() || type == "Job") {
      return out;
    }
    for (const auto& [job, d] : jobs->second) {
      if (string_directive(d, std::string(type).c_str()) == name) {
        out.push_back(job);
      }
    }
    return out;
  }

  BaculaConfig& config() { return m_config; }

private:
  BaculaConfig& m_config;
};

int64_t system_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

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

// The catalog's record of a run (GET jobs/{jobid}).
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

// The job's log so far (GET joblog/{jobid}).
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
  lines.push_back(line(run.start_ms, fmt::format("Using Device \"FileChgr1-Dev1\" to write.")));
  if (status == 'T') {
    lines.push_back(line(run.end_ms, fmt::format("Bacula sandbox-dir: {} Backup OK: {} files, "
                                                 "{} bytes. Termination: Backup OK",
                                                 level_name(run.level), run.files, run.bytes)));
  }
  return lines;
}

// How many paths a FileSet's Include names.
int64_t included_paths(const json* fileset) {
  if (fileset == nullptr) {
    return 0;
  }
  int64_t count = 0;
  auto include = fileset->find("Include");
  if (include == fileset->end() || !include->is_array()) {
    return 0;
  }
  for (const auto& block : *include) {
    auto file = block.is_object() ? block.find("File") : block.end();
    if (block.is_object() && file != block.end()) {
      count += file->is_array() ? static_cast<int64_t>(file->size()) : 1;
    }
  }
  return count;
}

} // namespace

json bacula_to_document(const BaculaConfig& config, const BaculaJobs& jobs) {
  json resources = json::object();
  for (const auto& [type, by_name] : config) {
    json of_type = json::object();
    for (const auto& [name, directives] : by_name) {
      of_type[name] = directives;
    }
    resources[type] = std::move(of_type);
  }
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
  return {{"format", k_document_format},
          {"version", k_document_version},
          {"resources", std::move(resources)},
          {"next_jobid", jobs.next_id},
          {"jobs", std::move(runs)}};
}

BaculaJobs bacula_jobs_from_document(const json& document) {
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

BaculaConfig bacula_from_document(const json& document) {
  if (!document.is_object() || document.value("format", "") != k_document_format) {
    throw std::runtime_error(fmt::format(
        "not a sandbox Bacula configuration (no \"format\": \"{}\")", k_document_format));
  }
  if (document.value("version", 0) != k_document_version) {
    throw std::runtime_error(fmt::format(
        "version {} is not {}", document.value("version", json()).dump(), k_document_version));
  }
  const json resources = document.value("resources", json::object());
  if (!resources.is_object()) {
    throw std::runtime_error("resources is not an object");
  }
  BaculaConfig config;
  for (const auto& [type, by_name] : resources.items()) {
    if (!Director::known_type(type) || !by_name.is_object()) {
      throw std::runtime_error(fmt::format("unknown resource type \"{}\"", type));
    }
    for (const auto& [name, directives] : by_name.items()) {
      if (!directives.is_object()) {
        throw std::runtime_error(fmt::format("{} \"{}\" is not an object", type, name));
      }
      config[type][name] = directives;
    }
  }
  return config;
}

Bacularis::Bacularis(std::string data_dir, std::string token, JobOptions jobs)
    : m_data_file((std::filesystem::path(data_dir) / "bacula.json").string()),
      m_token(std::move(token)), m_job_options(std::move(jobs)) {
  if (!m_job_options.clock) {
    m_job_options.clock = system_now_ms;
  }
}

Bacularis::~Bacularis() {
  stop();
}

bool Bacularis::handles(std::string_view path) {
  return path.substr(0, k_prefix.size()) == k_prefix;
}

bool Bacularis::is_mutating(std::string_view method, std::string_view path) {
  return handles(path) && method != "GET" && method != "HEAD";
}

void Bacularis::start() {
  std::error_code ec;
  if (!std::filesystem::exists(m_data_file, ec)) {
    write_file_atomically(m_data_file, bacula_to_document({}).dump(1) + "\n");
  } else {
    std::string text = read_whole_file(m_data_file);
    try {
      json document = json::parse(text);
      m_config = bacula_from_document(document);
      m_jobs = bacula_jobs_from_document(document);
    } catch (const std::exception& e) {
      throw Error(ErrorKind::io, fmt::format("{}: not a readable sandbox Bacula configuration: {}",
                                             m_data_file, e.what()));
    }
  }
  // A director that starts reads its configuration.
  m_running_jobs.clear();
  if (auto jobs = m_config.find("Job"); jobs != m_config.end()) {
    for (const auto& [name, d] : jobs->second) {
      m_running_jobs.insert(name);
    }
  }
  m_committer = std::make_unique<Committer>(
      m_data_file,
      [this] {
        BaculaConfig copy;
        BaculaJobs jobs;
        uint64_t version = 0;
        {
          std::lock_guard lock(m_mutex);
          copy = m_config;
          jobs = m_jobs;
          version = m_version;
        }
        return Committer::Snapshot{version, bacula_to_document(copy, jobs).dump(1) + "\n"};
      },
      m_version);
}

std::optional<std::string> Bacularis::stop() {
  if (!m_committer) {
    return std::nullopt;
  }
  return m_committer->stop();
}

uint64_t Bacularis::writes() const {
  return m_committer ? m_committer->writes() : 0;
}

Reply Bacularis::serve(std::string_view method, std::string_view path,
                       const std::string& authorization, const std::string& body) {
  if (!authorized(authorization, m_token)) {
    return answer(401, k_unauthorized,
                  "Unauthorized: a bearer token, or basic auth as user sandbox with the token "
                  "as password, is required");
  }
  Reply reply = call(method, path, body);
  if (reply.version != 0 && m_committer) {
    if (auto error = m_committer->commit(reply.version)) {
      return answer(500, 1000, fmt::format("the sandbox could not save its data: {}", *error));
    }
  }
  return reply;
}

Reply Bacularis::committed(Reply reply) {
  if (reply.version != 0 && m_committer) {
    if (auto error = m_committer->commit(reply.version)) {
      return admin::error(500, fmt::format("the sandbox could not save its data: {}", *error));
    }
  }
  return reply;
}

Reply Bacularis::admin_update(const std::string& type, const std::string& name,
                              const json& directives) {
  Reply reply;
  {
    std::lock_guard lock(m_mutex);
    if (!Director::known_type(type)) {
      return admin::error(404, fmt::format("the sandbox's director has no {} resources (it has "
                                           "Client, FileSet, Schedule, Pool and Job)",
                                           type));
    }
    if (auto problem = name_problem(name)) {
      return admin::error(400, fmt::format("{} \"{}\": {}", type, name, *problem));
    }
    if (!directives.is_object()) {
      return admin::error(400, "the request body must be a JSON object of directives");
    }
    if (auto given = directives.find("Name"); given != directives.end() && *given != json(name)) {
      return admin::error(400, fmt::format("{} \"{}\": Name {} differs from the name in the path",
                                           type, name, given->dump()));
    }
    auto& resources = m_config[type];
    auto existing = resources.find(name);
    const bool create = existing == resources.end();
    json d = create ? json::object() : existing->second;
    for (const auto& [key, value] : directives.items()) {
      if (value.is_null()) {
        d.erase(key);
      } else {
        d[key] = value;
      }
    }
    d["Name"] = name;
    if (!create && d == existing->second) {
      return {200, d};
    }
    resources[name] = d;
    reply = {create ? 201 : 200, std::move(d), ++m_version};
  }
  return committed(std::move(reply));
}

Reply Bacularis::admin_delete(const std::string& type, const std::string& name) {
  Reply reply;
  {
    std::lock_guard lock(m_mutex);
    auto resources = m_config.find(type);
    if (!Director::known_type(type)) {
      return admin::error(404, fmt::format("the sandbox's director has no {} resources (it has "
                                           "Client, FileSet, Schedule, Pool and Job)",
                                           type));
    }
    if (resources == m_config.end() || resources->second.erase(name) == 0) {
      return admin::error(404, fmt::format("{} \"{}\" not found", type, name));
    }
    if (resources->second.empty()) {
      m_config.erase(resources);
    }
    reply = {200, json{{"deleted", {{type, json::array({name})}}}}, ++m_version};
  }
  return committed(std::move(reply));
}

Reply Bacularis::call(std::string_view method, std::string_view path, const std::string& body) {
  if (!handles(path)) {
    return answer(404, k_invalid_path, fmt::format("no such endpoint: {}", path));
  }
  std::vector<std::string> segments = split(path.substr(k_prefix.size()), '/');
  while (!segments.empty() && segments.back().empty()) {
    segments.pop_back();
  }
  auto not_allowed = [&](std::string_view allowed) {
    return answer(405, k_invalid_path, fmt::format("{} takes {}", path, allowed));
  };
  try {
    std::lock_guard lock(m_mutex);
    Director director(m_config);
    if (segments.size() == 1 && segments[0] == "console") {
      if (method != "PUT") {
        return not_allowed("PUT");
      }
      json command = json::parse(body, nullptr, false);
      if (command == json::array({"reload"})) {
        m_running_jobs.clear();
        if (auto jobs = m_config.find("Job"); jobs != m_config.end()) {
          for (const auto& [name, d] : jobs->second) {
            m_running_jobs.insert(name);
          }
        }
        return answer(200, 0, json::array({"reloaded"}));
      }
      return answer(
          200, k_invalid_command,
          fmt::format("Invalid command. The sandbox's console runs [\"reload\"] only, "
                      "not {}",
                      command.is_discarded() ? std::string("(not JSON)") : command.dump()));
    }
    if (segments.size() == 2 && segments[0] == "jobs" && segments[1] == "resnames") {
      if (method != "GET") {
        return not_allowed("GET");
      }
      json names = json::array();
      for (const auto& name : m_running_jobs) {
        names.push_back(name);
      }
      return answer(200, 0, {{std::string(k_director), std::move(names)}});
    }
    if (segments.size() == 2 && segments[0] == "jobs" && segments[1] == "run") {
      if (method != "POST") {
        return not_allowed("POST");
      }
      return run_job(body);
    }
    if (segments.size() == 2 && (segments[0] == "jobs" || segments[0] == "joblog")) {
      if (method != "GET") {
        return not_allowed("GET");
      }
      int64_t id = digits(segments[1]) && segments[1].size() < 18 ? std::stoll(segments[1]) : 0;
      auto run = m_jobs.runs.find(id);
      if (run == m_jobs.runs.end()) {
        return answer(404, k_job_does_not_exist, "Job does not exist.");
      }
      const int64_t now = m_job_options.clock();
      return answer(
          200, 0, segments[0] == "jobs" ? run_record(run->second, now) : run_log(run->second, now));
    }
    if (segments.size() < 3 || segments.size() > 4 || segments[0] != "config") {
      return answer(404, k_invalid_path, fmt::format("no such endpoint: {}", path));
    }
    if (segments[1] != "dir") {
      return answer(404, k_invalid_path,
                    fmt::format("the sandbox has the director's (dir) configuration only, not {}",
                                segments[1]));
    }
    const std::string& type = segments[2];
    if (!Director::known_type(type)) {
      return answer(404, k_invalid_path,
                    fmt::format("the sandbox's director has no {} resources (it has Client, "
                                "FileSet, Schedule, Pool and Job)",
                                type));
    }
    if (segments.size() == 3) {
      if (method != "GET") {
        return not_allowed("GET");
      }
      return answer(200, 0, director.list(type));
    }
    const std::string& name = segments[3];
    if (auto problem = name_problem(name)) {
      invalid(fmt::format("{} \"{}\": {}", type, name, *problem));
    }
    const json* existing = director.find(type, name);
    if (method == "GET") {
      if (existing == nullptr) {
        return answer(404, k_does_not_exist,
                      fmt::format("Config does not exist. {}", resource_text(type, name)));
      }
      return answer(200, 0, *existing);
    }
    if (method == "POST" || method == "PUT") {
      if (method == "POST" && existing != nullptr) {
        return answer(200, k_already_exists,
                      fmt::format("Config already exists. {}", resource_text(type, name)));
      }
      if (method == "PUT" && existing == nullptr) {
        return answer(404, k_does_not_exist,
                      fmt::format("Config does not exist. {}", resource_text(type, name)));
      }
      json d = director.directives(type, name, body);
      m_config[type][name] = d;
      return answer(200, 0, d, ++m_version);
    }
    if (method == "DELETE") {
      if (existing == nullptr) {
        return answer(404, k_does_not_exist,
                      fmt::format("Config does not exist. {}", resource_text(type, name)));
      }
      if (auto jobs = director.users(type, name); !jobs.empty()) {
        std::string list;
        for (const auto& job : jobs) {
          list = list.empty() ? fmt::format("\"{}\"", job) : fmt::format("{}, \"{}\"", list, job);
        }
        return answer(
            200, k_dependency,
            fmt::format("Config dependency error. {} \"{}\" is used by Job {}", type, name, list));
      }
      m_config[type].erase(name);
      if (m_config[type].empty()) {
        m_config.erase(type);
      }
      return answer(200, 0, fmt::format("{} \"{}\" removed", type, name), ++m_version);
    }
    return not_allowed("GET, POST, PUT or DELETE");
  } catch (const Refusal& refusal) {
    return refusal.reply();
  }
}

// POST jobs/run, with the lock held: checks as Bacularis does (the job
// loaded, then the level, FileSet, Client, Storage and Pool), then queues
// the run and answers with bconsole's output.
Reply Bacularis::run_job(const std::string& body) {
  json params = json::parse(body, nullptr, false);
  if (!params.is_object()) {
    params = json::object();
  }
  auto text = [&](const char* key) {
    auto it = params.find(key);
    return it != params.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  Director director(m_config);
  const std::string name = text("name");
  const json* job = director.find("Job", name);
  if (name.empty() || name_problem(name) || job == nullptr || m_running_jobs.count(name) == 0) {
    return answer(200, k_job_does_not_exist, "Job does not exist.");
  }
  const std::string level = text("level");
  if (level != "F" && level != "I" && level != "D") {
    return answer(200, k_invalid_job_level, "Inputted job level is invalid.");
  }
  const std::string fileset = text("fileset");
  if (fileset.empty() || director.find("FileSet", fileset) == nullptr) {
    return answer(200, k_fileset_does_not_exist, "FileSet resource does not exist.");
  }
  const std::string client = text("client");
  const json* client_resource = client.empty() ? nullptr : director.find("Client", client);
  if (client_resource == nullptr) {
    return answer(200, k_client_does_not_exist, "Client does not exist.");
  }
  const std::string storage = text("storage");
  if (storage.empty() || name_problem(storage)) {
    return answer(200, k_storage_does_not_exist, "Storage does not exist.");
  }
  const std::string pool = text("pool");
  if (pool.empty() || director.find("Pool", pool) == nullptr) {
    return answer(200, k_pool_does_not_exist, "Pool does not exist.");
  }

  const int64_t now = m_job_options.clock();
  const int64_t duration = std::max<int64_t>(m_job_options.duration.count(), 0);
  JobRun run;
  run.id = m_jobs.next_id++;
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
  const std::string address = string_directive(*client_resource, "Address");
  std::optional<bool> reachable = true;
  if (m_job_options.client_reachable) {
    reachable = m_job_options.client_reachable(address);
  }
  if (!reachable || !*reachable) {
    run.failure =
        fmt::format("bsockcore.c:209 Unable to connect to Client: {} on {}:{}. ERR={}", client,
                    address, k_fd_port, reachable ? "Connection refused" : "No route to host");
  }
  const int64_t paths = std::max<int64_t>(included_paths(director.find("FileSet", fileset)), 1);
  run.files = paths * (level == "F" ? 1200 : 40);
  run.bytes = run.files * 8192;
  const int64_t id = run.id;
  m_jobs.runs.emplace(id, std::move(run));

  json output = json::array(
      {fmt::format("Using Catalog \"{}\"", "MyCatalog"), "Run Backup job",
       fmt::format("JobName:  {}", name), fmt::format("Level:    {}", level_name(level)),
       fmt::format("Client:   {}", client), fmt::format("FileSet:  {}", fileset),
       fmt::format("Pool:     {}", pool), fmt::format("Storage:  {}", storage),
       fmt::format("When:     {}", catalog_time(now)), "Priority: 10",
       "OK to run? (yes/mod/no): yes", fmt::format("Job queued. JobId={}", id)});
  return answer(200, 0, std::move(output), ++m_version);
}

} // namespace stove::sandbox
