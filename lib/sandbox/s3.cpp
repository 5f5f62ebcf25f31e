#include "sandbox/s3.hpp"

#include "model/bucket_name.hpp"
#include "util/error.hpp"
#include "providers/s3_xml.hpp"
#include "providers/sigv4.hpp"
#include "sandbox/admin.hpp"
#include "sandbox/clock.hpp"
#include "sandbox/s3_payload.hpp"
#include "util/atomic_file.hpp"

#include <fmt/format.h>

#include <algorithm>
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
                  const Details& details) {
  std::string extra;
  for (const auto& [name, value] : details) {
    extra.append(fmt::format("<{}>{}</{}>", name, s3xml::escape(value), name));
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

namespace {

// Where a path under the prefix points: the bucket and the object key.
std::pair<std::string, std::string> split_path(std::string_view rest) {
  if (!rest.empty() && rest.front() == '/') {
    rest.remove_prefix(1);
  }
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    return {std::string(rest), {}};
  }
  return {std::string(rest.substr(0, slash)), std::string(rest.substr(slash + 1))};
}

// AWS's bytes notation of a string: "41 57 53".
std::string spaced_hex(std::string_view text) {
  std::string out;
  for (char c : text) {
    out.append(fmt::format("{}{:02x}", out.empty() ? "" : " ", static_cast<unsigned char>(c)));
  }
  return out;
}

// What S3 adds to every answer: the request's ids, in the x-amz-request-id
// and x-amz-id-2 headers and at the end of an error document; and no body
// to a HEAD.
void finish(S3Reply& reply, const std::string& id, std::string_view method) {
  const std::string host_id = sigv4::base64(sigv4::sha256(id));
  const size_t end = reply.body.rfind("</Error>");
  if (reply.status >= 300 && end != std::string::npos) {
    reply.body.insert(end, fmt::format("<RequestId>{}</RequestId><HostId>{}</HostId>", id,
                                       host_id));
  }
  if (method == "HEAD") {
    reply.body.clear();
  }
  reply.headers.emplace_back("x-amz-request-id", id);
  reply.headers.emplace_back("x-amz-id-2", host_id);
}

} // namespace

S3Reply S3::handle(const S3Request& request) {
  std::string id;
  {
    std::lock_guard lock(m_mutex);
    id = fmt::format("{:016X}", ++m_requests);
  }
  std::string_view target = request.target;
  size_t question = target.find('?');
  auto path = sigv4::percent_decode(target.substr(0, question));
  auto query = question == std::string_view::npos ? std::optional<sigv4::Query>(sigv4::Query{})
                                                  : sigv4::parse_query(target.substr(question + 1));
  S3Reply reply;
  if (!path || !query) {
    reply = error(400, "InvalidURI", "Couldn't parse the specified URI.", {{"URI", request.target}});
  } else {
    std::string region;
    std::string body = request.body;
    reply = authenticate(request, *path, region, body);
    if (reply.status == 200) {
      auto [name, key] = split_path(std::string_view(*path).substr(m_prefix.size()));
      const Call call{request, std::move(name), std::move(key), *query, std::move(region),
                      std::move(body)};
      std::lock_guard lock(m_mutex);
      reply = dispatch(call);
    }
  }
  finish(reply, id, request.method);
  return reply;
}

// Signature V4 in the Authorization header: S3's checks, in S3's order.
S3Reply S3::authenticate(const S3Request& request, std::string_view path, std::string& region,
                         std::string& body) const {
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
                 "The AWS Access Key Id you provided does not exist in our records.",
                 {{"AWSAccessKeyId", auth->access_key}});
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
                 "The difference between the request time and the current time is too large.",
                 {{"RequestTime", *date}, {"MaxAllowedSkewMilliseconds", "900000"}});
  }
  if (auto refused = decode_payload(request.headers, body)) {
    return error(refused->status, refused->code, refused->message, refused->details);
  }
  for (const char* required : {"host", "x-amz-date"}) {
    if (std::find(auth->signed_headers.begin(), auth->signed_headers.end(), required) ==
        auth->signed_headers.end()) {
      return error(400, "AuthorizationHeaderMalformed",
                   fmt::format("The authorization header is malformed; {} must be signed.",
                               required));
    }
  }
  S3Reply verified = verify_signature(request, path, *auth, *date);
  if (verified.status == 200) {
    region = auth->region;
  }
  return verified;
}

// The signature of the canonical request as the client must have built it,
// from the request as received, against the one sent.
S3Reply S3::verify_signature(const S3Request& request, std::string_view path,
                             const sigv4::Authorization& auth, const std::string& date) const {
  sigv4::CanonicalInput input;
  input.method = request.method;
  input.path = std::string(path);
  size_t question = request.target.find('?');
  if (question != std::string::npos) {
    input.query = sigv4::parse_query(std::string_view(request.target).substr(question + 1))
                      .value_or(sigv4::Query{});
  }
  for (const std::string& name : auth.signed_headers) {
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
  const std::string* content = header(request, "x-amz-content-sha256");
  input.payload_hash = content != nullptr ? *content : std::string();
  sigv4::Credentials credentials{std::string(k_access_key), m_secret, ""};
  auto expected = sigv4::sign(input, credentials, date, auth.region, "s3");
  if (!sigv4::constant_time_equal(expected.signature, auth.signature)) {
    return error(403, "SignatureDoesNotMatch",
                 "The request signature we calculated does not match the signature you provided. "
                 "Check your key and signing method.",
                 {{"AWSAccessKeyId", auth.access_key},
                  {"StringToSign", expected.string_to_sign},
                  {"SignatureProvided", auth.signature},
                  {"StringToSignBytes", spaced_hex(expected.string_to_sign)},
                  {"CanonicalRequest", expected.canonical_request},
                  {"CanonicalRequestBytes", spaced_hex(expected.canonical_request)}});
  }
  S3Reply ok;
  ok.status = 200;
  return ok;
}

S3Reply S3::xml(int status, std::string body) {
  return xml_reply(status, std::move(body));
}

} // namespace stove::sandbox
