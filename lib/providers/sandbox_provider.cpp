#include "providers/sandbox_provider.hpp"

#include "providers/openvcloud.hpp"

#include <utility>

namespace stove::providers {

namespace {

// Cloud spaces and machines through the OpenVCloud adapter, since the
// sandbox speaks the cloudapi's wire format. Backups and buckets get their
// adapters (Bacularis, S3) later.
class SandboxProvider final : public Provider {
public:
  explicit SandboxProvider(std::unique_ptr<Provider> openvcloud)
      : m_openvcloud(std::move(openvcloud)) {}

  KindAdapter* adapter(Kind kind) override {
    switch (kind) {
    case Kind::cloud_space:
    case Kind::machine:
      return m_openvcloud->adapter(kind);
    case Kind::backup:
    case Kind::bucket:
      return nullptr;
    }
    return nullptr;
  }

  http::Stats stats() const override { return m_openvcloud->stats(); }

private:
  std::unique_ptr<Provider> m_openvcloud;
};

} // namespace

std::unique_ptr<Provider> make_sandbox_provider(const ProviderConfig& config,
                                                const ProviderOptions& options) {
  openvcloud::Settings settings;
  settings.provider_name = config.name;
  settings.endpoint = openvcloud::normalise_endpoint(config);
  settings.account_id = k_sandbox_account_id;
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
  return std::make_unique<SandboxProvider>(openvcloud::make(std::move(settings), std::move(http)));
}

} // namespace stove::providers
