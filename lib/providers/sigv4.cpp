#include "providers/sigv4.hpp"

#include <fmt/format.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <ctime>
#include <stdexcept>

namespace stove::providers::sigv4 {

namespace {

const unsigned char* bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

std::string digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), out, &size, md, nullptr) != 1) {
    throw std::runtime_error("libcrypto: digest failed");
  }
  return std::string(reinterpret_cast<const char*>(out), size);
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

// Trims and collapses inner runs of spaces to one.
std::string trim_all(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (char c : value) {
    if (is_space(c) || c == '\r' || c == '\n') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) {
      out.push_back(' ');
      pending_space = false;
    }
    out.push_back(c);
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

void set_header(http::Headers& headers, std::string_view name, std::string value) {
  std::erase_if(headers, [&](const auto& h) { return iequals(h.first, name); });
  headers.emplace_back(std::string(name), std::move(value));
}

} // namespace

std::string sha256(std::string_view data) {
  return digest(EVP_sha256(), data);
}

std::string sha256_hex(std::string_view data) {
  return hex(sha256(data));
}

std::string md5(std::string_view data) {
  return digest(EVP_md5(), data);
}

std::string sha1(std::string_view data) {
  return digest(EVP_sha1(), data);
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), bytes(data), data.size(), out,
           &size) == nullptr) {
    throw std::runtime_error("libcrypto: HMAC failed");
  }
  return std::string(reinterpret_cast<const char*>(out), size);
}

std::string hex(std::string_view data) {
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (char c : data) {
    auto b = static_cast<unsigned char>(c);
    out.push_back(k_digits[b >> 4]);
    out.push_back(k_digits[b & 0xF]);
  }
  return out;
}

std::string base64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int size = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes(data),
                             static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(std::max(size, 0)));
  return out;
}

std::string content_md5(std::string_view data) {
  return base64(md5(data));
}

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char k_digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out.push_back(c);
    } else {
      auto b = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(k_digits[b >> 4]);
      out.push_back(k_digits[b & 0xF]);
    }
  }
  return out;
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) {
      return std::nullopt;
    }
    int high = hex_value(text[i + 1]);
    int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) {
      return std::nullopt;
    }
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

std::string canonical_uri(std::string_view path) {
  if (path.empty()) {
    return "/";
  }
  return uri_encode(path, /*keep_slash=*/true);
}

std::string canonical_query(const Query& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(uri_encode(name, false), uri_encode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) {
      out.push_back('&');
    }
    out.append(name);
    out.push_back('=');
    out.append(value);
  }
  return out;
}

std::optional<Query> parse_query(std::string_view raw) {
  Query query;
  size_t start = 0;
  while (start <= raw.size()) {
    size_t end = raw.find('&', start);
    if (end == std::string_view::npos) {
      end = raw.size();
    }
    std::string_view pair = raw.substr(start, end - start);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      auto name = percent_decode(pair.substr(0, eq));
      auto value = percent_decode(eq == std::string_view::npos ? std::string_view()
                                                               : pair.substr(eq + 1));
      if (!name || !value) {
        return std::nullopt;
      }
      query.emplace_back(std::move(*name), std::move(*value));
    }
    start = end + 1;
  }
  return query;
}

std::string amz_date(std::chrono::system_clock::time_point at) {
  std::time_t t = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &tm);
  return text;
}

namespace {

std::string build_canonical_request(const CanonicalInput& input, std::string* signed_out) {
  // Lowercase names, trimmed values; repeats joined in the order given.
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : input.headers) {
    std::string key = to_lower(trim_all(name));
    std::string text = trim_all(value);
    auto it = std::find_if(headers.begin(), headers.end(),
                           [&](const auto& h) { return h.first == key; });
    if (it == headers.end()) {
      headers.emplace_back(std::move(key), std::move(text));
    } else {
      it->second = fmt::format("{},{}", it->second, text);
    }
  }
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string canonical_headers;
  std::string signed_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers.append(fmt::format("{}:{}\n", name, value));
    signed_headers = signed_headers.empty() ? name : fmt::format("{};{}", signed_headers, name);
  }
  std::string text = fmt::format("{}\n{}\n{}\n{}\n{}\n{}", input.method, canonical_uri(input.path),
                                 canonical_query(input.query), canonical_headers, signed_headers,
                                 input.payload_hash);
  if (signed_out != nullptr) {
    *signed_out = std::move(signed_headers);
  }
  return text;
}

} // namespace

std::string canonical_request(const CanonicalInput& input) {
  return build_canonical_request(input, nullptr);
}

std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service) {
  std::string key = hmac_sha256(fmt::format("AWS4{}", secret), date);
  key = hmac_sha256(key, region);
  key = hmac_sha256(key, service);
  return hmac_sha256(key, "aws4_request");
}

Signature sign(const CanonicalInput& input, const Credentials& credentials,
               std::string_view date_time, std::string_view region, std::string_view service) {
  if (date_time.size() < 8) {
    throw std::invalid_argument("sigv4: the date is not YYYYMMDDTHHMMSSZ");
  }
  const std::string_view date = date_time.substr(0, 8);
  Signature s;
  s.canonical_request = build_canonical_request(input, &s.signed_headers);
  s.scope = fmt::format("{}/{}/{}/aws4_request", date, region, service);
  s.string_to_sign = fmt::format("AWS4-HMAC-SHA256\n{}\n{}\n{}", date_time, s.scope,
                                 sha256_hex(s.canonical_request));
  s.signature =
      hex(hmac_sha256(signing_key(credentials.secret_key, date, region, service), s.string_to_sign));
  s.authorization =
      fmt::format("AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={}",
                  credentials.access_key, s.scope, s.signed_headers, s.signature);
  return s;
}

void sign_request(http::Request& request, const Credentials& credentials,
                  std::string_view region, std::string_view service,
                  std::chrono::system_clock::time_point now) {
  std::string_view url = request.url;
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) {
    throw std::invalid_argument("sigv4: the URL has no scheme");
  }
  size_t authority_start = scheme + 3;
  size_t path_start = url.find_first_of("/?#", authority_start);
  std::string_view authority = url.substr(
      authority_start,
      path_start == std::string_view::npos ? std::string_view::npos : path_start - authority_start);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  if (authority.empty()) {
    throw std::invalid_argument("sigv4: the URL has no host");
  }
  std::string_view rest = path_start == std::string_view::npos ? std::string_view()
                                                               : url.substr(path_start);
  if (auto hash = rest.find('#'); hash != std::string_view::npos) {
    rest = rest.substr(0, hash);
  }
  size_t question = rest.find('?');
  auto path = percent_decode(rest.substr(0, question));
  auto query = question == std::string_view::npos ? std::optional<Query>(Query{})
                                                  : parse_query(rest.substr(question + 1));
  if (!path || !query) {
    throw std::invalid_argument("sigv4: the URL holds a bad percent escape");
  }

  const std::string date_time = amz_date(now);
  const std::string payload_hash = sha256_hex(request.body);
  set_header(request.headers, "Host", std::string(authority));
  set_header(request.headers, "x-amz-date", date_time);
  set_header(request.headers, "x-amz-content-sha256", payload_hash);
  std::erase_if(request.headers, [](const auto& h) {
    return iequals(h.first, "Authorization") || iequals(h.first, "x-amz-security-token");
  });
  if (!credentials.session_token.empty()) {
    request.headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  CanonicalInput input;
  input.method = request.method;
  input.path = std::move(*path);
  input.query = std::move(*query);
  input.headers = request.headers;
  input.payload_hash = payload_hash;
  Signature s = sign(input, credentials, date_time, region, service);
  request.headers.emplace_back("Authorization", std::move(s.authorization));
}

std::optional<Authorization> parse_authorization(std::string_view header) {
  constexpr std::string_view k_algorithm = "AWS4-HMAC-SHA256";
  if (!header.starts_with(k_algorithm) || header.size() == k_algorithm.size() ||
      !is_space(header[k_algorithm.size()])) {
    return std::nullopt;
  }
  header.remove_prefix(k_algorithm.size());
  Authorization a;
  bool credential = false;
  bool signed_headers = false;
  bool signature = false;
  size_t start = 0;
  while (start < header.size()) {
    size_t end = header.find(',', start);
    if (end == std::string_view::npos) {
      end = header.size();
    }
    std::string_view part = header.substr(start, end - start);
    while (!part.empty() && is_space(part.front())) {
      part.remove_prefix(1);
    }
    while (!part.empty() && is_space(part.back())) {
      part.remove_suffix(1);
    }
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return std::nullopt;
    }
    std::string_view name = part.substr(0, eq);
    std::string_view value = part.substr(eq + 1);
    if (name == "Credential") {
      // AK/DATE/REGION/SERVICE/aws4_request; the key id has no '/'.
      std::vector<std::string> fields;
      size_t from = 0;
      while (true) {
        size_t slash = value.find('/', from);
        fields.emplace_back(value.substr(from, slash == std::string_view::npos
                                                   ? std::string_view::npos
                                                   : slash - from));
        if (slash == std::string_view::npos) {
          break;
        }
        from = slash + 1;
      }
      if (fields.size() != 5 || fields[4] != "aws4_request" || fields[0].empty() ||
          fields[1].size() != 8) {
        return std::nullopt;
      }
      a.access_key = fields[0];
      a.date = fields[1];
      a.region = fields[2];
      a.service = fields[3];
      credential = true;
    } else if (name == "SignedHeaders") {
      size_t from = 0;
      while (from <= value.size()) {
        size_t semi = value.find(';', from);
        std::string_view one = value.substr(
            from, semi == std::string_view::npos ? std::string_view::npos : semi - from);
        if (one.empty()) {
          return std::nullopt;
        }
        a.signed_headers.emplace_back(one);
        if (semi == std::string_view::npos) {
          break;
        }
        from = semi + 1;
      }
      signed_headers = !a.signed_headers.empty();
    } else if (name == "Signature") {
      a.signature = std::string(value);
      signature = !a.signature.empty();
    } else {
      return std::nullopt;
    }
    start = end + 1;
  }
  if (!credential || !signed_headers || !signature) {
    return std::nullopt;
  }
  return a;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

} // namespace stove::providers::sigv4
