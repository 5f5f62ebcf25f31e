#include "providers/sandbox_provider.hpp"

#include "providers/bacularis.hpp"
#include "providers/openvcloud.hpp"
#include "providers/s3.hpp"

#include <fmt/format.h>

#include <utility>

namespace stove::providers {

namespace {

// Cloud spaces and machines through the OpenVCloud adapter, since the
// sandbox speaks the cloudapi's wire format; backups through the Bacularis
// adapter (its /api/v2/ subset, the sandbox token as bearer); buckets
// through the S3 adapter against the sandbox's S3 subset under /s3.
class SandboxProvider final : public Provider {
public:
  SandboxProvider(std::unique_ptr<Provider> openvcloud, std::unique_ptr<Provider> bacularis,
                  std::unique_ptr<Provider> s3)
    : m_openvcloud(std::move(openvcloud)), m_bacularis(std::move(bacularis)),
      m_s3(std::move(s3)) {}

  KindAdapter* adapter(Kind kind) override {
    switch (kind) {
    case Kind::cloud_space:
    case Kind::machine: return m_openvcloud->adapter(kind);
    case Kind::backup: return m_bacularis->adapter(kind);
    case Kind::bucket: return m_s3->adapter(kind);
    }
    return nullptr;
  }

  http::Stats stats() const override {
    http::Stats total = m_openvcloud->stats();
    const http::Stats backups = m_bacularis->stats();
    total.requests += backups.requests;
    total.retries += backups.retries;
    http::Stats s3 = m_s3->stats();
    total.requests += s3.requests;
    total.retries += s3.retries;
    return total;
  }

private:
  std::unique_ptr<Provider> m_openvcloud;
  std::unique_ptr<Provider> m_bacularis;
  std::unique_ptr<Provider> m_s3;
};

} // namespace

std::unique_ptr<Provider> make_sandbox_provider(const ProviderConfig& config,
                                                const ProviderOptions& options) {
  openvcloud::Settings settings;
  settings.provider_name = config.name;
  settings.endpoint = normalise_endpoint(config);
  settings.account_id = k_sandbox_account_id;
  settings.access = std::string(k_sandbox_access);
  settings.token_variable = std::string(k_sandbox_token_variable);
  std::optional<std::string> token;
  if (options.environment) {
    token = options.environment(k_sandbox_token_variable);
  }
  if (token && !token->empty()) {
    settings.token = std::move(*token);
  } else {
    // Well known, and a word that appears in messages: not a secret.
    settings.token = std::string(k_sandbox_default_token);
    settings.token_is_secret = false;
  }
  http::ClientOptions http = options.http;
  http.name = config.name;
  bacularis::Settings backups;
  backups.provider_name = config.name;
  backups.endpoint = settings.endpoint;
  backups.token = settings.token;
  backups.token_is_secret = settings.token_is_secret;
  backups.credential_hint = fmt::format("check the token in {}", k_sandbox_token_variable);
  // The director requires a Client password; the sandbox's file daemons
  // take any, so a well-known one will do.
  backups.client_password = std::string(k_sandbox_client_password);
  auto bacularis_provider = bacularis::make(std::move(backups), http);
  auto buckets =
      s3::make_for_sandbox(settings.endpoint, *settings.token, settings.token_variable, http);
  return std::make_unique<SandboxProvider>(openvcloud::make(std::move(settings), std::move(http)),
                                           std::move(bacularis_provider), std::move(buckets));
}

} // namespace stove::providers
