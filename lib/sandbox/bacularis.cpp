#include "sandbox/bacularis.hpp"

#include "model/bacula_name.hpp"
#include "util/error.hpp"
#include "providers/sigv4.hpp"
#include "sandbox/admin.hpp"
#include "sandbox/committer.hpp"
#include "util/atomic_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

namespace stove::sandbox {

using nlohmann::json;

namespace {

constexpr std::string_view k_document_format = "stove-sandbox-bacula";
constexpr int k_document_version = 2;

// Bacularis' error codes (GenericError, AuthenticationError,
// BaculaConfigError, JobError).
constexpr int k_invalid_command = 1;
constexpr int k_unauthorized = 6;
constexpr int k_validation = 94;
constexpr int k_does_not_exist = 97;
constexpr int k_already_exists = 98;
constexpr int k_dependency = 99;
constexpr int k_job_does_not_exist = 50;
constexpr int k_internal_error = 1000;

Reply answer(int error, json output, uint64_t version = 0) {
  return Reply{200, {{"output", std::move(output)}, {"error", error}}, version};
}

// "Config validation error." with the director's refusal, as Bacularis
// prints the JSON tool's result (PHP's print_r).
Reply validation_error(const std::string& message) {
  return answer(k_validation,
                fmt::format("Config validation error.Array\n(\n    [output] => Array\n"
                            "        (\n"
                            "            [0] => bacula-dir: ERROR TERMINATION\n"
                            "            [1] => Config error: {}\n"
                            "        )\n\n"
                            "    [exitcode] => 1\n)\n",
                            message));
}

Reply internal_error(const std::string& message) {
  return answer(k_internal_error, fmt::format("Internal error. {}", message));
}

// What Bacularis answers a path (or method) that matches none of its
// endpoints: its default page.
Reply welcome_reply() {
  return answer(0, "Welcome in the Baculum API. Panel is available on http://127.0.0.1/panel/");
}

std::string resource_text(std::string_view type, std::string_view name) {
  return fmt::format(" Component Type: dir, Resource Type: {}, Resource Name: {}", type, name);
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

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
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
    return same_secret(credential, providers::sigv4::base64(fmt::format("sandbox:{}", token)));
  }
  return false;
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

// The client version of an X-Baculum-API header: 0 when absent.
double client_version_of(const std::string& header) {
  return header.empty() ? 0.0 : std::strtod(header.c_str(), nullptr);
}

json bacula_document(const bacula::Resources& config, const BaculaJobs& jobs) {
  json resources = json::object();
  for (const auto& [type, by_name] : config) {
    if (!bacula::editable_type(type)) {
      continue;
    }
    json of_type = json::object();
    for (const auto& [name, directives] : by_name) {
      of_type[name] = directives;
    }
    resources[type] = std::move(of_type);
  }
  return {{"format", k_document_format},
          {"version", k_document_version},
          {"resources", std::move(resources)},
          {"next_jobid", jobs.next_id},
          {"jobs", jobs_to_json(jobs)}};
}

// The resources of a data document. Version 1 kept each directive's value
// as its text ("30 days", "yes") and the type FileSet; they are read as the
// director reads that text, and a Client without a Password gets the
// sandbox's.
bacula::Resources resources_from_document(const json& document) {
  if (!document.is_object() || document.value("format", "") != k_document_format) {
    throw std::runtime_error(fmt::format(
        "not a sandbox Bacula configuration (no \"format\": \"{}\")", k_document_format));
  }
  const int version = document.value("version", 0);
  if (version != 1 && version != k_document_version) {
    throw std::runtime_error(fmt::format("version {} is not one this build reads (1 or {})",
                                         document.value("version", json()).dump(),
                                         k_document_version));
  }
  const json resources = document.value("resources", json::object());
  if (!resources.is_object()) {
    throw std::runtime_error("resources is not an object");
  }
  bacula::Resources config;
  for (const auto& [type_name, by_name] : resources.items()) {
    auto type = bacula::canonical_type(type_name);
    if (!type || !bacula::editable_type(*type) || !by_name.is_object()) {
      throw std::runtime_error(fmt::format("unknown resource type \"{}\"", type_name));
    }
    for (const auto& [name, directives] : by_name.items()) {
      if (version == k_document_version) {
        config[*type][name] = directives;
        continue;
      }
      json upgraded = directives;
      if (*type == "Client" && upgraded.is_object() && !upgraded.contains("Password")) {
        upgraded["Password"] = std::string(k_sandbox_client_password);
      }
      try {
        config[*type][name] =
            bacula::read_resource(*type, upgraded, bacula::ValueSource::directive_text);
      } catch (const std::exception& e) {
        throw std::runtime_error(fmt::format("{} \"{}\": {}", *type, name, e.what()));
      }
    }
  }
  return config;
}

const json* find(const bacula::Resources& config, std::string_view type, const std::string& name) {
  auto t = config.find(type);
  if (t == config.end()) {
    return nullptr;
  }
  auto r = t->second.find(name);
  return r == t->second.end() ? nullptr : &r->second;
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
  if (!authorized(authorization, m_token)) {
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

Reply Bacularis::committed(Reply reply) {
  if (reply.version != 0 && m_committer) {
    if (auto error = m_committer->commit(reply.version)) {
      return admin::error(500, fmt::format("the sandbox could not save its data: {}", *error));
    }
  }
  return reply;
}

Reply Bacularis::admin_update(const std::string& type_name, const std::string& name,
                              const json& directives) {
  Reply reply;
  {
    std::lock_guard lock(m_mutex);
    auto type = bacula::canonical_type(type_name);
    if (!type || !bacula::editable_type(*type)) {
      return admin::error(404, fmt::format("the sandbox's director has no {} resources to change "
                                           "(it has Client, Fileset, Schedule, Pool and Job)",
                                           type_name));
    }
    if (auto problem = check_bacula_name(name)) {
      return admin::error(400, fmt::format("{} \"{}\": {}", *type, name, problem->message));
    }
    if (!directives.is_object()) {
      return admin::error(400, "the request body must be a JSON object of directives");
    }
    if (auto given = directives.find("Name"); given != directives.end() && *given != json(name)) {
      return admin::error(400, fmt::format("{} \"{}\": Name {} differs from the name in the path",
                                           *type, name, given->dump()));
    }
    auto& resources = m_config[*type];
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
    json read;
    try {
      read = bacula::read_resource(*type, d);
    } catch (const std::exception& e) {
      return admin::error(400, fmt::format("{} \"{}\": {}", *type, name, e.what()));
    }
    if (!create && read == existing->second) {
      return {200, read};
    }
    resources[name] = read;
    reply = {create ? 201 : 200, std::move(read), ++m_version};
  }
  return committed(std::move(reply));
}

Reply Bacularis::admin_delete(const std::string& type_name, const std::string& name) {
  Reply reply;
  {
    std::lock_guard lock(m_mutex);
    auto type = bacula::canonical_type(type_name);
    if (!type || !bacula::editable_type(*type)) {
      return admin::error(404, fmt::format("the sandbox's director has no {} resources to change "
                                           "(it has Client, Fileset, Schedule, Pool and Job)",
                                           type_name));
    }
    auto resources = m_config.find(*type);
    if (resources == m_config.end() || resources->second.erase(name) == 0) {
      return admin::error(404, fmt::format("{} \"{}\" not found", *type, name));
    }
    if (resources->second.empty()) {
      m_config.erase(resources);
    }
    reply = {200, json{{"deleted", {{*type, json::array({name})}}}}, ++m_version};
  }
  return committed(std::move(reply));
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

Reply Bacularis::config_call(std::string_view method, int version, const std::string& type,
                             const std::string& name, const std::string& client_version,
                             const std::string& body) {
  const std::optional<std::string> canonical = bacula::canonical_type(type);
  if (name.empty()) {
    if (method != "GET") {
      return internal_error("the sandbox does not write a whole resource list");
    }
    json out = json::array();
    if (canonical) {
      if (auto t = m_config.find(*canonical); t != m_config.end()) {
        for (const auto& [n, directives] : t->second) {
          out.push_back({{*canonical, directives}});
        }
      }
    }
    return answer(0, std::move(out));
  }
  if (method == "GET") {
    const json* existing = canonical ? find(m_config, *canonical, name) : nullptr;
    return answer(0, existing == nullptr ? json::array() : *existing);
  }
  if (method == "DELETE") {
    if (version < 3) {
      return internal_error("Method or property Bacularis\\API\\Pages\\API\\ConfigV2::remove "
                            "is not defined.");
    }
    // Bacularis finds the resource to delete by the type as bdirjson spells it.
    if (!canonical || *canonical != type || find(m_config, type, name) == nullptr) {
      return answer(k_does_not_exist, "Config does not exist.");
    }
    return delete_resource(type, name);
  }
  if (method == "POST" || method == "PUT") {
    return write_resource(method, version, type, name, client_version, body);
  }
  return welcome_reply();
}

Reply Bacularis::write_resource(std::string_view method, int version, const std::string& type,
                                const std::string& name, const std::string& client_version,
                                const std::string& body) {
  if (method == "POST" && version < 3) {
    return internal_error("Method or property Bacularis\\API\\Pages\\API\\ConfigV2::create "
                          "is not defined.");
  }
  json params = json::parse(body, nullptr, false);
  json directives = json::object();
  if (params.is_object() && params.contains("config")) {
    if (!params["config"].is_string()) {
      return internal_error("json_decode(): Argument #1 ($json) must be of type string");
    }
    if (method == "PUT" && client_version_of(client_version) <= 0.2) {
      // Clients of API version 0.2 and older sent PHP-serialized arrays.
      return internal_error(fmt::format("unserialize(): Error at offset 0 of {} bytes",
                                        params["config"].get<std::string>().size()));
    }
    directives = json::parse(params["config"].get<std::string>(), nullptr, false);
    if (directives.is_discarded() || !directives.is_object()) {
      return answer(k_validation, "Config validation error.");
    }
  }
  auto given_name = directives.find("Name");
  if (given_name == directives.end() || !given_name->is_string()) {
    return internal_error("Undefined array key \"Name\"");
  }
  const std::string new_name = given_name->get<std::string>();
  const std::optional<std::string> canonical = bacula::canonical_type(type);
  const json* existing = canonical ? find(m_config, *canonical, name) : nullptr;
  if (method == "POST" && existing != nullptr) {
    return answer(k_already_exists,
                  fmt::format("Config already exists.{}", resource_text(type, name)));
  }
  if (method == "PUT" && version >= 3) {
    if (existing == nullptr) {
      return answer(k_does_not_exist,
                    fmt::format("Config does not exist.{}", resource_text(type, name)));
    }
    if (new_name != name && find(m_config, *canonical, new_name) != nullptr) {
      return answer(k_already_exists, "Config already exists.");
    }
  }
  if (!canonical || !bacula::editable_type(*canonical)) {
    return validation_error(
        canonical ? fmt::format("the sandbox keeps its {} resources as they are", *canonical)
                  : fmt::format("Expected resource name, got: {}", type));
  }
  bacula::Resources config = m_config;
  try {
    json resource = bacula::read_resource(*canonical, directives);
    // Bacularis matches the resource to replace by its type as bdirjson
    // spells it; with another spelling, it adds the resource again.
    const bool replaces = existing != nullptr && *canonical == type;
    if (existing != nullptr && !replaces) {
      throw bacula::ConfigError(
          fmt::format("Attempt to define second \"{}\" resource named \"{}\" is not permitted.",
                      *canonical, name));
    }
    if (replaces && new_name != name) {
      config[*canonical].erase(name);
      bacula::rename_references(config, *canonical, name, new_name);
    } else if (!replaces && find(config, *canonical, new_name) != nullptr) {
      throw bacula::ConfigError(
          fmt::format("Attempt to define second \"{}\" resource named \"{}\" is not permitted.",
                      *canonical, new_name));
    }
    config[*canonical][new_name] = std::move(resource);
    bacula::check_config(config);
  } catch (const bacula::ConfigError& e) {
    return validation_error(e.what());
  } catch (const bacula::InternalError& e) {
    return internal_error(e.what());
  }
  m_config = std::move(config);
  return answer(0, "", ++m_version);
}

Reply Bacularis::delete_resource(const std::string& type, const std::string& name) {
  bacula::Resources config = m_config;
  config[type].erase(name);
  if (json users = bacula::dependents(config, type, name); !users.empty()) {
    return answer(k_dependency, users.dump());
  }
  try {
    bacula::check_config(config);
  } catch (const bacula::ConfigError& e) {
    return validation_error(e.what());
  }
  if (config[type].empty()) {
    config.erase(type);
  }
  m_config = std::move(config);
  return answer(0, "", ++m_version);
}

} // namespace stove::sandbox
