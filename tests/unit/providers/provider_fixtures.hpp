#pragma once

// Shared by the provider tests: a fake environment, provider configs, and
// targets built the way the engine builds them.

#include "providers/provider.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stove::test {

// Unpadded base64url, as JWTs use it.
inline std::string base64url(std::string_view bytes) {
  static constexpr char k_alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (unsigned char c : bytes) {
    bits = (bits << 8) | c;
    count += 8;
    while (count >= 6) {
      count -= 6;
      out.push_back(k_alphabet[(bits >> count) & 0x3f]);
    }
  }
  if (count > 0) {
    out.push_back(k_alphabet[(bits << (6 - count)) & 0x3f]);
  }
  return out;
}

// A JWT shaped as itsyou.online signs them (ES384), with `claims`; the
// signature is filler: neither stove nor the sandbox checks it.
inline std::string jwt(const nlohmann::json& claims) {
  return fmt::format("{}.{}.{}", base64url(R"({"alg":"ES384","typ":"JWT"})"),
                     base64url(claims.dump()), base64url("not a real signature"));
}

// The JWT of itsyou.online user `username` (a user API key's token).
inline std::string user_jwt(const std::string& username) {
  return jwt({{"username", username},
              {"iss", "itsyouonline"},
              {"azp", "stove-client"},
              {"scope", nlohmann::json::array({"user:memberof:gig"})},
              {"exp", 4102444800}});
}

inline providers::Environment fake_environment(std::map<std::string, std::string> variables) {
  return [variables = std::move(variables)](std::string_view name) -> std::optional<std::string> {
    auto it = variables.find(std::string(name));
    if (it == variables.end()) {
      return std::nullopt;
    }
    return it->second;
  };
}

// Fast retries, so that a test that provokes them stays quick.
inline providers::ProviderOptions provider_options(providers::Environment environment) {
  providers::ProviderOptions options;
  options.environment = std::move(environment);
  options.http.retry.base = std::chrono::milliseconds(1);
  options.http.retry.cap = std::chrono::milliseconds(5);
  options.http.retry.max_retry_after = std::chrono::milliseconds(5);
  options.http.request_timeout = std::chrono::milliseconds(5000);
  options.http.seed = 7;
  return options;
}

inline ProviderConfig openvcloud_config(std::string endpoint,
                                        nlohmann::json settings = {
                                            {"account_id", 42}, {"token_env", "STOVE_OVC_TOKEN"}}) {
  ProviderConfig config;
  config.name = "ovc";
  config.type = "openvcloud";
  config.endpoint = std::move(endpoint);
  config.settings = std::move(settings);
  return config;
}

// Collects an operation's notes.
class Notes {
public:
  providers::OpContext context(std::chrono::milliseconds within = std::chrono::seconds(20)) {
    return providers::OpContext{http::Deadline::after(within), [this](std::string_view note) {
                                  std::lock_guard lock(m_mutex);
                                  m_notes.emplace_back(note);
                                }};
  }
  std::vector<std::string> list() const {
    std::lock_guard lock(m_mutex);
    return m_notes;
  }

private:
  mutable std::mutex m_mutex;
  std::vector<std::string> m_notes;
};

inline providers::Target space_target(std::string name, int location_id = 1,
                                      std::string remote_id = {}) {
  providers::Target t;
  t.kind = Kind::cloud_space;
  t.address = fmt::format("cloud_space[{}]", nlohmann::json(name).dump());
  t.remote_id = std::move(remote_id);
  t.spec = {{"name", std::move(name)},
            {"description", ""},
            {"location_id", location_id},
            {"labels", nlohmann::json::object()}};
  return t;
}

inline providers::Target machine_target(std::string space_id, std::string name,
                                        std::string remote_id = {}) {
  providers::Target t;
  t.kind = Kind::machine;
  t.address = fmt::format("cloud_space[\"web\"].machine[{}]", nlohmann::json(name).dump());
  t.remote_id = std::move(remote_id);
  t.spec = {{"name", std::move(name)},
            {"description", "app server"},
            {"image_id", 3},
            {"memory", 2048},
            {"vcpus", 2},
            {"disk_boot_size", 20},
            {"labels", nlohmann::json::object()}};
  providers::Parent parent;
  parent.kind = Kind::cloud_space;
  parent.address = "cloud_space[\"web\"]";
  parent.remote_id = std::move(space_id);
  t.parents.push_back(std::move(parent));
  return t;
}

// The target of an update from `applied` to `wanted`.
inline providers::Target update_of(providers::Target applied, const nlohmann::json& changes,
                                   const nlohmann::json& observed) {
  applied.prior_spec = applied.spec;
  applied.spec.update(changes);
  applied.prior_observed = observed;
  return applied;
}

} // namespace stove::test
