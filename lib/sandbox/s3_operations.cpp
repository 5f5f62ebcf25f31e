// The S3 operations the sandbox serves (s3.hpp), on requests that passed
// authentication. Each runs under S3::m_mutex.

#include "sandbox/s3.hpp"

#include "model/aws_s3_endpoint.hpp"
#include "model/bucket_name.hpp"
#include "providers/s3_xml.hpp"
#include "providers/sigv4.hpp"
#include "sandbox/s3_payload.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <ctime>

namespace stove::sandbox {

namespace sigv4 = providers::sigv4;
namespace s3xml = providers::s3xml;

namespace {

constexpr size_t k_max_tags = 50;
constexpr std::string_view k_home_region = "us-east-1";  // the global endpoint's

const std::string k_malformed_xml =
    "The XML you provided was not well-formed or did not validate against our published schema.";

S3Reply empty_reply(int status) {
  S3Reply reply;
  reply.status = status;
  return reply;
}

std::string iso_time(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", text, ms % 1000);
}

const std::string* query_value(const std::vector<std::pair<std::string, std::string>>& query,
                               std::string_view name) {
  for (const auto& [n, v] : query) {
    if (n == name) {
      return &v;
    }
  }
  return nullptr;
}

bool has(const std::vector<std::pair<std::string, std::string>>& query, std::string_view name) {
  return query_value(query, name) != nullptr;
}

// Whether the query names a subresource; x-id (the SDKs' operation name) is
// none.
bool names_subresource(const std::vector<std::pair<std::string, std::string>>& query) {
  return std::any_of(query.begin(), query.end(), [](const auto& q) { return q.first != "x-id"; });
}

// The subresources the sandbox does not serve.
constexpr std::array<std::string_view, 13> k_unserved = {
    "acl", "policy", "lifecycle", "cors", "website", "logging", "notification",
    "replication", "encryption", "uploads", "versions", "object-lock", "accelerate"};

// The first of k_unserved the query names, or nullptr.
const std::string_view* unserved_subresource(
    const std::vector<std::pair<std::string, std::string>>& query) {
  for (const std::string_view& sub : k_unserved) {
    if (has(query, sub)) {
      return &sub;
    }
  }
  return nullptr;
}

S3::Details bucket_detail(const std::string& name) {
  return {{"BucketName", name}};
}

S3Reply method_not_allowed(std::string_view method, std::string_view resource_type) {
  return S3::error(405, "MethodNotAllowed",
                   "The specified method is not allowed against this resource.",
                   {{"Method", std::string(method)}, {"ResourceType", std::string(resource_type)}});
}

S3Reply no_such_bucket(const std::string& name) {
  return S3::error(404, "NoSuchBucket", "The specified bucket does not exist", bucket_detail(name));
}

// A credential scope whose region is none: refused as the endpoint that
// expected `expected` refuses it.
S3Reply region_malformed(const std::string& region, std::string_view expected) {
  return S3::error(400, "AuthorizationHeaderMalformed",
                   fmt::format("The authorization header is malformed; the region '{}' is wrong; "
                               "expecting '{}'",
                               region, expected),
                   {{"Region", std::string(expected)}});
}

// A request about `bucket` signed for another region: what a path-style
// request at that region's endpoint gets.
S3Reply moved(const S3Request& request, const S3Bucket& bucket) {
  std::string host;
  for (const auto& [n, v] : request.headers) {
    if (n.size() == 4 && std::equal(n.begin(), n.end(), "host", [](char a, char b) {
          return (a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a) == b;
        })) {
      host = v;
    }
  }
  S3Reply reply = S3::error(301, "PermanentRedirect",
                            "The bucket you are attempting to access must be addressed using the "
                            "specified endpoint. Please send all future requests to this "
                            "endpoint.",
                            {{"Bucket", bucket.name}, {"Endpoint", host}});
  reply.headers.emplace_back("x-amz-bucket-region", bucket.region);
  return reply;
}

// The bytes a hex string spells, or nullopt.
std::optional<std::string> from_hex(std::string_view text) {
  if (text.size() % 2 != 0) {
    return std::nullopt;
  }
  std::string out;
  for (size_t i = 0; i < text.size(); i += 2) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + i + 2, value, 16);
    if (ec != std::errc() || end != text.data() + i + 2) {
      return std::nullopt;
    }
    out.push_back(static_cast<char>(value));
  }
  return out;
}

S3Reply integrity_refused(const S3Refusal& r) {
  return S3::error(r.status, r.code, r.message, r.details);
}

} // namespace

S3Reply S3::changed(S3Reply reply) {
  reply.version = ++m_version;
  return reply;
}

// The operations on an existing bucket, in the order dispatch tries them:
// the first whose method ("" any) and matcher (nullptr: any request) fit
// the request serves it.
struct S3::Route {
  std::string_view method;
  bool (*matches)(const Call& call);
  S3Reply (S3::*handle)(const Call& call, S3Bucket& bucket);
};

const S3::Route S3::k_bucket_routes[] = {
    // A key in the bucket: an object, whatever the method.
    {"", [](const Call& call) { return !call.key.empty(); }, &S3::object_operation},
    {"HEAD", nullptr, &S3::head_bucket},
    {"", [](const Call& call) { return has(call.query, "location"); }, &S3::location_operation},
    {"", [](const Call& call) { return has(call.query, "versioning"); },
     &S3::versioning_operation},
    {"", [](const Call& call) { return has(call.query, "tagging"); }, &S3::tagging_operation},
    // Other subresources are not served; plain GET lists the keys.
    {"", [](const Call& call) { return unserved_subresource(call.query) != nullptr; },
     &S3::unserved_operation},
    {"DELETE", nullptr, &S3::delete_bucket},
    {"GET", nullptr, &S3::list_objects},
};

S3Reply S3::dispatch(const Call& call) {
  if (call.name.empty()) {
    return service_operation(call);
  }
  if (!valid_bucket_name(call.name)) {
    return error(400, "InvalidBucketName", "The specified bucket is not valid.",
                 bucket_detail(call.name));
  }
  const std::string& method = call.request.method;
  if (method == "PUT" && call.key.empty() && !names_subresource(call.query)) {
    return create_bucket(call);
  }
  S3Reply refused;
  S3Bucket* bucket = reachable_bucket(call, refused);
  if (bucket == nullptr) {
    return refused;
  }
  for (const Route& route : k_bucket_routes) {
    if ((route.method.empty() || route.method == method) &&
        (route.matches == nullptr || route.matches(call))) {
      return (this->*route.handle)(call, *bucket);
    }
  }
  return method_not_allowed(method, "BUCKET");
}

// The service (no bucket): ListBuckets only.
S3Reply S3::service_operation(const Call& call) const {
  if (call.request.method != "GET") {
    return method_not_allowed(call.request.method, "SERVICE");
  }
  if (!aws_region_shaped(call.region)) {
    return region_malformed(call.region, k_home_region);
  }
  return list_buckets(call);
}

S3Bucket* S3::reachable_bucket(const Call& call, S3Reply& refused) {
  if (call.name.starts_with("foreign-")) {
    refused = error(403, "AccessDenied", "Access Denied");
    return nullptr;
  }
  auto it = m_data.buckets.find(call.name);
  if (it == m_data.buckets.end()) {
    refused = aws_region_shaped(call.region) ? no_such_bucket(call.name)
                                             : region_malformed(call.region, k_home_region);
    return nullptr;
  }
  S3Bucket& bucket = it->second;
  if (call.region != bucket.region) {
    refused = aws_region_shaped(call.region) ? moved(call.request, bucket)
                                             : region_malformed(call.region, bucket.region);
    return nullptr;
  }
  return &bucket;
}

// HeadBucket.
S3Reply S3::head_bucket(const Call&, S3Bucket& bucket) {
  S3Reply reply = empty_reply(200);
  reply.headers.emplace_back("x-amz-bucket-region", bucket.region);
  reply.headers.emplace_back("x-amz-access-point-alias", "false");
  return reply;
}

// GetBucketLocation.
S3Reply S3::location_operation(const Call& call, S3Bucket& bucket) {
  if (call.request.method != "GET") {
    return method_not_allowed(call.request.method, "BUCKET");
  }
  // us-east-1's is empty: <LocationConstraint xmlns="..."/>.
  if (bucket.region == k_home_region) {
    return xml(200, fmt::format("<LocationConstraint xmlns=\"{}\"/>", s3xml::k_namespace));
  }
  return xml(200, fmt::format("<LocationConstraint xmlns=\"{}\">{}</LocationConstraint>",
                              s3xml::k_namespace, bucket.region));
}

S3Reply S3::unserved_operation(const Call& call, S3Bucket&) {
  return error(501, "NotImplemented",
               fmt::format("The sandbox does not serve ?{}", *unserved_subresource(call.query)));
}

// DeleteBucket: BucketNotEmpty while it holds objects.
S3Reply S3::delete_bucket(const Call& call, S3Bucket& bucket) {
  if (!bucket.objects.empty()) {
    return error(409, "BucketNotEmpty", "The bucket you tried to delete is not empty",
                 bucket_detail(call.name));
  }
  m_data.buckets.erase(call.name);
  return changed(empty_reply(204));
}

// ListObjects: the keys only.
S3Reply S3::list_objects(const Call& call, S3Bucket& bucket) {
  std::string contents;
  for (const auto& k : bucket.objects) {
    contents.append(
        fmt::format("<Contents><Key>{}</Key><Size>0</Size></Contents>", s3xml::escape(k)));
  }
  return xml(200, fmt::format("<ListBucketResult xmlns=\"{}\"><Name>{}</Name><KeyCount>{}"
                              "</KeyCount><IsTruncated>false</IsTruncated>{}"
                              "</ListBucketResult>",
                              s3xml::k_namespace, s3xml::escape(call.name), bucket.objects.size(),
                              contents));
}

// ListBuckets. With any of its parameters (prefix, bucket-region,
// max-buckets, continuation-token) each bucket's <BucketRegion> is shown,
// as AWS does; the continuation token is the hex of the last name shown.
S3Reply S3::list_buckets(const Call& call) const {
  const std::string* prefix = query_value(call.query, "prefix");
  const std::string* region = query_value(call.query, "bucket-region");
  const std::string* max_text = query_value(call.query, "max-buckets");
  const std::string* token = query_value(call.query, "continuation-token");
  const bool parameters = prefix != nullptr || region != nullptr || max_text != nullptr ||
                          token != nullptr;
  size_t max = 10000;
  if (max_text != nullptr) {
    auto [end, ec] = std::from_chars(max_text->data(), max_text->data() + max_text->size(), max);
    if (ec != std::errc() || end != max_text->data() + max_text->size() || max < 1 ||
        max > 10000) {
      return error(400, "InvalidArgument", "Argument max-buckets must be an integer between 1 and "
                                           "10000.",
                   {{"ArgumentName", "max-buckets"}, {"ArgumentValue", *max_text}});
    }
  }
  std::string after;
  if (token != nullptr) {
    auto name = from_hex(*token);
    if (!name) {
      return error(400, "InvalidArgument", "The continuation token provided is incorrect",
                   {{"ArgumentName", "continuation-token"}, {"ArgumentValue", *token}});
    }
    after = std::move(*name);
  }
  std::string buckets;
  std::string last;
  size_t shown = 0;
  bool more = false;
  for (const auto& [name, b] : m_data.buckets) {
    if ((token != nullptr && name <= after) || (prefix != nullptr && !name.starts_with(*prefix)) ||
        (region != nullptr && b.region != *region)) {
      continue;
    }
    if (shown == max) {
      more = true;
      break;
    }
    buckets.append(fmt::format("<Bucket><Name>{}</Name><CreationDate>{}</CreationDate>{}</Bucket>",
                               s3xml::escape(name), iso_time(b.created_ms),
                               parameters ? fmt::format("<BucketRegion>{}</BucketRegion>", b.region)
                                          : std::string()));
    last = name;
    ++shown;
  }
  std::string tail;
  if (more) {
    tail.append(fmt::format("<ContinuationToken>{}</ContinuationToken>", sigv4::hex(last)));
  }
  if (prefix != nullptr) {
    tail.append(fmt::format("<Prefix>{}</Prefix>", s3xml::escape(*prefix)));
  }
  return xml(200, fmt::format("<ListAllMyBucketsResult xmlns=\"{}\"><Owner><ID>sandbox</ID>"
                              "<DisplayName>sandbox</DisplayName></Owner><Buckets>{}</Buckets>{}"
                              "</ListAllMyBucketsResult>",
                              s3xml::k_namespace, buckets, tail));
}

// CreateBucket, with the region rules of s3.hpp.
S3Reply S3::create_bucket(const Call& call) {
  const std::string& name = call.name;
  if (!aws_region_shaped(call.region)) {
    return region_malformed(call.region, k_home_region);
  }
  if (name.starts_with("foreign-")) {
    return error(409, "BucketAlreadyExists",
                 "The requested bucket name is not available. The bucket namespace is shared by "
                 "all users of the system. Please select a different name and try again.",
                 bucket_detail(name));
  }
  std::string constraint;
  if (call.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    if (s3xml::elements(call.body, "CreateBucketConfiguration").empty()) {
      return error(400, "MalformedXML", k_malformed_xml);
    }
    constraint = s3xml::text(call.body, "LocationConstraint").value_or("");
  }
  if (!constraint.empty() && (constraint == k_home_region || !aws_region_shaped(constraint))) {
    return error(400, "InvalidLocationConstraint", "The specified location-constraint is not valid",
                 {{"LocationConstraint", constraint}});
  }
  // Only us-east-1's endpoint makes buckets in other regions.
  if (call.region != k_home_region && constraint != call.region) {
    return error(400, "IllegalLocationConstraintException",
                 fmt::format("The {} location constraint is incompatible for the region specific "
                             "endpoint this request was sent to.",
                             constraint.empty() ? "unspecified" : constraint));
  }
  const std::string region = constraint.empty() ? std::string(k_home_region) : constraint;
  if (region != k_home_region && check_bucket_name(name, BucketNameRules::current)) {
    return error(400, "InvalidBucketName", "The specified bucket is not valid.",
                 bucket_detail(name));
  }
  auto it = m_data.buckets.find(name);
  if (it != m_data.buckets.end()) {
    if (it->second.region == k_home_region && region == k_home_region) {
      S3Reply reply = empty_reply(200);  // us-east-1's legacy answer to its owner
      reply.headers.emplace_back("Location", fmt::format("/{}", name));
      return reply;
    }
    return error(409, "BucketAlreadyOwnedByYou",
                 "Your previous request to create the named bucket succeeded and you already "
                 "own it.",
                 bucket_detail(name));
  }
  S3Bucket bucket;
  bucket.name = name;
  bucket.region = region;
  bucket.created_ms = m_clock();
  m_data.buckets.emplace(name, std::move(bucket));
  S3Reply reply = empty_reply(200);
  reply.headers.emplace_back("Location", region == k_home_region
                                             ? fmt::format("/{}", name)
                                             : fmt::format("http://{}.s3.amazonaws.com/", name));
  return changed(std::move(reply));
}

// Objects: only their keys.
S3Reply S3::object_operation(const Call& call, S3Bucket& bucket) {
  const std::string& method = call.request.method;
  if (method == "PUT") {
    if (auto refused = check_integrity(call.request.headers, call.body, Integrity::optional)) {
      return integrity_refused(*refused);
    }
    bucket.objects.insert(call.key);
    S3Reply reply = empty_reply(200);
    reply.headers.emplace_back("ETag", fmt::format("\"{}\"", sigv4::hex(sigv4::md5(call.body))));
    return changed(std::move(reply));
  }
  if (method == "DELETE") {
    bucket.objects.erase(call.key);
    return changed(empty_reply(204));
  }
  return error(501, "NotImplemented",
               "The sandbox keeps only object keys: PUT and DELETE are all it serves for objects.");
}

S3Reply S3::versioning_operation(const Call& call, S3Bucket& bucket) {
  const std::string& method = call.request.method;
  if (method == "GET") {
    if (bucket.versioning.empty()) {
      return xml(200, fmt::format("<VersioningConfiguration xmlns=\"{}\"/>", s3xml::k_namespace));
    }
    return xml(200, fmt::format("<VersioningConfiguration xmlns=\"{}\"><Status>{}</Status>"
                                "</VersioningConfiguration>",
                                s3xml::k_namespace, bucket.versioning));
  }
  if (method != "PUT") {
    return method_not_allowed(method, "BUCKET");
  }
  if (auto refused = check_integrity(call.request.headers, call.body, Integrity::optional)) {
    return integrity_refused(*refused);
  }
  auto status = s3xml::elements(call.body, "VersioningConfiguration").empty()
                    ? std::nullopt
                    : s3xml::text(call.body, "Status");
  if (!status || (*status != "Enabled" && *status != "Suspended")) {
    return error(400, "MalformedXML", k_malformed_xml);
  }
  bucket.versioning = *status;
  return changed(empty_reply(200));
}

S3Reply S3::tagging_operation(const Call& call, S3Bucket& bucket) {
  const std::string& method = call.request.method;
  if (method == "GET") {
    if (bucket.tags.empty()) {
      return error(404, "NoSuchTagSet", "The TagSet does not exist", bucket_detail(bucket.name));
    }
    return xml(200, s3xml::tagging_document(bucket.tags));
  }
  if (method == "DELETE") {
    bucket.tags.clear();
    return changed(empty_reply(204));
  }
  if (method != "PUT") {
    return method_not_allowed(method, "BUCKET");
  }
  if (auto refused = check_integrity(call.request.headers, call.body, Integrity::required)) {
    return integrity_refused(*refused);
  }
  auto tags = s3xml::elements(call.body, "Tagging").empty() ||
                      s3xml::elements(call.body, "TagSet").empty()
                  ? std::nullopt
                  : s3xml::parse_tagging(call.body);
  if (!tags) {
    return error(400, "MalformedXML", k_malformed_xml);
  }
  if (tags->size() > k_max_tags) {
    return error(400, "InvalidTag", "Bucket tag count cannot be greater than 50");
  }
  std::map<std::string, std::string> set;
  for (auto& [k, v] : *tags) {
    if (k.empty() || k.size() > 128 || v.size() > 256) {
      return error(400, "InvalidTag",
                   "The tag key must be 1 to 128 characters and its value at most 256");
    }
    if (k.starts_with("aws:")) {
      return error(400, "InvalidTag", "System tags cannot be added/updated by requester");
    }
    if (!set.emplace(k, v).second) {
      return error(400, "InvalidTag", "Cannot provide multiple Tags with the same key");
    }
  }
  bucket.tags = std::move(set);
  return changed(empty_reply(204));
}

} // namespace stove::sandbox
