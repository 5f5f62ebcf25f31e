#pragma once

// Starts the sandbox cloud inside stove for the providers whose endpoint is
// `sandbox` or `sandbox:DIR`, so that apply works on a machine with nothing
// else running. Every call still goes through the real adapter over real
// HTTP on loopback.

#include "model/provider.hpp"
#include "providers/provider.hpp"

#include <map>
#include <memory>
#include <string>

namespace stove::sandbox {

class Server;

class Embedded {
public:
  // `default_dir`: where `sandbox` (with no DIR) keeps its data.
  explicit Embedded(std::string default_dir);
  ~Embedded();
  Embedded(const Embedded&) = delete;
  Embedded& operator=(const Embedded&) = delete;

  static bool wants_sandbox(const ProviderConfig& config);

  // For a provider whose endpoint is `sandbox[:DIR]`: starts (once per
  // data directory) a sandbox on an ephemeral loopback port and returns a
  // copy of `config` pointing at it. Others come back unchanged.
  ProviderConfig resolve(const ProviderConfig& config);

  // An environment in which the variables the sandbox providers read their
  // token from hold this run's random token; the rest come from `base`.
  providers::Environment environment(providers::Environment base) const;

private:
  std::string m_default_dir;
  std::string m_token;
  std::map<std::string, std::unique_ptr<Server>> m_servers;  // by data directory
  std::map<std::string, std::string> m_token_variables;      // variable -> token
};

} // namespace stove::sandbox
