#pragma once

// The S3 adapter's request layer (s3.hpp): signed path-style requests, each
// signed for the region of the bucket it is about and sent to that region's
// endpoint, with S3's answers taken apart. Private to the adapter.
//
// Which region a bucket's requests are signed for: the one S3's answers
// have shown (x-amz-bucket-region on any reply, the region an error names),
// else the caller's hint (the spec's region, or the one last observed),
// else the provider's. A request refused because the bucket is elsewhere
// (Reply::region_elsewhere) is sent once more, signed for the bucket's
// region, as AWS's SDKs do (@aws-sdk/middleware-sdk-s3's region redirect,
// botocore's S3RegionRedirector).

#include "providers/provider.hpp"
#include "providers/s3.hpp"
#include "providers/s3_xml.hpp"

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace stove::providers::s3 {

// One request's outcome.
struct Reply {
  long status = 0;
  std::string body;
  std::optional<s3xml::Error> error;  // the S3 error document, if one came
  std::string bucket_region;          // the x-amz-bucket-region header, if any
  std::string signed_for;             // the region the request was signed for
  bool ok() const { return status >= 200 && status < 300; }
  std::string_view code() const { return error ? std::string_view(error->code) : ""; }

  // The region S3 says the bucket is in when it refuses a request for being
  // signed for, or sent to, another region; nullopt otherwise. AWS says so
  // with 301 PermanentRedirect (path-style at another region's endpoint; a
  // HEAD's has no body) and 400 IllegalLocationConstraintException (a
  // bucket in an opt-in region), both carrying x-amz-bucket-region; with a
  // bodiless 400 to a HEAD carrying the header; and with 400
  // AuthorizationHeaderMalformed, whose document names the <Region>.
  std::optional<std::string> region_elsewhere() const;
};

class Api {
public:
  Api(Settings settings, http::ClientOptions options);

  const Settings& settings() const { return m_settings; }
  http::Stats stats() const { return m_client.stats(); }
  const http::RetryPolicy& retry() const { return m_client.options().retry; }

  // The region requests about `bucket` are signed for (see above).
  std::string region_of(const std::string& bucket, std::string_view hint) const;
  // Records where `bucket` is ("" is ignored), or that it is gone.
  void learn_region(const std::string& bucket, const std::string& region);
  void forget_region(const std::string& bucket);

  // METHOD {endpoint}/{bucket}[?subresource], signed for `region` and sent
  // to that region's endpoint (model/aws_s3_endpoint.hpp). An empty bucket
  // is the service itself (ListBuckets). Transport failures throw.
  Reply send(std::string_view method, std::string_view bucket, std::string_view subresource,
             std::string body, http::Headers headers, const OpContext& context,
             const std::string& region, bool idempotent = true);

  // A request about `bucket`, signed for region_of(bucket, hint). An answer
  // that names another region is learnt and the request sent once more,
  // signed for that region. A success's x-amz-bucket-region is learnt too.
  Reply bucket_request(std::string_view method, const std::string& bucket,
                       std::string_view subresource, const std::string& body,
                       const http::Headers& headers, const OpContext& context,
                       std::string_view hint);

  // "PUT bucket logs?tagging: 400 InvalidTag: <S3's message>", with what a
  // credential refusal suggests, and unless !region_note the region S3
  // wants; secrets redacted.
  std::string error_text(std::string_view what, const Reply& reply, bool region_note = true) const;
  [[noreturn]] void fail(std::string_view what, const Reply& reply) const;

private:
  std::string redact(std::string text) const;

  Settings m_settings;
  http::Client m_client;
  mutable std::mutex m_mutex;
  std::map<std::string, std::string> m_regions;  // bucket -> region, as S3 showed it
};

} // namespace stove::providers::s3
