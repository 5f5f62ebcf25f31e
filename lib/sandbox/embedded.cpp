#include "sandbox/embedded.hpp"

#include "sandbox/server.hpp"
#include "state/statefile.hpp"

#include <filesystem>

namespace stove::sandbox {

Embedded::Embedded(std::string default_dir)
  : m_default_dir(std::move(default_dir)), m_token(new_uuid()) {}

Embedded::~Embedded() = default;

bool Embedded::wants_sandbox(const ProviderConfig& config) {
  return config.endpoint == "sandbox" || config.endpoint.rfind("sandbox:", 0) == 0;
}

ProviderConfig Embedded::resolve(const ProviderConfig& config) {
  if (!wants_sandbox(config)) {
    return config;
  }
  std::string dir = config.endpoint == "sandbox" ? m_default_dir : config.endpoint.substr(8);
  std::error_code ec;
  std::string key = std::filesystem::weakly_canonical(dir, ec).string();
  if (ec || key.empty()) {
    key = dir;
  }
  auto it = m_servers.find(key);
  if (it == m_servers.end()) {
    Options options;
    options.data_dir = dir;
    options.token = m_token;
    options.threads = 64;
    auto server = std::make_unique<Server>(options);
    server->start();
    it = m_servers.emplace(key, std::move(server)).first;
  }
  ProviderConfig resolved = config;
  resolved.endpoint = it->second->url();
  if (config.type == "sandbox") {
    m_token_variables["STOVE_SANDBOX_TOKEN"] = m_token;
  } else {
    auto var = config.settings.find("token_env");
    m_token_variables[var != config.settings.end() && var->is_string() ? var->get<std::string>()
                                                                      : "STOVE_OVC_TOKEN"] =
        m_token;
  }
  return resolved;
}

providers::Environment Embedded::environment(providers::Environment base) const {
  auto variables = m_token_variables;
  return [variables, base = std::move(base)](std::string_view name) -> std::optional<std::string> {
    auto it = variables.find(std::string(name));
    if (it != variables.end()) {
      return it->second;
    }
    return base ? base(name) : std::nullopt;
  };
}

} // namespace stove::sandbox
