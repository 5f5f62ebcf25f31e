#include "providers/bacularis.hpp"

#include "model/bacula_name.hpp"
#include "model/error.hpp"
#include "providers/openvcloud.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace stove::providers::bacularis {

namespace {

using nlohmann::json;

// Defaults of a stock Bacularis director, by name.
constexpr std::string_view k_catalog = "MyCatalog";
constexpr std::string_view k_storage = "File1";
constexpr std::string_view k_messages = "Standard";
constexpr int k_fd_port = 9102;

void note(const OpContext& context, std::string_view text) {
  if (context.note) {
    context.note(text);
  }
}

std::string replace_all(std::string text, std::string_view needle, std::string_view with) {
  if (needle.empty()) {
    return text;
  }
  size_t at = 0;
  while ((at = text.find(needle, at)) != std::string::npos) {
    text.replace(at, needle.size(), with);
    at += with.size();
  }
  return text;
}

std::string base64(std::string_view data) {
  static constexpr char k_alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(data[i])) << 16 |
                 static_cast<uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8 |
                 static_cast<uint32_t>(static_cast<unsigned char>(data[i + 2]));
    out.push_back(k_alphabet[(n >> 18) & 63]);
    out.push_back(k_alphabet[(n >> 12) & 63]);
    out.push_back(k_alphabet[(n >> 6) & 63]);
    out.push_back(k_alphabet[n & 63]);
  }
  if (i < data.size()) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(data[i])) << 16;
    const bool two = i + 1 < data.size();
    if (two) {
      n |= static_cast<uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8;
    }
    out.push_back(k_alphabet[(n >> 18) & 63]);
    out.push_back(k_alphabet[(n >> 12) & 63]);
    out.push_back(two ? k_alphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// A reply's output as one line of text: a string, lines joined, or JSON.
std::string output_text(const json& output) {
  constexpr size_t k_max = 400;
  std::string text;
  if (output.is_string()) {
    text = output.get<std::string>();
  } else if (output.is_array() && std::all_of(output.begin(), output.end(),
                                              [](const json& l) { return l.is_string(); })) {
    for (const auto& line : output) {
      text = text.empty() ? line.get<std::string>()
                          : fmt::format("{} {}", text, line.get<std::string>());
    }
  } else if (!output.is_null()) {
    text = output.dump();
  }
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') {
      c = ' ';
    }
  }
  return text.size() > k_max ? fmt::format("{}...", text.substr(0, k_max)) : text;
}

std::string lower_ascii(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return text;
}

// Bacula's config values come back as strings, numbers or booleans ("yes",
// 9102, true): compared loosely, as text.
std::string scalar_text(const json& v) {
  if (v.is_string()) {
    return lower_ascii(v.get<std::string>());
  }
  if (v.is_boolean()) {
    return v.get<bool>() ? "yes" : "no";
  }
  return v.dump();
}

// Whether `have` holds everything in `want` (objects: every key of `want`,
// recursively; arrays: element by element).
bool covers(const json& have, const json& want) {
  if (want.is_object()) {
    if (!have.is_object()) {
      return false;
    }
    for (const auto& [key, value] : want.items()) {
      auto it = have.find(key);
      if (it == have.end() || !covers(*it, value)) {
        return false;
      }
    }
    return true;
  }
  if (want.is_array()) {
    if (!have.is_array() || have.size() != want.size()) {
      return false;
    }
    for (size_t i = 0; i < want.size(); ++i) {
      if (!covers(have[i], want[i])) {
        return false;
      }
    }
    return true;
  }
  return !have.is_object() && !have.is_array() && scalar_text(have) == scalar_text(want);
}

// The directives of `want` that `have` does not match, for messages.
std::string differences(const json& have, const json& want) {
  std::string out;
  for (const auto& [key, value] : want.items()) {
    auto it = have.find(key);
    if (it != have.end() && covers(*it, value)) {
      continue;
    }
    std::string item = key == "Password" ? std::string("Password differs")
                       : it == have.end()
                           ? fmt::format("{} missing, want {}", key, value.dump())
                           : fmt::format("{} is {}, want {}", key, it->dump(), value.dump());
    out = out.empty() ? item : fmt::format("{}; {}", out, item);
  }
  return out;
}

std::string spec_string(const Target& target, const char* name) {
  auto it = target.spec.find(name);
  if (it == target.spec.end() || !it->is_string() || it->get<std::string>().empty()) {
    throw ProviderError(fmt::format("{}: the spec has no {}", target.address, name));
  }
  return it->get<std::string>();
}

std::vector<std::string> spec_list(const Target& target, const char* name,
                                   std::vector<std::string> fallback) {
  auto it = target.spec.find(name);
  if (it == target.spec.end() || it->is_null()) {
    return fallback;
  }
  if (!it->is_array()) {
    throw ProviderError(fmt::format("{}: {} is not a list", target.address, name));
  }
  std::vector<std::string> out;
  for (const auto& item : *it) {
    if (!item.is_string()) {
      throw ProviderError(
          fmt::format("{}: {} holds a value that is not a string", target.address, name));
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

int64_t spec_retention(const Target& target) {
  auto it = target.spec.find("retention_days");
  if (it == target.spec.end() || it->is_null()) {
    return 30;
  }
  if (!it->is_number_integer() || it->get<int64_t>() < 1) {
    throw ProviderError(
        fmt::format("{}: retention_days is not a positive integer", target.address));
  }
  return it->get<int64_t>();
}

bool spec_enabled(const Target& target) {
  auto it = target.spec.find("enabled");
  return it == target.spec.end() || !it->is_boolean() || it->get<bool>();
}

json value_of(const json& object, const char* name) {
  if (!object.is_object()) {
    return nullptr;
  }
  auto it = object.find(name);
  return it == object.end() ? json() : *it;
}

bool changed(const Target& target, const char* name) {
  return value_of(target.prior_spec, name) != value_of(target.spec, name);
}

std::string string_of(const json& object, const char* name) {
  json v = value_of(object, name);
  return v.is_string() ? v.get<std::string>() : std::string();
}

// The names a backup's resources get.
struct Names {
  std::string job;
  std::string fileset;
  std::string schedule;
  std::string pool;

  explicit Names(std::string job_name)
      : job(std::move(job_name)), fileset(fmt::format("{}-fileset", job)),
        schedule(fmt::format("{}-schedule", job)), pool(fmt::format("{}-pool", job)) {}
};

// The directives stove writes for each resource.
json client_directives(const std::string& name, const std::string& address,
                       const std::optional<std::string>& password) {
  json d = {{"Name", name},
            {"Address", address},
            {"FDPort", k_fd_port},
            {"Catalog", std::string(k_catalog)},
            {"AutoPrune", "yes"}};
  if (password) {
    d["Password"] = *password;
  }
  return d;
}

json fileset_directives(const std::string& name, const std::vector<std::string>& files,
                        const std::vector<std::string>& excludes) {
  json d = {{"Name", name},
            {"Include",
             json::array({{{"File", files}, {"Options", json::array({{{"Signature", "MD5"}}})}}})}};
  if (!excludes.empty()) {
    d["Exclude"] = json::array({{{"File", excludes}}});
  }
  return d;
}

json schedule_directives(const std::string& name, const std::string& run) {
  return {{"Name", name}, {"Run", json::array({run})}};
}

json pool_directives(const Names& names, int64_t days) {
  const std::string retention = fmt::format("{} days", days);
  return {{"Name", names.pool},
          {"PoolType", "Backup"},
          {"VolumeRetention", retention},
          {"JobRetention", retention},
          {"FileRetention", retention},
          {"AutoPrune", "yes"},
          {"Recycle", "yes"},
          {"LabelFormat", fmt::format("{}-", names.job)}};
}

json job_directives(const Names& names, const std::string& client, bool enabled) {
  return {{"Name", names.job},
          {"Type", "Backup"},
          {"Level", "Incremental"},
          {"Client", client},
          {"FileSet", names.fileset},
          {"Schedule", names.schedule},
          {"Pool", names.pool},
          {"Storage", std::string(k_storage)},
          {"Messages", std::string(k_messages)},
          {"Enabled", enabled ? "yes" : "no"}};
}

// What makes a Job the one stove would make: the resources it names. A job
// that differs only otherwise (Enabled, Level, Storage) is stove's own,
// from an earlier run, and is brought up to date.
json job_identity(const json& job) {
  json identity = json::object();
  for (const char* key : {"Name", "Type", "Client", "FileSet", "Schedule", "Pool"}) {
    if (job.contains(key)) {
      identity[key] = job[key];
    }
  }
  return identity;
}

// The directives of each type that stove manages: an update sets these and
// keeps the rest (a Client's Password, unless client_password_env is set).
std::vector<std::string> managed_keys(std::string_view type) {
  if (type == "Client") {
    return {"Address", "FDPort", "Catalog", "AutoPrune"};
  }
  if (type == "FileSet") {
    return {"Include", "Exclude"};
  }
  if (type == "Schedule") {
    return {"Run"};
  }
  if (type == "Pool") {
    return {"PoolType",  "VolumeRetention", "JobRetention", "FileRetention",
            "AutoPrune", "Recycle",         "LabelFormat"};
  }
  return {"Type", "Level",   "Client",   "FileSet", "Schedule",
          "Pool", "Storage", "Messages", "Enabled"};
}

std::vector<std::string> files_of(const json& blocks) {
  std::vector<std::string> out;
  if (!blocks.is_array()) {
    return out;
  }
  for (const auto& block : blocks) {
    json files = value_of(block, "File");
    if (files.is_string()) {
      out.push_back(files.get<std::string>());
    } else if (files.is_array()) {
      for (const auto& f : files) {
        if (f.is_string()) {
          out.push_back(f.get<std::string>());
        }
      }
    }
  }
  return out;
}

std::optional<int64_t> days_of(const json& retention) {
  if (!retention.is_string()) {
    return std::nullopt;
  }
  std::string text = lower_ascii(retention.get<std::string>());
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc()) {
    return std::nullopt;
  }
  std::string unit(end, static_cast<size_t>(text.data() + text.size() - end));
  unit.erase(0, unit.find_first_not_of(' '));
  if (unit == "days" || unit == "day" || unit == "d") {
    return n;
  }
  if (unit == "weeks" || unit == "week" || unit == "w") {
    return n * 7;
  }
  return std::nullopt;
}

bool enabled_of(const json& value) {
  if (value.is_null()) {
    return true;
  }
  std::string text = scalar_text(value);
  return !(text == "no" || text == "false" || text == "0");
}

// Finds a resource of a type ("Schedule", "FileSet", "Pool") by name:
// nullopt when there is none.
using Lookup = std::function<std::optional<json>(std::string_view type, const std::string& name)>;

// What stove observes of the Job `job`, named `name`, and of the Schedule,
// FileSet and Pool it points to, found through `lookup`: name, client,
// enabled, schedule (the Run directive), fileset and excludes (the Include
// and Exclude files), retention_days (the Pool's VolumeRetention). A
// resource the job names that is not there leaves its keys out.
json observed_of(const std::string& name, const json& job, const Lookup& lookup) {
  // What the job lacks is observed as null, not left out: a Schedule taken
  // off the job by hand is drift, and a missing key would hide it.
  json o = json::object();
  o["name"] = name;
  o["client"] = string_of(job, "Client");
  o["enabled"] = enabled_of(value_of(job, "Enabled"));
  o["schedule"] = nullptr;
  if (std::string s = string_of(job, "Schedule"); !s.empty()) {
    if (auto schedule = lookup("Schedule", s)) {
      json run = value_of(*schedule, "Run");
      if (run.is_array() && run.size() == 1 && run[0].is_string()) {
        o["schedule"] = run[0];
      } else if (run.is_string() || run.is_array()) {
        o["schedule"] = run;
      }
    }
  }
  o["fileset"] = nullptr;
  o["excludes"] = nullptr;
  if (std::string f = string_of(job, "FileSet"); !f.empty()) {
    if (auto fileset = lookup("FileSet", f)) {
      o["fileset"] = files_of(value_of(*fileset, "Include"));
      o["excludes"] = files_of(value_of(*fileset, "Exclude"));
    }
  }
  o["retention_days"] = nullptr;
  if (std::string p = string_of(job, "Pool"); !p.empty()) {
    if (auto pool = lookup("Pool", p)) {
      if (auto days = days_of(value_of(*pool, "VolumeRetention"))) {
        o["retention_days"] = *days;
      }
    }
  }
  return o;
}

// ---------------------------------------------------------------------------

class Api {
public:
  struct Reply {
    long status = 0;
    int64_t error = 0; // Bacularis' error code; -1 when the reply had none
    json output;
    std::string text; // the raw body
    bool ok() const { return status >= 200 && status < 300 && error == 0; }
    bool missing() const { return error == k_error_does_not_exist; }
  };

  Api(Settings settings, http::ClientOptions options)
      : m_settings(std::move(settings)), m_client(std::move(options)) {
    if (m_settings.client_password) {
      m_client.add_secret(*m_settings.client_password);
    }
    if (m_settings.token) {
      if (m_settings.token_is_secret) {
        m_client.add_secret(*m_settings.token);
      }
      m_authorization = fmt::format("Bearer {}", *m_settings.token);
    } else {
      m_client.add_secret(m_settings.password);
      std::string basic = base64(fmt::format("{}:{}", m_settings.username, m_settings.password));
      m_client.add_secret(basic);
      m_authorization = fmt::format("Basic {}", basic);
    }
  }

  http::Stats stats() const { return m_client.stats(); }
  const http::RetryPolicy& retry() const { return m_client.options().retry; }
  const Settings& settings() const { return m_settings; }

  static std::string config_path(std::string_view type, std::string_view name = {}) {
    return name.empty() ? fmt::format("config/dir/{}", type)
                        : fmt::format("config/dir/{}/{}", type, http::url_encode(name));
  }

  // Sends METHOD {endpoint}/api/v2/PATH; transport failures throw.
  Reply send(const std::string& method, const std::string& path, const json* body,
             const OpContext& context, bool idempotent = true) {
    const std::string url = fmt::format("{}/api/v2/{}", m_settings.endpoint, path);
    http::Request request;
    if (body != nullptr) {
      request = http::Request::json(method, url, *body);
    } else {
      request.method = method;
      request.url = url;
    }
    request.headers.emplace_back("Authorization", m_authorization);
    request.headers.emplace_back("Accept", "application/json");
    request.idempotent = idempotent;
    http::Response response = m_client.send(request, context.deadline);
    Reply reply;
    reply.status = response.status;
    reply.text = std::move(response.body);
    json j = json::parse(reply.text, nullptr, false);
    if (j.is_object() && j.contains("error") && j["error"].is_number_integer()) {
      reply.error = j["error"].get<int64_t>();
      reply.output = j.value("output", json());
    } else if (j.is_object() && j.contains("output")) {
      reply.error = 0;
      reply.output = j["output"];
    } else {
      reply.error = -1;
      reply.output = j.is_discarded() ? json(reply.text) : j;
    }
    // A Bacularis that answers 404 for a missing resource without the code.
    if (reply.status == 404 && reply.error <= 0) {
      reply.error = k_error_does_not_exist;
    }
    return reply;
  }

  // "POST config/dir/Job/nightly: error 94: Config validation error. ..."
  std::string error_text(const std::string& method, const std::string& path,
                         const Reply& reply) const {
    std::string what = fmt::format("{} {}", method, path);
    std::string message = output_text(reply.output);
    std::string text;
    if (reply.status >= 200 && reply.status < 300 && reply.error > 0) {
      text = fmt::format("{}: error {}", what, reply.error);
    } else {
      std::string_view reason = http::reason_phrase(reply.status);
      text = reason.empty() ? fmt::format("{}: {}", what, reply.status)
                            : fmt::format("{}: {} {}", what, reply.status, reason);
      if (reply.error > 0) {
        text = fmt::format("{} (error {})", text, reply.error);
      }
    }
    if (!message.empty()) {
      text = fmt::format("{}: {}", text, message);
    } else if (reply.error < 0 && reply.status >= 200 && reply.status < 300) {
      text = fmt::format("{}: the response is not a Bacularis reply", text);
    }
    if (reply.status == 401 || reply.status == 403) {
      text = fmt::format("{} ({})", text, m_settings.credential_hint);
    }
    return redact(std::move(text));
  }

  [[noreturn]] void fail(const std::string& method, const std::string& path,
                         const Reply& reply) const {
    throw ProviderError(error_text(method, path, reply), reply.status);
  }

  // Sends and returns the output of a successful reply; anything else is a
  // ProviderError.
  json call(const std::string& method, const std::string& path, const json* body,
            const OpContext& context) {
    Reply reply = send(method, path, body, context);
    if (!reply.ok()) {
      fail(method, path, reply);
    }
    return std::move(reply.output);
  }

  // The directives of a resource, or nullopt if there is none.
  std::optional<json> get(std::string_view type, std::string_view name, const OpContext& context) {
    const std::string path = config_path(type, name);
    Reply reply = send("GET", path, nullptr, context);
    if (reply.missing()) {
      return std::nullopt;
    }
    if (!reply.ok()) {
      fail("GET", path, reply);
    }
    // Either the directives, or {"Type": {directives}}.
    json& out = reply.output;
    const std::string key(type);
    if (out.is_object() && out.size() == 1 && out.contains(key) && out[key].is_object()) {
      return out[key];
    }
    if (!out.is_object()) {
      throw ProviderError(fmt::format("GET {}: expected the resource's directives", path));
    }
    return std::move(out);
  }

  // Every resource of `type`, as its directives.
  std::vector<json> list(std::string_view type, const OpContext& context) {
    const std::string path = config_path(type);
    json out = call("GET", path, nullptr, context);
    if (!out.is_array()) {
      throw ProviderError(fmt::format("GET {}: expected a list of resources", path));
    }
    std::vector<json> resources;
    const std::string key(type);
    for (auto& item : out) {
      if (item.is_object() && item.size() == 1 && item.contains(key)) {
        resources.push_back(item[key]);
      } else if (item.is_object()) {
        resources.push_back(item);
      }
    }
    return resources;
  }

  static json body_of(const json& directives) { return {{"config", directives.dump()}}; }

  // PUTs `wanted` merged into `current`: stove's directives set (or
  // removed when `wanted` leaves them out), the others kept.
  void put_merged(std::string_view type, const json& current, const json& wanted,
                  const OpContext& context) {
    json merged = current.is_object() ? current : json::object();
    for (const auto& key : managed_keys(type)) {
      if (wanted.contains(key)) {
        merged[key] = wanted[key];
      } else {
        merged.erase(key);
      }
    }
    // The file daemons' password: stove's when it has one (client_password_env),
    // else whatever an operator set.
    if (type == "Client" && wanted.contains("Password")) {
      merged["Password"] = wanted["Password"];
    }
    merged["Name"] = wanted["Name"];
    json body = body_of(merged);
    try {
      call("PUT", config_path(type, wanted["Name"].get<std::string>()), &body, context);
    } catch (const ProviderError& e) {
      // A refusal may quote the config sent back, with the file daemon's
      // password an operator set.
      std::string message = e.what();
      for (const char* key : {"Password", "password"}) {
        if (merged.contains(key) && merged[key].is_string() &&
            !merged[key].get<std::string>().empty()) {
          message = replace_all(std::move(message), merged[key].get<std::string>(), "<redacted>");
        }
      }
      throw ProviderError(message, e.http_status());
    }
  }

  // Deletes a resource. Returns false if it was already gone; throws
  // ProviderError for other failures (a dependency error included).
  bool remove(std::string_view type, std::string_view name, const OpContext& context,
              Reply* refused = nullptr) {
    const std::string path = config_path(type, name);
    Reply reply = send("DELETE", path, nullptr, context);
    if (reply.missing()) {
      return false;
    }
    if (!reply.ok()) {
      if (refused != nullptr && reply.error == k_error_dependency) {
        *refused = std::move(reply);
        return false;
      }
      fail("DELETE", path, reply);
    }
    return true;
  }

  void reload(const OpContext& context) {
    json body = json::array({"reload"});
    call("PUT", "console", &body, context);
  }

private:
  std::string redact(std::string text) const {
    if (m_settings.token && m_settings.token_is_secret) {
      text = replace_all(std::move(text), *m_settings.token, "<redacted>");
    }
    if (!m_settings.password.empty()) {
      text = replace_all(std::move(text), m_settings.password, "<redacted>");
    }
    return text;
  }

  Settings m_settings;
  http::Client m_client;
  std::string m_authorization;
};

// ---------------------------------------------------------------------------

// What to do when a resource stove creates is there already, configured
// otherwise.
enum class Existing {
  reuse,     // a machine's Client: shared; its address is brought up to date
  overwrite, // a backup's FileSet, Schedule, Pool: named after the job, stove's
  refuse,    // the Job itself: someone else's
};

class Backups final : public KindAdapter {
public:
  explicit Backups(Api& api) : m_api(api) {}

  std::optional<Remote> read(const Target& target, const OpContext& context) override {
    const std::string name =
        target.remote_id.empty() ? spec_string(target, "name") : target.remote_id;
    return observe(name, context);
  }

  Remote create(const Target& target, const OpContext& context) override {
    const Names names(spec_string(target, "name"));
    check_job_name(target, names.job);
    const std::string client = client_of(target);
    const std::string address = address_of(target);
    const json job = job_directives(names, client, spec_enabled(target));

    // Someone else's job of that name: refuse before touching anything.
    if (auto existing = m_api.get("Job", names.job, context);
        existing && !covers(*existing, job_identity(job))) {
      throw conflict(target, names.job, *existing, job_identity(job));
    }
    ensure(target, "Client", client_directives(client, address, m_api.settings().client_password),
           Existing::reuse, context);
    ensure(target, "FileSet",
           fileset_directives(names.fileset, spec_list(target, "fileset", {"/"}),
                              spec_list(target, "excludes", {})),
           Existing::overwrite, context);
    ensure(target, "Schedule", schedule_directives(names.schedule, spec_string(target, "schedule")),
           Existing::overwrite, context);
    ensure(target, "Pool", pool_directives(names, spec_retention(target)), Existing::overwrite,
           context);
    ensure(target, "Job", job, Existing::refuse, context);
    m_api.reload(context);
    return must_observe(target, names.job, context);
  }

  Remote update(const Target& target, const OpContext& context) override {
    const Names names(target.remote_id.empty() ? spec_string(target, "name") : target.remote_id);
    if (changed(target, "name") && !target.remote_id.empty() &&
        spec_string(target, "name") != target.remote_id) {
      throw ProviderError(fmt::format("{}: name cannot change in place", target.address));
    }
    bool any = false;
    if (changed(target, "schedule")) {
      put(target, "Schedule", schedule_directives(names.schedule, spec_string(target, "schedule")),
          context);
      any = true;
    }
    if (changed(target, "fileset") || changed(target, "excludes")) {
      put(target, "FileSet",
          fileset_directives(names.fileset, spec_list(target, "fileset", {"/"}),
                             spec_list(target, "excludes", {})),
          context);
      any = true;
    }
    if (changed(target, "retention_days")) {
      put(target, "Pool", pool_directives(names, spec_retention(target)), context);
      any = true;
    }
    if (changed(target, "enabled")) {
      auto current = m_api.get("Job", names.job, context);
      if (!current) {
        throw ProviderError(
            fmt::format("{}: Job \"{}\" is gone; it cannot be updated", target.address, names.job),
            404);
      }
      json wanted = *current;
      wanted["Enabled"] = spec_enabled(target) ? "yes" : "no";
      m_api.put_merged("Job", *current, wanted, context);
      any = true;
    }
    if (!any && target.prior_observed.is_object() && target.prior_observed.contains("name")) {
      return Remote{names.job, target.prior_observed}; // labels: stove's alone
    }
    if (any) {
      m_api.reload(context);
    }
    return must_observe(target, names.job, context);
  }

  void destroy(const Target& target, const OpContext& context) override {
    const Names names(target.remote_id.empty() ? spec_string(target, "name") : target.remote_id);
    auto job = m_api.get("Job", names.job, context);
    std::string client = job ? string_of(*job, "Client") : std::string();
    if (client.empty()) {
      client = client_of(target, /*required=*/false);
    }
    // A job that was there is reloaded away, even if a lost response makes
    // its DELETE look like it found nothing.
    bool any = job.has_value();
    if (job) {
      m_api.remove("Job", names.job, context);
    }
    // Only what is named after the job: a FileSet or Schedule the job was
    // pointed at by hand may be shared.
    const std::array<std::pair<std::string_view, const std::string*>, 3> owned = {
        {{"Schedule", &names.schedule}, {"FileSet", &names.fileset}, {"Pool", &names.pool}}};
    for (auto [type, name] : owned) {
      Api::Reply refused;
      if (m_api.remove(type, *name, context, &refused)) {
        any = true;
      } else if (refused.error == k_error_dependency) {
        note(context,
             fmt::format("keeping {} \"{}\": {}", type, *name, output_text(refused.output)));
      }
    }
    if (!client.empty() && !client_in_use(client, names.job, context)) {
      Api::Reply refused;
      if (m_api.remove("Client", client, context, &refused)) {
        any = true;
      } else if (refused.error == k_error_dependency) {
        note(context,
             fmt::format("keeping Client \"{}\": {}", client, output_text(refused.output)));
      }
    }
    if (any) {
      m_api.reload(context);
    }
  }

  std::optional<Remote> find(const Target& target, const OpContext& context) override {
    return observe(spec_string(target, "name"), context);
  }

  // The jobs of the machine parent's Client (every job at the top), each
  // observed as read() observes it, from four listings: Job, Schedule,
  // FileSet and Pool. Between begin_refresh() and end_refresh() those are
  // fetched once, by the first list(), and every list() answers from them.
  std::vector<Remote> list(const std::vector<Parent>& parents, const OpContext& context) override {
    std::optional<std::string> client;
    for (const auto& parent : parents) {
      if (parent.kind == Kind::machine) {
        std::string machine = string_of(parent.observed, "name");
        if (!machine.empty()) {
          client = client_name(machine);
        }
        break;
      }
    }
    std::shared_ptr<const Directory> directory = refresh_directory(context);
    if (!directory) {
      directory = std::make_shared<const Directory>(fetch_directory(context));
    }
    if (!client) {
      return directory->all;
    }
    auto it = directory->by_client.find(*client);
    if (it == directory->by_client.end()) {
      return {};
    }
    std::vector<Remote> out;
    out.reserve(it->second.size());
    for (size_t index : it->second) {
      out.push_back(directory->all[index]);
    }
    return out;
  }

  void begin_refresh() override {
    std::lock_guard lock(m_refresh_mutex);
    ++m_refreshes;
  }

  void end_refresh() override {
    std::lock_guard lock(m_refresh_mutex);
    if (m_refreshes > 0 && --m_refreshes == 0) {
      m_directory.reset();
    }
  }

  // run: POST jobs/run with what Bacularis requires (the job's level,
  // or the one asked for, as a letter, and its Client, FileSet, Storage and
  // Pool), then GET jobs/{jobid} until the job ends. T (and W, terminated
  // with warnings) is success; E, e and f are failures and A a cancel, each
  // with the job log's last error. The run's record is observed as
  // last_job, whatever its end.
  ActionResult execute(const Target& target, std::string_view action, const json& params,
                       const OpContext& context) override {
    if (action != "run") {
      return KindAdapter::execute(target, action, params, context);
    }
    const std::string name =
        target.remote_id.empty() ? spec_string(target, "name") : target.remote_id;
    auto job = m_api.get("Job", name, context);
    if (!job) {
      throw ProviderError(fmt::format("{}: Job \"{}\" does not exist in Bacularis (stove plan "
                                      "will create it again)",
                                      target.address, name),
                          404);
    }
    std::string level = params.is_object() ? params.value("level", std::string()) : "";
    if (level.empty()) {
      level = string_of(*job, "Level");
    }
    if (level.empty()) {
      level = "Incremental";
    }
    const std::string letter = level_letter(level);
    if (letter.empty()) {
      throw ProviderError(fmt::format("{}: Job \"{}\" has Level {}, which stove does not run; "
                                      "give --param level=Full, Incremental or Differential",
                                      target.address, name, level));
    }
    json body = {{"name", name}, {"level", letter}};
    for (const char* key : {"Client", "FileSet", "Storage", "Pool"}) {
      std::string value = string_of(*job, key);
      if (value.empty()) {
        throw ProviderError(fmt::format("{}: Job \"{}\" has no {}; Bacularis cannot run it",
                                        target.address, name, key));
      }
      body[lower_ascii(key)] = value;
    }
    Api::Reply reply = m_api.send("POST", "jobs/run", &body, context, /*idempotent=*/false);
    if (!reply.ok()) {
      m_api.fail("POST", "jobs/run", reply);
    }
    const std::string id = queued_job_id(reply.output);
    if (id.empty()) {
      throw ProviderError(
          fmt::format("POST jobs/run: the reply names no JobId: {}", output_text(reply.output)));
    }
    note(context, fmt::format("job {} queued ({})", id, level));
    return wait_for_job(id, level, context);
  }

private:
  // "Full" -> "F": the letters jobs/run takes; empty for another level.
  static std::string level_letter(const std::string& level) {
    const std::string l = lower_ascii(level);
    if (l == "full" || l == "f") {
      return "F";
    }
    if (l == "incremental" || l == "i") {
      return "I";
    }
    if (l == "differential" || l == "d") {
      return "D";
    }
    return {};
  }

  static std::string level_word(const std::string& letter) {
    if (letter == "F") {
      return "Full";
    }
    if (letter == "I") {
      return "Incremental";
    }
    if (letter == "D") {
      return "Differential";
    }
    return letter;
  }

  // The N of "Job queued. JobId=N" in bconsole's output.
  static std::string queued_job_id(const json& output) {
    std::vector<std::string> lines;
    if (output.is_string()) {
      lines.push_back(output.get<std::string>());
    } else if (output.is_array()) {
      for (const auto& line : output) {
        if (line.is_string()) {
          lines.push_back(line.get<std::string>());
        }
      }
    }
    for (const auto& line : lines) {
      auto at = line.find("JobId=");
      if (at == std::string::npos) {
        continue;
      }
      std::string digits;
      for (size_t i = at + 6; i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i) {
        digits.push_back(line[i]);
      }
      if (!digits.empty()) {
        return digits;
      }
    }
    return {};
  }

  static json last_job(const std::string& id, const json& record, const std::string& level) {
    auto text = [&](const char* key) {
      json v = value_of(record, key);
      return v.is_string() ? v : json(nullptr);
    };
    // The catalog's numbers may come back as strings ("1200").
    auto number = [&](const char* key) {
      json v = value_of(record, key);
      return v.is_number_integer() ? v : v.is_string() ? id_number(v.get<std::string>()) : json(0);
    };
    json job_id = id_number(id);
    std::string letter = string_of(record, "level");
    return {{"id", job_id},
            {"status", string_of(record, "jobstatus")},
            {"level", letter.empty() ? level : level_word(letter)},
            {"started", text("starttime")},
            {"ended", text("endtime")},
            {"files", number("jobfiles")},
            {"bytes", number("jobbytes")}};
  }

  static json id_number(const std::string& id) {
    int64_t value = 0;
    auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), value);
    return ec == std::errc() && end == id.data() + id.size() ? json(value) : json(id);
  }

  // The last error line of the job's log, or its last line.
  std::string log_error(const std::string& id, const OpContext& context) {
    try {
      Api::Reply reply = m_api.send("GET", fmt::format("joblog/{}", id), nullptr, context);
      if (!reply.ok() || !reply.output.is_array() || reply.output.empty()) {
        return {};
      }
      std::string last;
      for (const auto& line : reply.output) {
        if (!line.is_string()) {
          continue;
        }
        std::string text = line.get<std::string>();
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
          text.pop_back();
        }
        if (text.find("Fatal error") != std::string::npos ||
            (last.find("Fatal error") == std::string::npos &&
             text.find("Error") != std::string::npos)) {
          last = text;
        } else if (last.empty()) {
          last = text;
        }
      }
      // "22-Nov 08:06 dir JobId 12: Fatal error: ...": the message only.
      if (auto at = last.find("JobId "); at != std::string::npos) {
        auto colon = last.find(": ", at);
        if (colon != std::string::npos) {
          last = last.substr(colon + 2);
        }
      }
      return last;
    } catch (const std::exception&) {
      return {}; // the log is a courtesy
    }
  }

  ActionResult wait_for_job(const std::string& id, const std::string& level,
                            const OpContext& context) {
    constexpr std::chrono::milliseconds k_first{100};
    constexpr std::chrono::milliseconds k_cap{2000};
    const std::string path = fmt::format("jobs/{}", id);
    auto delay = k_first;
    json record = json::object();
    std::string status;
    bool noted_running = false;
    bool interrupted = false;
    try {
      for (;;) {
        Api::Reply reply = m_api.send("GET", path, nullptr, context);
        if (!reply.ok()) {
          m_api.fail("GET", path, reply);
        }
        if (!reply.output.is_object()) {
          throw ProviderError(fmt::format("GET {}: expected the job's record", path));
        }
        record = reply.output;
        status = string_of(record, "jobstatus");
        if (status == "T" || status == "W") {
          json last = last_job(id, record, level);
          ActionResult result;
          result.outcome = fmt::format(
              "job {} {} ({}, {} files, {} bytes{})", id, status, last["level"].get<std::string>(),
              last["files"].dump(), last["bytes"].dump(), status == "W" ? ", with warnings" : "");
          result.observed = {{"last_job", std::move(last)}};
          return result;
        }
        if (status == "E" || status == "e" || status == "f" || status == "A" || status == "I") {
          std::string why = log_error(id, context);
          ActionResult result;
          result.ok = false;
          result.outcome = fmt::format("job {} ended {} ({}){}", id, status,
                                       status == "A"   ? "cancelled"
                                       : status == "f" ? "fatal error"
                                       : status == "E" ? "terminated in error"
                                       : status == "I" ? "incomplete"
                                                       : "terminated with errors",
                                       why.empty() ? std::string() : fmt::format(": {}", why));
          result.observed = {{"last_job", last_job(id, record, level)}};
          return result;
        }
        if (status == "R" && !noted_running) {
          note(context, fmt::format("job {} running", id));
          noted_running = true;
        }
        if (context.deadline.expired()) {
          break;
        }
        context.deadline.sleep(delay);
        delay = std::min(delay * 2, k_cap);
      }
    } catch (const http::TransportError& e) {
      // Out of time, or interrupted (Ctrl-C): the job goes on either way,
      // and what is known of it is recorded.
      interrupted = e.reason() == http::TransportError::Reason::cancelled;
      if (!interrupted &&
          !(e.reason() == http::TransportError::Reason::timeout && context.deadline.expired())) {
        throw;
      }
    }
    ActionResult result;
    result.ok = false;
    result.outcome = fmt::format("{}: job {} was still {}; it goes on in Bacula",
                                 interrupted ? "interrupted" : "out of time", id,
                                 status.empty() ? "queued" : status);
    result.observed = {{"last_job", last_job(id, record, level)}};
    return result;
  }

  static void check_job_name(const Target& target, const std::string& name) {
    if (!valid_name(name) || name.size() > k_max_job_name) {
      throw ProviderError(fmt::format(
          "{}: \"{}\" is not a usable Bacula job name: 1 to {} letters, digits, '-', '_', '.', "
          "':' or inner spaces (its FileSet, Schedule and Pool are named after it)",
          target.address, name, k_max_job_name));
    }
  }

  static const Parent* machine_of(const Target& target) {
    for (const auto& parent : target.parents) {
      if (parent.kind == Kind::machine) {
        return &parent;
      }
    }
    return nullptr;
  }

  static std::string client_of(const Target& target, bool required = true) {
    const Parent* machine = machine_of(target);
    std::string name = machine != nullptr ? string_of(machine->observed, "name") : std::string();
    if (name.empty()) {
      if (!required) {
        return {};
      }
      throw ProviderError(fmt::format("{}: its machine has no observed name yet", target.address));
    }
    return client_name(name);
  }

  static std::string address_of(const Target& target) {
    const Parent* machine = machine_of(target);
    std::string ip =
        machine != nullptr ? string_of(machine->observed, "ip_address") : std::string();
    if (ip.empty()) {
      throw ProviderError(fmt::format(
          "{}: its machine has no IP address yet (the Client's Address)", target.address));
    }
    return ip;
  }

  ProviderError conflict(const Target& target, const std::string& job, const json& have,
                         const json& want) const {
    return ProviderError(fmt::format(
        "{}: a Job \"{}\" exists already, configured otherwise ({}); stove does not take over a "
        "job it did not make: rename the backup or remove that job",
        target.address, job, differences(have, want)));
  }

  // Creates a resource, or settles for the one there: the same (a create
  // whose response was lost, an interrupted earlier run), or per `existing`.
  void ensure(const Target& target, std::string_view type, const json& wanted, Existing existing,
              const OpContext& context) {
    const std::string name = wanted["Name"].get<std::string>();
    const std::string path = Api::config_path(type, name);
    const json body = Api::body_of(wanted);
    const http::RetryPolicy& retry = m_api.retry();
    const int attempts = std::max(1, retry.max_attempts);
    auto delay = std::max(retry.base, std::chrono::milliseconds(1));
    for (int attempt = 1;; ++attempt) {
      std::string failure;
      long status = 0;
      bool exists = false;
      try {
        Api::Reply reply = m_api.send("POST", path, &body, context, /*idempotent=*/false);
        if (reply.ok()) {
          return;
        }
        exists = reply.error == k_error_already_exists;
        // A 5xx (or a 429 the client gave up on) may have been carried out.
        if (!exists && reply.status < 500 && reply.status != 429) {
          m_api.fail("POST", path, reply);
        }
        failure = m_api.error_text("POST", path, reply);
        status = reply.status;
      } catch (const http::TransportError& e) {
        if (e.reason() == http::TransportError::Reason::cancelled || context.deadline.expired()) {
          throw;
        }
        failure = e.what();
      }
      if (auto current = m_api.get(type, name, context)) {
        if (covers(*current, wanted)) {
          if (exists) {
            note(context, fmt::format("adopting the existing {} \"{}\"", type, name));
          }
          return;
        }
        if (existing == Existing::refuse && !covers(*current, job_identity(wanted))) {
          throw conflict(target, name, *current, job_identity(wanted));
        }
        switch (existing) {
        case Existing::refuse: // stove's job (it names stove's resources), otherwise set
        case Existing::reuse:
        case Existing::overwrite: {
          note(context, fmt::format("updating the existing {} \"{}\" ({})", type, name,
                                    differences(*current, wanted)));
          json merged = wanted;
          if (existing == Existing::reuse) {
            // Only what stove must have: the Client's address.
            merged = *current;
            for (const auto& [key, value] : wanted.items()) {
              if (!current->contains(key) || key == "Address" || key == "Password") {
                merged[key] = value;
              }
            }
          }
          m_api.put_merged(type, *current, merged, context);
          return;
        }
        }
      }
      if (attempt >= attempts) {
        throw ProviderError(failure, status);
      }
      context.deadline.sleep(delay);
      delay = std::min(delay * 2, std::max(retry.cap, retry.base));
    }
  }

  // Brings a resource to `wanted` (merged into what is there), or makes it
  // again if it went missing.
  void put(const Target& target, std::string_view type, const json& wanted,
           const OpContext& context) {
    const std::string name = wanted["Name"].get<std::string>();
    if (auto current = m_api.get(type, name, context)) {
      m_api.put_merged(type, *current, wanted, context);
      return;
    }
    note(context, fmt::format("{} \"{}\" is missing; making it again", type, name));
    ensure(target, type, wanted, Existing::overwrite, context);
  }

  bool client_in_use(const std::string& client, const std::string& except,
                     const OpContext& context) {
    for (const auto& job : m_api.list("Job", context)) {
      if (string_of(job, "Client") == client && string_of(job, "Name") != except) {
        return true;
      }
    }
    return false;
  }

  std::optional<Remote> observe(const std::string& name, const OpContext& context) {
    auto job = m_api.get("Job", name, context);
    if (!job) {
      return std::nullopt;
    }
    return Remote{name, observed_of(name, *job, [&](std::string_view type, const std::string& n) {
                    return m_api.get(type, n, context);
                  })};
  }

  // Every job of the director, observed, and by Client the indexes of its
  // jobs in `all`.
  struct Directory {
    std::vector<Remote> all;
    std::map<std::string, std::vector<size_t>, std::less<>> by_client;
  };

  Directory fetch_directory(const OpContext& context) {
    std::vector<json> jobs = m_api.list("Job", context);
    std::map<std::string, std::map<std::string, json, std::less<>>, std::less<>> resources;
    for (const char* type : {"Schedule", "FileSet", "Pool"}) {
      auto& named = resources[type];
      for (auto& directives : m_api.list(type, context)) {
        std::string name = string_of(directives, "Name");
        if (!name.empty()) {
          named.emplace(std::move(name), std::move(directives));
        }
      }
    }
    const Lookup lookup = [&](std::string_view type,
                              const std::string& name) -> std::optional<json> {
      auto t = resources.find(type);
      if (t == resources.end()) {
        return std::nullopt;
      }
      auto r = t->second.find(name);
      return r == t->second.end() ? std::nullopt : std::optional<json>(r->second);
    };
    Directory directory;
    for (const auto& job : jobs) {
      std::string name = string_of(job, "Name");
      if (name.empty()) {
        continue;
      }
      directory.by_client[string_of(job, "Client")].push_back(directory.all.size());
      json observed = observed_of(name, job, lookup);
      directory.all.push_back(Remote{std::move(name), std::move(observed)});
    }
    return directory;
  }

  // During a refresh, the directory fetched by its first list() (fetched
  // now if this is it); outside one, nullptr. Concurrent callers wait for
  // the one fetch; a failed fetch is tried again by the next list().
  std::shared_ptr<const Directory> refresh_directory(const OpContext& context) {
    std::lock_guard lock(m_refresh_mutex);
    if (m_refreshes == 0) {
      return nullptr;
    }
    if (!m_directory) {
      m_directory = std::make_shared<const Directory>(fetch_directory(context));
    }
    return m_directory;
  }

  Remote must_observe(const Target& target, const std::string& name, const OpContext& context) {
    auto remote = observe(name, context);
    if (!remote) {
      throw ProviderError(
          fmt::format("{}: Job \"{}\" is not there after it was written", target.address, name));
    }
    return std::move(*remote);
  }

  Api& m_api;
  std::mutex m_refresh_mutex; // guards m_refreshes and m_directory
  int m_refreshes = 0;        // begin_refresh() calls not yet ended
  std::shared_ptr<const Directory> m_directory;
};

class BacularisProvider final : public Provider {
public:
  BacularisProvider(Settings settings, http::ClientOptions options)
      : m_api(std::move(settings), std::move(options)), m_backups(m_api) {}

  KindAdapter* adapter(Kind kind) override { return kind == Kind::backup ? &m_backups : nullptr; }

  http::Stats stats() const override { return m_api.stats(); }

private:
  Api m_api;
  Backups m_backups;
};

} // namespace

bool valid_name(std::string_view name) { return !check_bacula_name(name, k_max_name); }

std::string client_name(std::string_view machine_name) {
  constexpr std::string_view k_suffix = "-fd";
  std::string name;
  for (char c : machine_name) {
    name.push_back(bacula_name_char(c) ? c : '-');
  }
  if (name.size() > k_max_name - k_suffix.size()) {
    name.resize(k_max_name - k_suffix.size());
  }
  if (name.empty()) {
    name = "machine";
  }
  name.append(k_suffix);
  return name;
}

Settings settings_from_config(const ProviderConfig& config, const Environment& environment) {
  Settings s;
  s.provider_name = config.name;
  s.endpoint = openvcloud::normalise_endpoint(config);
  if (auto variable = setting_string(config, "client_password_env")) {
    s.client_password = read_variable(environment, *variable);
    if (!s.client_password) {
      throw Error(ErrorKind::input,
                  fmt::format("provider \"{}\": environment variable {} is not set; it holds the "
                              "file daemons' password (client_password_env)",
                              config.name, *variable));
    }
  }
  if (auto token_variable = setting_string(config, "token_env")) {
    auto token = read_variable(environment, *token_variable);
    if (!token) {
      throw Error(ErrorKind::input,
                  fmt::format("provider \"{}\": environment variable {} is not set; it holds the "
                              "OAuth2 bearer token (token_env)",
                              config.name, *token_variable));
    }
    s.token = std::move(token);
    s.credential_hint = fmt::format("check the token in {}", *token_variable);
    return s;
  }
  const std::string user_variable =
      setting_string(config, "username_env").value_or("STOVE_BACULARIS_USER");
  const std::string password_variable =
      setting_string(config, "password_env").value_or("STOVE_BACULARIS_PASSWORD");
  auto user = read_variable(environment, user_variable);
  if (!user) {
    throw Error(ErrorKind::input,
                fmt::format("provider \"{}\": environment variable {} is not set; it holds the "
                            "Bacularis API user name (username_env), or set token_env for an "
                            "OAuth2 bearer token",
                            config.name, user_variable));
  }
  auto password = read_variable(environment, password_variable);
  if (!password) {
    throw Error(ErrorKind::input,
                fmt::format("provider \"{}\": environment variable {} is not set; it holds the "
                            "Bacularis API password (password_env)",
                            config.name, password_variable));
  }
  s.username = std::move(*user);
  s.password = std::move(*password);
  s.credential_hint =
      fmt::format("check the user and password in {} and {}", user_variable, password_variable);
  return s;
}

std::unique_ptr<Provider> make(Settings settings, http::ClientOptions http) {
  if (http.name.empty()) {
    http.name = settings.provider_name;
  }
  return std::make_unique<BacularisProvider>(std::move(settings), std::move(http));
}

std::unique_ptr<Provider> factory(const ProviderConfig& config, const ProviderOptions& options) {
  http::ClientOptions http = options.http;
  http.name = config.name;
  return make(settings_from_config(config, options.environment), std::move(http));
}

} // namespace stove::providers::bacularis
