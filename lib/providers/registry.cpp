#include "util/error.hpp"
#include "providers/bacularis.hpp"
#include "providers/openvcloud.hpp"
#include "providers/provider.hpp"
#include "providers/s3.hpp"
#include "providers/sandbox_provider.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <utility>

namespace stove::providers {

namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, Factory, std::less<>> factories;
};

Registry& registry() {
  static Registry r;
  return r;
}

} // namespace

std::optional<std::string> setting_string(const ProviderConfig& config, const char* name) {
  auto it = config.settings.find(name);
  if (it == config.settings.end() || !it->is_string() || it->get<std::string>().empty()) {
    return std::nullopt;
  }
  return it->get<std::string>();
}

std::optional<std::string> read_variable(const Environment& environment, const std::string& name) {
  auto value = environment ? environment(name) : std::nullopt;
  if (value && value->empty()) {
    return std::nullopt;
  }
  return value;
}

ActionResult KindAdapter::execute(const Target& target, std::string_view action,
                                  const nlohmann::json& /*params*/, const OpContext& /*context*/) {
  throw ProviderError(
      fmt::format("{}: action \"{}\" is not supported by this provider", target.address, action));
}

std::optional<Remote> KindAdapter::complete(const Target& /*target*/, Remote listed,
                                           const OpContext& /*context*/) {
  return listed;
}

std::optional<std::string> KindAdapter::outside_parent(const Target& /*target*/,
                                                      const Remote& /*remote*/) const {
  return std::nullopt;
}

std::optional<Remote> KindAdapter::remains(const Target& /*target*/,
                                           const OpContext& /*context*/) {
  return std::nullopt;
}

std::string normalise_endpoint(const ProviderConfig& config) {
  std::string endpoint = config.endpoint;
  auto scheme = endpoint.find("://");
  std::string_view prefix = std::string_view(endpoint).substr(0, scheme);
  bool ok = scheme != std::string::npos && (prefix == "http" || prefix == "https") &&
            endpoint.size() > scheme + 3 && endpoint[scheme + 3] != '/';
  if (!ok) {
    if (endpoint == "sandbox" || endpoint.starts_with("sandbox:")) {
      throw Error(ErrorKind::internal,
                  fmt::format("provider \"{}\": the embedded sandbox (endpoint \"{}\") must be "
                              "started before its provider is made",
                              config.name, endpoint));
    }
    throw Error(ErrorKind::input,
                fmt::format("provider \"{}\": endpoint \"{}\" is not an http:// or https:// URL",
                            config.name, http::redact_url(endpoint)));
  }
  while (endpoint.size() > scheme + 3 && endpoint.back() == '/') {
    endpoint.pop_back();
  }
  return endpoint;
}

std::string require_variable(const Environment& environment, const ProviderConfig& config,
                             const std::string& variable, std::string_view holds) {
  auto value = read_variable(environment, variable);
  if (!value) {
    throw Error(ErrorKind::input,
                fmt::format("provider \"{}\": environment variable {} is not set; it holds the {}",
                            config.name, variable, holds));
  }
  return std::move(*value);
}

std::string redact_secret(std::string text, std::string_view secret) {
  if (secret.empty()) {
    return text;
  }
  constexpr std::string_view k_redacted = "<redacted>";
  size_t at = 0;
  while ((at = text.find(secret, at)) != std::string::npos) {
    text.replace(at, secret.size(), k_redacted);
    at += k_redacted.size();
  }
  return text;
}

Environment process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) {
      return std::nullopt;
    }
    return std::string(value);
  };
}

void register_provider_type(std::string type, Factory factory) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  r.factories[std::move(type)] = std::move(factory);
}

void register_builtin_provider_types() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_provider_type("openvcloud", openvcloud::factory);
    register_provider_type("bacularis", bacularis::factory);
    register_provider_type("sandbox", make_sandbox_provider);
    register_provider_type("s3", s3::factory);
  });
}

std::unique_ptr<Provider> make_provider(const ProviderConfig& config,
                                        const ProviderOptions& options) {
  Factory factory;
  std::string known;
  {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    if (auto it = r.factories.find(config.type); it != r.factories.end()) {
      factory = it->second;
    }
    for (const auto& [type, f] : r.factories) {
      known = known.empty() ? type : fmt::format("{}, {}", known, type);
    }
  }
  if (!factory) {
    throw Error(ErrorKind::input,
                fmt::format("provider \"{}\": stove cannot apply provider type \"{}\" ({})",
                            config.name, config.type,
                            known.empty() ? std::string("no provider types are registered")
                                          : fmt::format("types it can apply: {}", known)));
  }
  auto provider = factory(config, options);
  if (!provider) {
    throw Error(ErrorKind::internal,
                fmt::format("provider \"{}\": the factory for type \"{}\" made no provider",
                            config.name, config.type));
  }
  return provider;
}

} // namespace stove::providers
