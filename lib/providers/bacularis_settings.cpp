#include "providers/bacularis.hpp"

#include "model/bacula_name.hpp"
#include "model/error.hpp"

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

} // namespace stove::providers::bacularis
