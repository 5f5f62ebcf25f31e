#include "providers/bacularis_api.hpp"

#include "providers/sigv4.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace stove::providers::bacularis {

using nlohmann::json;

namespace {

// The lines of a reply's output.
std::vector<std::string> lines_of(const json& output) {
  std::vector<std::string> lines;
  if (output.is_string()) {
    std::string text = output.get<std::string>();
    size_t start = 0;
    while (start <= text.size()) {
      size_t end = text.find('\n', start);
      lines.push_back(text.substr(start, end == std::string::npos ? end : end - start));
      if (end == std::string::npos) {
        break;
      }
      start = end + 1;
    }
  } else if (output.is_array()) {
    for (const auto& l : output) {
      if (l.is_string()) {
        lines.push_back(l.get<std::string>());
      }
    }
  }
  return lines;
}

std::string_view trim(std::string_view text) {
  auto start = text.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) {
    return {};
  }
  auto end = text.find_last_not_of(" \t\r\n");
  return text.substr(start, end + 1 - start);
}

bool is_write(const std::string& method) {
  return method != "GET" && method != "HEAD";
}

// The reply envelope of a response: {"output", "error"}, or the body as it
// is (error -1) when it is not one.
Api::Reply envelope(http::Response response) {
  Api::Reply reply;
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
  return reply;
}

} // namespace

std::string output_text(const json& output) {
  constexpr size_t k_max = 400;
  std::string text;
  // A validation error carries the JSON tool's whole result; the
  // director's "Config error: ..." line says it all.
  for (const auto& line : lines_of(output)) {
    if (auto at = line.find("Config error: "); at != std::string::npos) {
      text = std::string(trim(line.substr(at)));
      break;
    }
  }
  if (text.empty()) {
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
  }
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') {
      c = ' ';
    }
  }
  return text.size() > k_max ? fmt::format("{}...", text.substr(0, k_max)) : text;
}

bool Api::Reply::missing() const {
  return error == k_error_does_not_exist ||
         (status >= 200 && status < 300 && error == 0 && output.is_array() && output.empty()) ||
         (status == 404 && error <= 0);
}

Api::Api(Settings settings, http::ClientOptions options)
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
    std::string basic =
        sigv4::base64(fmt::format("{}:{}", m_settings.username, m_settings.password));
    m_client.add_secret(basic);
    m_authorization = fmt::format("Basic {}", basic);
  }
}

std::string Api::config_path(std::string_view type, std::string_view name) {
  return name.empty() ? fmt::format("config/dir/{}", type)
                      : fmt::format("config/dir/{}/{}", type, http::url_encode(name));
}

int Api::version(const OpContext& context) {
  std::lock_guard lock(m_version_mutex);
  if (m_version == 0) {
    m_version = detect_version(context);
  }
  return m_version;
}

int Api::detect_version(const OpContext& context) {
  const std::string url = fmt::format("{}/api/v3/config/dir/Director", m_settings.endpoint);
  http::Request request;
  request.url = url;
  request.headers = {{"Authorization", m_authorization},
                     {"Accept", "application/json"},
                     {std::string(k_client_version_header), std::string(k_client_version)}};
  Reply reply = envelope(m_client.send(request, context.deadline));
  if (reply.status == 401 || reply.status == 403) {
    fail("GET", "config/dir/Director", reply);
  }
  // An older Bacularis answers /api/v3/ with a PHP error page.
  const bool v3 = reply.status >= 200 && reply.status < 300 && reply.error >= 0;
  return v3 ? 3 : 2;
}

Api::Reply Api::send(const std::string& method, const std::string& path, const json* body,
                     const OpContext& context, bool idempotent) {
  const int v = version(context);
  const std::string url = fmt::format("{}/api/v{}/{}", m_settings.endpoint, v, path);
  http::Request request;
  if (body != nullptr) {
    request = http::Request::json(method, url, *body);
  } else {
    request.method = method;
    request.url = url;
  }
  request.headers.emplace_back("Authorization", m_authorization);
  request.headers.emplace_back("Accept", "application/json");
  request.headers.emplace_back(std::string(k_client_version_header), std::string(k_client_version));
  request.idempotent = idempotent;
  std::unique_lock<std::mutex> write_lock(m_write_mutex, std::defer_lock);
  if (is_write(method)) {
    write_lock.lock();
  }
  return envelope(m_client.send(request, context.deadline));
}

std::string Api::error_text(const std::string& method, const std::string& path,
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

void Api::fail(const std::string& method, const std::string& path, const Reply& reply) const {
  throw ProviderError(error_text(method, path, reply), reply.status);
}

json Api::call(const std::string& method, const std::string& path, const json* body,
               const OpContext& context) {
  Reply reply = send(method, path, body, context);
  if (!reply.ok()) {
    fail(method, path, reply);
  }
  return std::move(reply.output);
}

std::optional<json> Api::get(std::string_view type, std::string_view name,
                             const OpContext& context) {
  const std::string path = config_path(type, name);
  Reply reply = send("GET", path, nullptr, context);
  if (reply.missing()) {
    return std::nullopt;
  }
  if (!reply.ok()) {
    fail("GET", path, reply);
  }
  if (!reply.output.is_object()) {
    throw ProviderError(fmt::format("GET {}: expected the resource's directives, got {}", path,
                                    output_text(reply.output)));
  }
  return std::move(reply.output);
}

std::vector<json> Api::list(std::string_view type, const OpContext& context) {
  const std::string path = config_path(type);
  json out = call("GET", path, nullptr, context);
  if (!out.is_array()) {
    throw ProviderError(fmt::format("GET {}: expected a list of resources", path));
  }
  // [{"Fileset": {directives}}, ...]: one key, the type as bdirjson spells it.
  std::vector<json> resources;
  for (auto& item : out) {
    if (item.is_object() && item.size() == 1 && item.begin()->is_object()) {
      resources.push_back(std::move(*item.begin()));
    }
  }
  return resources;
}

Api::Created Api::create(std::string_view type, const json& directives, const OpContext& context,
                         std::string* why) {
  const std::string name = directives.at("Name").get<std::string>();
  const std::string path = config_path(type, name);
  const json body = {{"config", directives.dump()}};
  const bool v3 = version(context) >= 3;
  if (!v3 && get(type, name, context)) {
    return Created::exists;
  }
  const std::string method = v3 ? "POST" : "PUT";
  Reply reply = send(method, path, &body, context, /*idempotent=*/!v3);
  if (reply.ok()) {
    return Created::created;
  }
  if (reply.error == k_error_already_exists) {
    return Created::exists;
  }
  // A 5xx (or a 429 the client gave up on) may have been carried out.
  if (reply.status >= 500 || reply.status == 429) {
    if (why != nullptr) {
      *why = error_text(method, path, reply);
    }
    return Created::unknown;
  }
  fail(method, path, reply);
}

bool Api::replace(std::string_view type, const json& directives, const OpContext& context) {
  const std::string path = config_path(type, directives.at("Name").get<std::string>());
  const json body = {{"config", directives.dump()}};
  Reply reply = send("PUT", path, &body, context);
  if (reply.error == k_error_does_not_exist) {
    return false;
  }
  if (!reply.ok()) {
    fail("PUT", path, reply);
  }
  return true;
}

Api::Removed Api::remove(std::string_view type, std::string_view name, const OpContext& context,
                         std::string* users) {
  const std::string path = config_path(type, name);
  if (version(context) < 3) {
    throw ProviderError(fmt::format(
        "DELETE {}: {} speaks Bacularis API v2 only (Bacularis before 3.2.0), which cannot "
        "delete director resources; upgrade Bacularis to 3.2.0 or later (API v3)",
        path, http::redact_url(m_settings.endpoint)));
  }
  Reply reply = send("DELETE", path, nullptr, context);
  if (reply.ok()) {
    return Removed::removed;
  }
  if (reply.error == k_error_does_not_exist) {
    return Removed::missing;
  }
  if (reply.error == k_error_dependency) {
    if (users != nullptr) {
      // The output is JSON text: [{"resource_type", "resource_name", ...}].
      json list = json::parse(reply.output.is_string() ? reply.output.get<std::string>() : "",
                              nullptr, false);
      std::string text;
      if (list.is_array()) {
        for (const auto& u : list) {
          std::string item =
              fmt::format("{} \"{}\" ({})", u.value("resource_type", "?"),
                          u.value("resource_name", "?"), u.value("directive_name", "?"));
          text = text.empty() ? item : fmt::format("{}, {}", text, item);
        }
      }
      *users = text.empty() ? output_text(reply.output) : text;
    }
    return Removed::in_use;
  }
  fail("DELETE", path, reply);
}

void Api::reload(const OpContext& context) {
  json body = json::array({"reload"});
  call("PUT", "console", &body, context);
}

std::set<std::string> Api::loaded_jobs(const OpContext& context) {
  json out = call("GET", "jobs/resnames", nullptr, context);
  std::set<std::string> names;
  // {"director-name": ["job", ...]}
  if (out.is_object()) {
    for (const auto& [director, jobs] : out.items()) {
      if (jobs.is_array()) {
        for (const auto& j : jobs) {
          if (j.is_string()) {
            names.insert(j.get<std::string>());
          }
        }
      }
    }
  }
  return names;
}

std::string Api::redact(std::string text) const {
  if (m_settings.token && m_settings.token_is_secret) {
    text = redact_secret(std::move(text), *m_settings.token);
  }
  if (m_settings.client_password) {
    text = redact_secret(std::move(text), *m_settings.client_password);
  }
  return redact_secret(std::move(text), m_settings.password);
}

} // namespace stove::providers::bacularis
