#include "support/s3_client.hpp"

#include "providers/s3_xml.hpp"
#include "providers/sigv4.hpp"

#include <fmt/format.h>

#include <chrono>
#include <stdexcept>

namespace stove::test {

namespace {

http::ClientOptions options() {
  http::ClientOptions o;
  o.name = "test";
  o.retry.max_attempts = 1;
  return o;
}

} // namespace

S3Client::S3Client(std::string endpoint, std::string access_key, std::string secret_key,
                   std::string region)
    : m_endpoint(std::move(endpoint)), m_access_key(std::move(access_key)),
      m_secret_key(std::move(secret_key)), m_region(std::move(region)), m_client(options()) {}

http::Response S3Client::send(const std::string& method, const std::string& path,
                              const std::string& body, http::Headers headers) {
  http::Request request;
  request.method = method;
  request.url = fmt::format("{}{}", m_endpoint, path);
  request.body = body;
  request.headers = std::move(headers);
  providers::sigv4::sign_request(request, {m_access_key, m_secret_key, ""}, m_region, "s3",
                                 std::chrono::system_clock::now());
  return m_client.send(request);
}

std::set<std::string> S3Client::buckets() {
  http::Response reply = send("GET", "/");
  if (reply.status != 200) {
    throw std::runtime_error(fmt::format("ListBuckets: {} {}", reply.status, reply.body));
  }
  std::set<std::string> names;
  for (std::string_view bucket : providers::s3xml::elements(reply.body, "Bucket")) {
    if (auto name = providers::s3xml::text(bucket, "Name")) {
      names.insert(*name);
    }
  }
  return names;
}

} // namespace stove::test
