#include "sandbox/bacularis.hpp"

#include "model/bacula_name.hpp"
#include "sandbox/auth.hpp"
#include "sandbox/bacularis_document.hpp"
#include "sandbox/bacularis_reply.hpp"
#include "sandbox/committer.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

namespace stove::sandbox {

using nlohmann::json;

namespace {

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error(ErrorKind::io, fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
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

// What Bacularis' URL patterns take for a resource type and name.
bool type_pattern(std::string_view type) {
  return !type.empty() && std::all_of(type.begin(), type.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  });
}

bool name_pattern(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(),
                                      [](char c) { return bacula_name_char(c) || c == ' '; });
}

} // namespace

Bacularis::Bacularis(std::string data_dir, std::string token, JobOptions jobs,
                     BacularisOptions options)
    : m_data_file((std::filesystem::path(data_dir) / "bacula.json").string()),
      m_working_directory(
          (std::filesystem::absolute(std::filesystem::path(data_dir)) / "bacula-dir").string()),
      m_token(std::move(token)), m_options(options), m_job_options(std::move(jobs)) {
  m_config = bacula::base_resources(m_working_directory);
}

Bacularis::~Bacularis() {
  stop();
}

bool Bacularis::handles(std::string_view path) {
  return path.substr(0, 5) == "/api/";
}

bool Bacularis::is_mutating(std::string_view method, std::string_view path) {
  return handles(path) && method != "GET" && method != "HEAD";
}

void Bacularis::load_running_jobs() {
  m_running_jobs.clear();
  if (auto jobs = m_config.find("Job"); jobs != m_config.end()) {
    for (const auto& [name, d] : jobs->second) {
      m_running_jobs.insert(name);
    }
  }
}

void Bacularis::start() {
  std::error_code ec;
  if (!std::filesystem::exists(m_data_file, ec)) {
    write_file_atomically(m_data_file, bacula_document({}, {}).dump(1) + "\n");
  } else {
    std::string text = read_whole_file(m_data_file);
    try {
      json document = json::parse(text);
      bacula::Resources loaded = resources_from_document(document);
      m_config = bacula::base_resources(m_working_directory);
      for (auto& [type, by_name] : loaded) {
        m_config[type] = std::move(by_name);
      }
      m_jobs = jobs_from_document(document);
    } catch (const std::exception& e) {
      throw Error(ErrorKind::io, fmt::format("{}: not a readable sandbox Bacula configuration: {}",
                                             m_data_file, e.what()));
    }
  }
  // A director that starts reads its configuration.
  load_running_jobs();
  m_committer = std::make_unique<Committer>(
      m_data_file,
      [this] {
        std::lock_guard lock(m_mutex);
        return Committer::Snapshot{m_version, bacula_document(m_config, m_jobs).dump(1) + "\n"};
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

std::string Bacularis::config_text() const {
  std::lock_guard lock(m_mutex);
  return bacula::config_text(m_config);
}

Reply Bacularis::serve(std::string_view method, std::string_view path,
                       const std::string& authorization, const std::string& client_version,
                       const std::string& body) {
  if (!bearer_or_basic_authorized(authorization, m_token)) {
    return Reply{
        401,
        {{"output", "Problem with authentication to Bacularis API."}, {"error", k_unauthorized}}};
  }
  Reply reply = call(method, path, body, client_version);
  if (reply.version != 0 && m_committer) {
    if (auto error = m_committer->commit(reply.version)) {
      return internal_error(fmt::format("the sandbox could not save its data: {}", *error));
    }
  }
  return reply;
}

Reply Bacularis::call(std::string_view method, std::string_view path, const std::string& body,
                      const std::string& client_version) {
  const Reply welcome = welcome_reply();
  std::vector<std::string> segments = split(path.substr(std::min<size_t>(5, path.size())), '/');
  while (!segments.empty() && segments.back().empty()) {
    segments.pop_back();
  }
  if (segments.empty() || (segments[0] != "v2" && segments[0] != "v3")) {
    return welcome;
  }
  const int version = segments[0] == "v3" ? 3 : 2;
  if (version > m_options.api_version) {
    // Bacularis before 3.2.0 routes /api/v3/ to a module it does not have.
    return Reply{500,
                 "<html><body><h1>Fatal error</h1><p>Uncaught Error: Call to a member function "
                 "setServerObj() on null</p></body></html>",
                 0, "text/html"};
  }
  segments.erase(segments.begin());
  std::lock_guard lock(m_mutex);
  if (segments.size() == 1 && segments[0] == "console" && method == "PUT") {
    return console(body);
  }
  if (segments.size() == 2 && segments[0] == "jobs" && segments[1] == "run" && method == "POST") {
    const json params = json::parse(body, nullptr, false);
    const std::string job = params.is_object() && params.value("name", json()).is_string()
                                ? params["name"].get<std::string>()
                                : std::string();
    RunAnswer run =
        queue_run(params, m_config, m_running_jobs.count(job) > 0, m_jobs, m_job_options);
    return answer(run.error, std::move(run.output), run.error == 0 ? ++m_version : 0);
  }
  if (segments.size() == 2 && segments[0] == "jobs" && segments[1] == "resnames" &&
      method == "GET") {
    json names = json::array();
    for (const auto& name : m_running_jobs) {
      names.push_back(name);
    }
    return answer(0, {{"sandbox-dir", std::move(names)}});
  }
  if (segments.size() == 2 && (segments[0] == "jobs" || segments[0] == "joblog") &&
      method == "GET") {
    char* end = nullptr;
    const long long id = std::strtoll(segments[1].c_str(), &end, 10);
    auto run = end != nullptr && *end == '\0' ? m_jobs.runs.find(id) : m_jobs.runs.end();
    if (run == m_jobs.runs.end()) {
      return answer(k_job_does_not_exist, "Job does not exist.");
    }
    const int64_t now = now_ms(m_job_options);
    return answer(0,
                  segments[0] == "jobs" ? run_record(run->second, now) : run_log(run->second, now));
  }
  if (segments.size() >= 3 && segments.size() <= 4 && segments[0] == "config" &&
      segments[1] == "dir" && type_pattern(segments[2]) &&
      (segments.size() == 3 || name_pattern(segments[3]))) {
    return config_call(method, version, segments[2], segments.size() == 4 ? segments[3] : "",
                       client_version, body);
  }
  return welcome;
}

Reply Bacularis::console(const std::string& body) {
  json command = json::parse(body, nullptr, false);
  if (command == json::array({"reload"})) {
    load_running_jobs();
    return answer(0, json::array({"reload"}));
  }
  return answer(k_invalid_command, "Invalid command.");
}

} // namespace stove::sandbox
