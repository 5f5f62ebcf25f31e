#include "providers/sandbox_provider.hpp"

#include "providers/openvcloud.hpp"
#include "providers/s3.hpp"

#include <utility>

namespace stove::providers {

namespace {

// Cloud spaces and machines through the OpenVCloud adapter, since the
// sandbox speaks the cloudapi's wire format; buckets through the S3 adapter
// against the sandbox's S3 subset under /s3. Backups get their adapter
// (Bacularis) later.
class SandboxProvider final : public Provider {
public:
  SandboxProvider(std::unique_ptr<Provider> openvcloud, std::unique_ptr<Provider> s3)
    : m_openvcloud(std::move(openvcloud)), m_s3(std::move(s3)) {}

  KindAdapter* adapter(Kind kind) override {
    switch (kind) {
    case Kind::cloud_space:
    case Kind::machine: return m_openvcloud->adapter(kind);
    case Kind::bucket: return m_s3->adapter(kind);
    case Kind::backup: return nullptr;
    }
    return nullptr;
  }

  http::Stats stats() const override {
    http::Stats total = m_openvcloud->stats();
    http::Stats s3 = m_s3->stats();
    total.requests += s3.requests;
    total.retries += s3.retries;
    return total;
  }

private:
  std::unique_ptr<Provider> m_openvcloud;
  std::unique_ptr<Provider> m_s3;
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
  settings.token = token && !token->empty() ? std::move(*token)
                                            : std::string(k_sandbox_default_token);
  http::ClientOptions http = options.http;
  http.name = config.name;
  auto buckets =
      s3::make_for_sandbox(settings.endpoint, *settings.token, settings.token_variable, http);
  return std::make_unique<SandboxProvider>(openvcloud::make(std::move(settings), std::move(http)),
                                           std::move(buckets));
}

} // namespace stove::providers
