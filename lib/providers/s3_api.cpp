#include "providers/s3_api.hpp"

#include "model/aws_s3_endpoint.hpp"
#include "providers/sigv4.hpp"

#include <fmt/format.h>

#include <chrono>
#include <utility>

namespace stove::providers::s3 {

namespace {

} // namespace

std::optional<std::string> Reply::region_elsewhere() const {
  std::string region;
  if (status == 301 || status == 400) {
    region = bucket_region;
  }
  if (region.empty() && status == 400 && code() == "AuthorizationHeaderMalformed") {
    region = error->region;
  }
  if (region.empty() || region == signed_for) {
    return std::nullopt;
  }
  return region;
}

Api::Api(Settings settings, http::ClientOptions options)
  : m_settings(std::move(settings)), m_client(std::move(options)) {
  m_client.add_secret(m_settings.credentials.secret_key);
  if (!m_settings.credentials.session_token.empty()) {
    m_client.add_secret(m_settings.credentials.session_token);
  }
}

std::string Api::region_of(const std::string& bucket, std::string_view hint) const {
  std::lock_guard lock(m_mutex);
  if (auto it = m_regions.find(bucket); it != m_regions.end()) {
    return it->second;
  }
  return hint.empty() ? m_settings.region : std::string(hint);
}

void Api::learn_region(const std::string& bucket, const std::string& region) {
  if (region.empty()) {
    return;
  }
  std::lock_guard lock(m_mutex);
  m_regions[bucket] = region;
}

void Api::forget_region(const std::string& bucket) {
  std::lock_guard lock(m_mutex);
  m_regions.erase(bucket);
}

Reply Api::send(std::string_view method, std::string_view bucket, std::string_view subresource,
                std::string body, http::Headers headers, const OpContext& context,
                const std::string& region, bool idempotent) {
  http::Request request;
  request.method = std::string(method);
  request.url = fmt::format("{}/{}{}{}", aws_s3_endpoint_for_region(m_settings.endpoint, region),
                            sigv4::uri_encode(bucket, false), subresource.empty() ? "" : "?",
                            subresource);
  request.headers = std::move(headers);
  if (!body.empty()) {
    request.headers.emplace_back("Content-Type", "application/xml");
  }
  request.body = std::move(body);
  request.idempotent = idempotent;
  sigv4::sign_request(request, m_settings.credentials, region, "s3",
                      std::chrono::system_clock::now());
  http::Response response = m_client.send(request, context.deadline);
  Reply reply;
  reply.status = response.status;
  reply.body = std::move(response.body);
  reply.bucket_region = response.header("x-amz-bucket-region").value_or("");
  reply.signed_for = region;
  if (!reply.ok()) {
    reply.error = s3xml::parse_error(reply.body);
  }
  return reply;
}

Reply Api::bucket_request(std::string_view method, const std::string& bucket,
                          std::string_view subresource, const std::string& body,
                          const http::Headers& headers, const OpContext& context,
                          std::string_view hint) {
  Reply reply = send(method, bucket, subresource, body, headers, context, region_of(bucket, hint));
  if (auto elsewhere = reply.region_elsewhere()) {
    learn_region(bucket, *elsewhere);
    reply = send(method, bucket, subresource, body, headers, context, *elsewhere);
  }
  if (reply.ok()) {
    learn_region(bucket, reply.bucket_region);
  }
  return reply;
}

std::string Api::error_text(std::string_view what, const Reply& reply, bool region_note) const {
  std::string text;
  if (reply.error) {
    text = fmt::format("{}: {} {}", what, reply.status, reply.error->code);
    if (!reply.error->message.empty()) {
      text = fmt::format("{}: {}", text, reply.error->message);
    }
  } else {
    std::string_view reason = http::reason_phrase(reply.status);
    text = reason.empty() ? fmt::format("{}: {}", what, reply.status)
                          : fmt::format("{}: {} {}", what, reply.status, reason);
  }
  const std::string hint = m_settings.credential_hint.empty()
                               ? fmt::format("check the keys in {} and {}",
                                             m_settings.access_key_variable,
                                             m_settings.secret_key_variable)
                               : m_settings.credential_hint;
  if (reply.status == 403 &&
      (reply.code() == "SignatureDoesNotMatch" || reply.code() == "InvalidAccessKeyId")) {
    text = fmt::format("{} ({})", text, hint);
  } else if (reply.status == 403 && !reply.error) {
    text = fmt::format("{} (the bucket may be another account's; else {})", text, hint);
  } else if (auto elsewhere = reply.region_elsewhere(); elsewhere && region_note) {
    text = fmt::format("{} (signed for {}; the server wants {})", text, reply.signed_for,
                       *elsewhere);
  }
  return redact(std::move(text));
}

void Api::fail(std::string_view what, const Reply& reply) const {
  throw ProviderError(error_text(what, reply), reply.status);
}

std::string Api::redact(std::string text) const {
  text = redact_secret(std::move(text), m_settings.credentials.secret_key);
  if (!m_settings.credentials.session_token.empty()) {
    text = redact_secret(std::move(text), m_settings.credentials.session_token);
  }
  return text;
}

} // namespace stove::providers::s3
