// Bacularis' config/dir endpoints: the director's resources read,
// created, replaced and deleted as Bacularis 3.2+ (and, on /api/v2/, an
// older one) does, each write checked as bdirjson -t checks the file.

#include "sandbox/bacularis.hpp"

#include "sandbox/bacularis_reply.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <optional>
#include <utility>

namespace stove::sandbox {

using nlohmann::json;

namespace {

// The client version of an X-Baculum-API header: 0 when absent.
double client_version_of(const std::string& header) {
  return header.empty() ? 0.0 : std::strtod(header.c_str(), nullptr);
}

// Reads the directives of a POST or PUT body ({"config": "<the
// directives, as JSON text>"}) into `directives`; the reply refusing the
// body, if it is refused.
std::optional<Reply> read_directives(std::string_view method, const std::string& client_version,
                                     const std::string& body, json& directives) {
  json params = json::parse(body, nullptr, false);
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
  return std::nullopt;
}

// The resource a POST or PUT writes: at `type` (as the path spells it;
// `canonical` as bdirjson does) `name`, which the directives name
// `new_name`.
struct Target {
  const std::string& canonical;
  const std::string& type;
  const std::string& name;
  const std::string& new_name;
};

// Puts `directives` into `config` at `target`, as Bacularis writes them
// and bdirjson -t checks the file; `exists`: whether a resource of the
// canonical type is already named so. Throws bacula::ConfigError and
// bacula::InternalError.
void put_resource(bacula::Resources& config, const Target& target, bool exists,
                  const json& directives) {
  const auto& [canonical, type, name, new_name] = target;
  json resource = bacula::read_resource(canonical, directives);
  // Bacularis matches the resource to replace by its type as bdirjson
  // spells it; with another spelling, it adds the resource again.
  const bool replaces = exists && canonical == type;
  if (exists && !replaces) {
    throw bacula::ConfigError(
        fmt::format("Attempt to define second \"{}\" resource named \"{}\" is not permitted.",
                    canonical, name));
  }
  if (replaces && new_name != name) {
    config[canonical].erase(name);
    bacula::rename_references(config, canonical, name, new_name);
  } else if (!replaces && bacula::find_resource(config, canonical, new_name) != nullptr) {
    throw bacula::ConfigError(
        fmt::format("Attempt to define second \"{}\" resource named \"{}\" is not permitted.",
                    canonical, new_name));
  }
  config[canonical][new_name] = std::move(resource);
  bacula::check_config(config);
}

} // namespace

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
    const json* existing = canonical ? bacula::find_resource(m_config, *canonical, name) : nullptr;
    return answer(0, existing == nullptr ? json::array() : *existing);
  }
  if (method == "DELETE") {
    if (version < 3) {
      return internal_error("Method or property Bacularis\\API\\Pages\\API\\ConfigV2::remove "
                            "is not defined.");
    }
    // Bacularis finds the resource to delete by the type as bdirjson spells it.
    if (!canonical || *canonical != type ||
        bacula::find_resource(m_config, type, name) == nullptr) {
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
  json directives = json::object();
  if (auto refused = read_directives(method, client_version, body, directives)) {
    return *refused;
  }
  auto given_name = directives.find("Name");
  if (given_name == directives.end() || !given_name->is_string()) {
    return internal_error("Undefined array key \"Name\"");
  }
  const std::string new_name = given_name->get<std::string>();
  const std::optional<std::string> canonical = bacula::canonical_type(type);
  const json* existing = canonical ? bacula::find_resource(m_config, *canonical, name) : nullptr;
  if (method == "POST" && existing != nullptr) {
    return answer(k_already_exists,
                  fmt::format("Config already exists.{}", resource_text(type, name)));
  }
  if (method == "PUT" && version >= 3) {
    if (existing == nullptr) {
      return answer(k_does_not_exist,
                    fmt::format("Config does not exist.{}", resource_text(type, name)));
    }
    if (new_name != name && bacula::find_resource(m_config, *canonical, new_name) != nullptr) {
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
    put_resource(config, {*canonical, type, name, new_name}, existing != nullptr, directives);
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
