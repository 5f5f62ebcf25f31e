#include "providers/bacularis.hpp"

#include "model/bacula_name.hpp"

#include <fmt/format.h>

namespace stove::providers::bacularis {

bool valid_name(std::string_view name) {
  return !check_bacula_name(name, k_max_name);
}

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
  s.endpoint = normalise_endpoint(config);
  if (auto variable = setting_string(config, "client_password_env")) {
    s.client_password = require_variable(environment, config, *variable,
                                         "file daemons' password (client_password_env)");
  }
  if (auto token_variable = setting_string(config, "token_env")) {
    s.token =
        require_variable(environment, config, *token_variable, "OAuth2 bearer token (token_env)");
    s.credential_hint = fmt::format("check the token in {}", *token_variable);
    return s;
  }
  const std::string user_variable =
      setting_string(config, "username_env").value_or("STOVE_BACULARIS_USER");
  const std::string password_variable =
      setting_string(config, "password_env").value_or("STOVE_BACULARIS_PASSWORD");
  s.username = require_variable(environment, config, user_variable,
                                "Bacularis API user name (username_env), or set token_env for "
                                "an OAuth2 bearer token");
  s.password = require_variable(environment, config, password_variable,
                                "Bacularis API password (password_env)");
  s.credential_hint =
      fmt::format("check the user and password in {} and {}", user_variable, password_variable);
  return s;
}

} // namespace stove::providers::bacularis
