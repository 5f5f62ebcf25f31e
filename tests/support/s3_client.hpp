#pragma once

// Signed S3 requests of a test's own, made with stove's Signature V4 code
// (lib/providers/sigv4), to look at what an S3 server holds or to put an
// object in a bucket.

#include "http/client.hpp"

#include <set>
#include <string>

namespace stove::test {

class S3Client {
public:
  // `endpoint`: where paths start, e.g. http://127.0.0.1:4568 or
  // {sandbox}/s3. Requests are signed for `region`.
  S3Client(std::string endpoint, std::string access_key, std::string secret_key,
           std::string region = "us-east-1");

  // METHOD {endpoint}{path}, path such as "/bucket/key" or "/bucket?tagging".
  http::Response send(const std::string& method, const std::string& path,
                      const std::string& body = {}, http::Headers headers = {});

  // ListBuckets: the names. Throws std::runtime_error unless it answers 200.
  std::set<std::string> buckets();

private:
  std::string m_endpoint;
  std::string m_access_key;
  std::string m_secret_key;
  std::string m_region;
  http::Client m_client;
};

} // namespace stove::test
