#include "sandbox/s3.hpp"

#include "model/bucket_name.hpp"
#include "model/error.hpp"
#include "providers/s3_xml.hpp"
#include "providers/sigv4.hpp"
#include "sandbox/admin.hpp"
#include "state/atomic_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace stove::sandbox {

using nlohmann::json;
namespace sigv4 = providers::sigv4;
namespace s3xml = providers::s3xml;

namespace {

constexpr std::string_view k_access_key = "sandbox";
constexpr int64_t k_max_skew_ms = 15 * 60 * 1000;
constexpr size_t k_max_tags = 50;

int64_t system_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

const std::string* header(const S3Request& request, std::string_view name) {
  for (const auto& [n, v] : request.headers) {
    if (iequals(n, name)) {
      return &v;
    }
  }
  return nullptr;
}

std::string iso_time(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", text, ms % 1000);
}

// "20150830T123600Z" in Unix milliseconds, or nullopt.
std::optional<int64_t> parse_amz_date(std::string_view text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') {
    return std::nullopt;
  }
  std::tm tm{};
  auto number = [&](size_t at, size_t n) -> std::optional<int> {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (text[i] < '0' || text[i] > '9') {
        return std::nullopt;
      }
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  auto year = number(0, 4);
  auto month = number(4, 2);
  auto day = number(6, 2);
  auto hour = number(9, 2);
  auto minute = number(11, 2);
  auto second = number(13, 2);
  if (!year || !month || !day || !hour || !minute || !second) {
    return std::nullopt;
  }
  tm.tm_year = *year - 1900;
  tm.tm_mon = *month - 1;
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

S3Reply xml_reply(int status, std::string body) {
  S3Reply reply;
  reply.status = status;
  reply.body = fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}", body);
  reply.headers.emplace_back("Content-Type", "application/xml");
  return reply;
}

S3Reply empty_reply(int status) {
  S3Reply reply;
  reply.status = status;
  return reply;
}

bool is_lower_or_digit(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// S3's rules for new buckets.
bool valid_region(std::string_view region) {
  return !region.empty() && region.size() <= 32 &&
         std::all_of(region.begin(), region.end(),
                     [](char c) { return is_lower_or_digit(c) || c == '-'; });
}

bool has(const std::vector<std::pair<std::string, std::string>>& query, std::string_view name) {
  return std::any_of(query.begin(), query.end(), [&](const auto& q) { return q.first == name; });
}

// Whether `value` looks like base64 of 16 bytes.
bool md5_shaped(std::string_view value) {
  if (value.size() != 24 || !value.ends_with("==")) {
    return false;
  }
  return std::all_of(value.begin(), value.end() - 2, [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/';
  });
}

} // namespace

json to_document(const S3Data& data) {
  json buckets = json::array();
  for (const auto& [name, b] : data.buckets) {
    json tags = json::object();
    for (const auto& [k, v] : b.tags) {
      tags[k] = v;
    }
    buckets.push_back({{"name", b.name},
                       {"region", b.region},
                       {"versioning", b.versioning},
                       {"tags", tags},
                       {"objects", b.objects},
                       {"created_ms", b.created_ms}});
  }
  return {{"format", "stove-sandbox-s3"}, {"version", 1}, {"buckets", buckets}};
}

S3Data s3_from_document(const json& document) {
  if (!document.is_object() || document.value("format", "") != "stove-sandbox-s3") {
    throw std::runtime_error("not a stove sandbox S3 document");
  }
  S3Data data;
  for (const auto& b : document.at("buckets")) {
    S3Bucket bucket;
    bucket.name = b.at("name").get<std::string>();
    bucket.region = b.at("region").get<std::string>();
    bucket.versioning = b.value("versioning", "");
    const json tags = b.value("tags", json::object());
    for (const auto& [k, v] : tags.items()) {
      bucket.tags[k] = v.get<std::string>();
    }
    const json objects = b.value("objects", json::array());
    for (const auto& key : objects) {
      bucket.objects.insert(key.get<std::string>());
    }
    bucket.created_ms = b.value("created_ms", int64_t{0});
    std::string name = bucket.name;
    data.buckets.emplace(std::move(name), std::move(bucket));
  }
  return data;
}

S3::S3(std::string prefix, std::string secret_key, Clock clock)
    : m_prefix(std::move(prefix)), m_secret(std::move(secret_key)),
      m_clock(clock ? std::move(clock) : Clock(system_now_ms)) {}

bool S3::owns(std::string_view path) const {
  return path == m_prefix ||
         (path.starts_with(m_prefix) && path.size() > m_prefix.size() && path[m_prefix.size()] == '/');
}

void S3::load(S3Data data) {
  std::lock_guard lock(m_mutex);
  m_data = std::move(data);
}

bool S3::is_mutating(std::string_view method) {
  return method == "PUT" || method == "DELETE" || method == "POST";
}

bool S3::valid_bucket_name(std::string_view name) {
  // The legacy us-east-1 rules, which take every current name too.
  return !check_bucket_name(name, BucketNameRules::legacy);
}

S3Reply S3::error(int status, std::string_view code, std::string_view message,
                  std::string_view resource) {
  std::string extra;
  if (!resource.empty()) {
    extra = fmt::format("<Resource>{}</Resource>", s3xml::escape(resource));
  }
  return xml_reply(status, fmt::format("<Error><Code>{}</Code><Message>{}</Message>{}</Error>",
                                       code, s3xml::escape(message), extra));
}

S3::Snapshot S3::snapshot() const {
  std::lock_guard lock(m_mutex);
  return Snapshot{m_version, m_data};
}

Committer::Snapshot S3::snapshot_document() const {
  Snapshot s = snapshot();
  return Committer::Snapshot{s.version, fmt::format("{}\n", to_document(s.data).dump(1))};
}

void S3::load_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    write_file_atomically(path, fmt::format("{}\n", to_document(S3Data{}).dump(1)));
    return;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) {
    text << in.rdbuf();
  }
  if (!in || in.bad()) {
    throw Error(ErrorKind::io, fmt::format("{}: cannot read", path));
  }
  try {
    load(s3_from_document(json::parse(text.str())));
  } catch (const std::exception& e) {
    throw Error(ErrorKind::io,
                fmt::format("{}: not a readable sandbox S3 store: {}", path, e.what()));
  }
}

namespace {

json admin_bucket_json(const S3Bucket& b) {
  return {{"name", b.name},
          {"region", b.region},
          {"versioning", b.versioning},
          {"tags", b.tags},
          {"objects", b.objects}};
}

} // namespace

Reply S3::admin_update_bucket(const std::string& name, const json& attributes) {
  try {
    admin::Attributes a(attributes, "bucket", {"versioning", "tags"});
    auto versioning = a.choice("versioning", {"Enabled", "Suspended"});
    std::optional<std::map<std::string, std::string>> tags;
    if (const json* given = a.raw("tags")) {
      if (!given->is_object()) {
        admin::refuse(400, fmt::format("attribute \"tags\" must be an object of strings, not {}",
                                       given->dump()));
      }
      tags.emplace();
      for (const auto& [key, value] : given->items()) {
        if (!value.is_string() || key.empty()) {
          admin::refuse(400, fmt::format("tag {} must be a string with a non-empty key, not {}",
                                         json(key).dump(), value.dump()));
        }
        tags->emplace(key, value.get<std::string>());
      }
    }
    std::lock_guard lock(m_mutex);
    auto found = m_data.buckets.find(name);
    if (found == m_data.buckets.end()) {
      admin::refuse(404, fmt::format("bucket \"{}\" not found", name));
    }
    S3Bucket& b = found->second;
    bool same = (!versioning || *versioning == b.versioning) && (!tags || *tags == b.tags);
    if (same) {
      return {200, admin_bucket_json(b)};
    }
    b.versioning = versioning.value_or(b.versioning);
    if (tags) {
      b.tags = std::move(*tags);
    }
    return {200, admin_bucket_json(b), ++m_version};
  } catch (const admin::Refused& e) {
    return admin::error(e.status(), e.what());
  }
}

Reply S3::admin_delete_bucket(const std::string& name) {
  std::lock_guard lock(m_mutex);
  auto found = m_data.buckets.find(name);
  if (found == m_data.buckets.end()) {
    return admin::error(404, fmt::format("bucket \"{}\" not found", name));
  }
  json body = {{"deleted", {{"buckets", json::array({name})}, {"objects", found->second.objects}}}};
  m_data.buckets.erase(found);
  return {200, std::move(body), ++m_version};
}

uint64_t S3::version() const {
  std::lock_guard lock(m_mutex);
  return m_version;
}

S3Reply S3::handle(const S3Request& request) {
  std::string_view target = request.target;
  size_t question = target.find('?');
  auto path = sigv4::percent_decode(target.substr(0, question));
  auto query = question == std::string_view::npos ? std::optional<sigv4::Query>(sigv4::Query{})
                                                  : sigv4::parse_query(target.substr(question + 1));
  S3Reply reply;
  if (!path || !query) {
    reply = error(400, "InvalidURI", "Couldn't parse the specified URI.", request.target);
  } else {
    reply = authenticate(request, *path);
    if (reply.status == 200) {
      reply = dispatch(request, *path, *query);
    }
  }
  std::lock_guard lock(m_mutex);
  reply.headers.emplace_back("x-amz-request-id", fmt::format("{:016X}", ++m_requests));
  return reply;
}

// Signature V4 in the Authorization header: S3's checks, in S3's order.
S3Reply S3::authenticate(const S3Request& request, std::string_view path) const {
  const std::string* authorization = header(request, "Authorization");
  if (authorization == nullptr) {
    return error(403, "AccessDenied", "Anonymous access is forbidden for this operation");
  }
  auto auth = sigv4::parse_authorization(*authorization);
  if (!auth) {
    return error(400, "AuthorizationHeaderMalformed",
                 "The authorization header is malformed; it must be AWS4-HMAC-SHA256 "
                 "Credential=KEY/DATE/REGION/s3/aws4_request, SignedHeaders=..., Signature=...");
  }
  if (auth->access_key != k_access_key) {
    return error(403, "InvalidAccessKeyId",
                 "The AWS Access Key Id you provided does not exist in our records.");
  }
  if (auth->service != "s3") {
    return error(400, "AuthorizationHeaderMalformed",
                 fmt::format("The authorization header is malformed; incorrect service \"{}\". "
                             "This endpoint belongs to \"s3\".",
                             auth->service));
  }
  const std::string* date = header(request, "x-amz-date");
  auto at = date != nullptr ? parse_amz_date(*date) : std::nullopt;
  if (!at) {
    return error(403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
  }
  if (date->substr(0, 8) != auth->date) {
    return error(400, "AuthorizationHeaderMalformed",
                 fmt::format("The authorization header is malformed; Invalid credential date. "
                             "Date is not the same as X-Amz-Date: {}.",
                             auth->date));
  }
  if (std::abs(m_clock() - *at) > k_max_skew_ms) {
    return error(403, "RequestTimeTooSkewed",
                 "The difference between the request time and the current time is too large.");
  }
  const std::string* content = header(request, "x-amz-content-sha256");
  if (content == nullptr) {
    return error(400, "InvalidRequest",
                 "Missing required header for this request: x-amz-content-sha256");
  }
  if (*content != "UNSIGNED-PAYLOAD" && *content != sigv4::sha256_hex(request.body)) {
    return error(400, "XAmzContentSHA256Mismatch",
                 "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  for (const char* required : {"host", "x-amz-date"}) {
    if (std::find(auth->signed_headers.begin(), auth->signed_headers.end(), required) ==
        auth->signed_headers.end()) {
      return error(400, "AuthorizationHeaderMalformed",
                   fmt::format("The authorization header is malformed; {} must be signed.",
                               required));
    }
  }
  // The canonical request as the client must have built it, from the
  // request as received.
  sigv4::CanonicalInput input;
  input.method = request.method;
  input.path = std::string(path);
  size_t question = request.target.find('?');
  if (question != std::string::npos) {
    input.query = sigv4::parse_query(std::string_view(request.target).substr(question + 1))
                      .value_or(sigv4::Query{});
  }
  for (const std::string& name : auth->signed_headers) {
    bool found = false;
    for (const auto& [n, v] : request.headers) {
      if (iequals(n, name)) {
        input.headers.emplace_back(name, v);
        found = true;
      }
    }
    if (!found) {
      return error(403, "SignatureDoesNotMatch",
                   fmt::format("The request signature we calculated does not match the signature "
                               "you provided: signed header {} is missing.",
                               name));
    }
  }
  input.payload_hash = *content;
  sigv4::Credentials credentials{std::string(k_access_key), m_secret, ""};
  auto expected = sigv4::sign(input, credentials, *date, auth->region, "s3");
  if (!sigv4::constant_time_equal(expected.signature, auth->signature)) {
    return error(403, "SignatureDoesNotMatch",
                 "The request signature we calculated does not match the signature you provided. "
                 "Check your key and signing method.");
  }
  return empty_reply(200);
}

S3Reply S3::dispatch(const S3Request& request, const std::string& path,
                     const std::vector<std::pair<std::string, std::string>>& query) {
  const std::string& method = request.method;
  std::string_view rest = std::string_view(path).substr(m_prefix.size());
  if (!rest.empty() && rest.front() == '/') {
    rest.remove_prefix(1);
  }
  std::lock_guard lock(m_mutex);
  auto changed = [&](S3Reply reply) {
    reply.version = ++m_version;
    return reply;
  };

  // The service: ListBuckets.
  if (rest.empty()) {
    if (method != "GET") {
      return error(405, "MethodNotAllowed",
                   "The specified method is not allowed against this resource.", "/");
    }
    std::string buckets;
    for (const auto& [name, b] : m_data.buckets) {
      buckets.append(fmt::format("<Bucket><Name>{}</Name><CreationDate>{}</CreationDate></Bucket>",
                                 s3xml::escape(name), iso_time(b.created_ms)));
    }
    return xml_reply(200, fmt::format("<ListAllMyBucketsResult xmlns=\"{}\"><Owner><ID>sandbox</ID>"
                                      "<DisplayName>sandbox</DisplayName></Owner><Buckets>{}"
                                      "</Buckets></ListAllMyBucketsResult>",
                                      s3xml::k_namespace, buckets));
  }

  size_t slash = rest.find('/');
  const std::string name(rest.substr(0, slash));
  std::string key = slash == std::string_view::npos ? std::string() : std::string(rest.substr(slash + 1));
  const std::string resource = fmt::format("/{}", name);
  auto no_such_bucket = [&] {
    return method == "HEAD" ? empty_reply(404)
                            : error(404, "NoSuchBucket", "The specified bucket does not exist",
                                    resource);
  };

  if (!valid_bucket_name(name)) {
    return method == "HEAD" ? empty_reply(400)
                            : error(400, "InvalidBucketName",
                                    "The specified bucket is not valid.", resource);
  }
  const bool foreign = name.starts_with("foreign-");
  auto it = m_data.buckets.find(name);

  // Objects: only their keys.
  if (!key.empty()) {
    if (foreign) {
      return error(403, "AccessDenied", "Access Denied", resource);
    }
    if (it == m_data.buckets.end()) {
      return no_such_bucket();
    }
    if (method == "PUT") {
      it->second.objects.insert(key);
      S3Reply reply = empty_reply(200);
      reply.headers.emplace_back("ETag", fmt::format("\"{}\"", sigv4::hex(sigv4::md5(request.body))));
      return changed(std::move(reply));
    }
    if (method == "DELETE") {
      it->second.objects.erase(key);
      return changed(empty_reply(204));
    }
    return error(501, "NotImplemented",
                 "The sandbox keeps only object keys: PUT and DELETE are all it serves for objects.",
                 fmt::format("{}/{}", resource, key));
  }

  // Create.
  if (method == "PUT" && query.empty()) {
    if (foreign) {
      return error(409, "BucketAlreadyExists",
                   "The requested bucket name is not available. The bucket namespace is shared by "
                   "all users of the system. Please select a different name and try again.",
                   resource);
    }
    if (it != m_data.buckets.end()) {
      return error(409, "BucketAlreadyOwnedByYou",
                   "Your previous request to create the named bucket succeeded and you already "
                   "own it.",
                   resource);
    }
    std::string region = "us-east-1";
    if (request.body.find_first_not_of(" \t\r\n") != std::string::npos) {
      if (s3xml::elements(request.body, "CreateBucketConfiguration").empty()) {
        return error(400, "MalformedXML",
                     "The XML you provided was not well-formed or did not validate against our "
                     "published schema.",
                     resource);
      }
      std::string constraint = s3xml::text(request.body, "LocationConstraint").value_or("");
      if (!constraint.empty()) {
        if (constraint == "us-east-1" || !valid_region(constraint)) {
          return error(400, "InvalidLocationConstraint",
                       "The specified location-constraint is not valid", resource);
        }
        region = constraint;
      }
    }
    S3Bucket bucket;
    bucket.name = name;
    bucket.region = region;
    bucket.created_ms = m_clock();
    m_data.buckets.emplace(name, std::move(bucket));
    S3Reply reply = empty_reply(200);
    reply.headers.emplace_back("Location", resource);
    return changed(std::move(reply));
  }

  if (foreign) {
    return method == "HEAD" ? empty_reply(403) : error(403, "AccessDenied", "Access Denied", resource);
  }
  if (it == m_data.buckets.end()) {
    return no_such_bucket();
  }
  S3Bucket& bucket = it->second;

  if (method == "HEAD") {
    S3Reply reply = empty_reply(200);
    reply.headers.emplace_back("x-amz-bucket-region", bucket.region);
    return reply;
  }

  if (has(query, "location")) {
    if (method != "GET") {
      return error(405, "MethodNotAllowed",
                   "The specified method is not allowed against this resource.", resource);
    }
    return xml_reply(200, fmt::format("<LocationConstraint xmlns=\"{}\">{}</LocationConstraint>",
                                      s3xml::k_namespace,
                                      bucket.region == "us-east-1" ? "" : bucket.region));
  }

  if (has(query, "versioning")) {
    if (method == "GET") {
      if (bucket.versioning.empty()) {
        return xml_reply(200, fmt::format("<VersioningConfiguration xmlns=\"{}\"/>",
                                          s3xml::k_namespace));
      }
      return xml_reply(200, fmt::format("<VersioningConfiguration xmlns=\"{}\"><Status>{}</Status>"
                                        "</VersioningConfiguration>",
                                        s3xml::k_namespace, bucket.versioning));
    }
    if (method == "PUT") {
      auto status = s3xml::elements(request.body, "VersioningConfiguration").empty()
                        ? std::nullopt
                        : s3xml::text(request.body, "Status");
      if (!status || (*status != "Enabled" && *status != "Suspended")) {
        return error(400, "MalformedXML",
                     "The XML you provided was not well-formed or did not validate against our "
                     "published schema.",
                     resource);
      }
      bucket.versioning = *status;
      return changed(empty_reply(200));
    }
    return error(405, "MethodNotAllowed",
                 "The specified method is not allowed against this resource.", resource);
  }

  if (has(query, "tagging")) {
    if (method == "GET") {
      if (bucket.tags.empty()) {
        return error(404, "NoSuchTagSet", "The TagSet does not exist", resource);
      }
      return xml_reply(200, s3xml::tagging_document(bucket.tags));
    }
    if (method == "DELETE") {
      bucket.tags.clear();
      return changed(empty_reply(204));
    }
    if (method != "PUT") {
      return error(405, "MethodNotAllowed",
                   "The specified method is not allowed against this resource.", resource);
    }
    const std::string* md5 = header(request, "Content-MD5");
    if (md5 == nullptr) {
      return error(400, "InvalidRequest", "Missing required header for this request: Content-MD5",
                   resource);
    }
    if (!md5_shaped(*md5)) {
      return error(400, "InvalidDigest", "The Content-MD5 you specified is not valid.", resource);
    }
    if (*md5 != sigv4::content_md5(request.body)) {
      return error(400, "BadDigest", "The Content-MD5 you specified did not match what we received.",
                   resource);
    }
    auto tags = s3xml::elements(request.body, "Tagging").empty() ||
                        s3xml::elements(request.body, "TagSet").empty()
                    ? std::nullopt
                    : s3xml::parse_tagging(request.body);
    if (!tags) {
      return error(400, "MalformedXML",
                   "The XML you provided was not well-formed or did not validate against our "
                   "published schema.",
                   resource);
    }
    if (tags->size() > k_max_tags) {
      return error(400, "InvalidTag", "Bucket tag count cannot be greater than 50", resource);
    }
    std::map<std::string, std::string> set;
    for (auto& [k, v] : *tags) {
      if (k.empty() || k.size() > 128 || v.size() > 256) {
        return error(400, "InvalidTag",
                     "The tag key must be 1 to 128 characters and its value at most 256", resource);
      }
      if (k.starts_with("aws:")) {
        return error(400, "InvalidTag", "System tags cannot be added/updated by requester",
                     resource);
      }
      if (!set.emplace(k, v).second) {
        return error(400, "InvalidTag", "Cannot provide multiple Tags with the same key", resource);
      }
    }
    bucket.tags = std::move(set);
    return changed(empty_reply(204));
  }

  // Other subresources are not served; plain GET lists the keys.
  static constexpr std::string_view k_unserved[] = {
      "acl", "policy", "lifecycle", "cors", "website", "logging", "notification",
      "replication", "encryption", "uploads", "versions", "object-lock", "accelerate"};
  for (std::string_view sub : k_unserved) {
    if (has(query, sub)) {
      return error(501, "NotImplemented",
                   fmt::format("The sandbox does not serve ?{}", sub), resource);
    }
  }
  if (method == "DELETE") {
    if (!bucket.objects.empty()) {
      return error(409, "BucketNotEmpty", "The bucket you tried to delete is not empty", resource);
    }
    m_data.buckets.erase(it);
    return changed(empty_reply(204));
  }
  if (method == "GET") {
    std::string contents;
    for (const auto& k : bucket.objects) {
      contents.append(fmt::format("<Contents><Key>{}</Key><Size>0</Size></Contents>", s3xml::escape(k)));
    }
    return xml_reply(200, fmt::format("<ListBucketResult xmlns=\"{}\"><Name>{}</Name><KeyCount>{}"
                                      "</KeyCount><IsTruncated>false</IsTruncated>{}"
                                      "</ListBucketResult>",
                                      s3xml::k_namespace, s3xml::escape(name),
                                      bucket.objects.size(), contents));
  }
  return error(405, "MethodNotAllowed",
               "The specified method is not allowed against this resource.", resource);
}

} // namespace stove::sandbox
