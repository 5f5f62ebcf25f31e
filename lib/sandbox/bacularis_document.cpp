#include "sandbox/bacularis_document.hpp"

#include "sandbox/bacularis.hpp"

#include <fmt/format.h>

#include <stdexcept>
#include <string_view>

namespace stove::sandbox {

using nlohmann::json;

namespace {

constexpr std::string_view k_document_format = "stove-sandbox-bacula";
constexpr int k_document_version = 2;

} // namespace

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

} // namespace stove::sandbox
