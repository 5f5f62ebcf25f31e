#include "sandbox/s3_payload.hpp"

#include "providers/sigv4.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace stove::sandbox {

namespace sigv4 = providers::sigv4;

namespace {

// A reflected CRC's table, built at compile time.
template <typename T>
constexpr std::array<T, 256> crc_table(T polynomial) {
  std::array<T, 256> table{};
  for (unsigned i = 0; i < 256; ++i) {
    T value = static_cast<T>(i);
    for (int bit = 0; bit < 8; ++bit) {
      value = (value & 1) != 0 ? static_cast<T>((value >> 1) ^ polynomial)
                               : static_cast<T>(value >> 1);
    }
    table[i] = value;
  }
  return table;
}

constexpr auto k_crc32 = crc_table<uint32_t>(0xEDB88320u);
constexpr auto k_crc32c = crc_table<uint32_t>(0x82F63B78u);
constexpr auto k_crc64nvme = crc_table<uint64_t>(0x9A6C9329AC4BC9B5ull);

template <typename T>
T crc(const std::array<T, 256>& table, std::string_view data) {
  T value = static_cast<T>(~T{0});
  for (char c : data) {
    value = static_cast<T>(table[(value ^ static_cast<unsigned char>(c)) & 0xFF] ^ (value >> 8));
  }
  return static_cast<T>(~value);
}

template <typename T>
std::string big_endian(T value) {
  std::string out(sizeof(T), '\0');
  for (size_t i = 0; i < sizeof(T); ++i) {
    out[sizeof(T) - 1 - i] = static_cast<char>(value & 0xFF);
    value = static_cast<T>(value >> 8);
  }
  return out;
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowered(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

const std::string* find_header(const S3Headers& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (lowered(n) == name) {
      return &v;
    }
  }
  return nullptr;
}

// A flexible checksum S3 takes: its header suffix, its name in messages,
// and the raw value it computes.
struct Algorithm {
  std::string_view suffix;  // crc32 -> x-amz-checksum-crc32
  std::string_view name;    // CRC32
  std::string (*compute)(std::string_view);
};

constexpr std::array<Algorithm, 5> k_algorithms = {{
    {"crc32", "CRC32", [](std::string_view d) { return big_endian(crc32(d)); }},
    {"crc32c", "CRC32C", [](std::string_view d) { return big_endian(crc32c(d)); }},
    {"crc64nvme", "CRC64NVME", [](std::string_view d) { return big_endian(crc64nvme(d)); }},
    {"sha1", "SHA1", [](std::string_view d) { return sigv4::sha1(d); }},
    {"sha256", "SHA256", [](std::string_view d) { return sigv4::sha256(d); }},
}};

const Algorithm* algorithm_of_header(std::string_view header) {
  constexpr std::string_view k_prefix = "x-amz-checksum-";
  if (!header.starts_with(k_prefix)) {
    return nullptr;
  }
  for (const auto& a : k_algorithms) {
    if (header.substr(k_prefix.size()) == a.suffix) {
      return &a;
    }
  }
  return nullptr;
}

bool is_base64(std::string_view text) {
  return !text.empty() && text.size() % 4 == 0 &&
         std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '/' || c == '=';
         });
}

S3Refusal refusal(int status, std::string code, std::string message) {
  return S3Refusal{status, std::move(code), std::move(message), {}};
}

// A checksum value against the data it claims to be of.
std::optional<S3Refusal> verify(const Algorithm& a, std::string_view header,
                                std::string_view value, std::string_view data) {
  const std::string expected = sigv4::base64(a.compute(data));
  if (!is_base64(value) || value.size() != expected.size()) {
    return refusal(400, "InvalidRequest", fmt::format("Value for {} header is invalid.", header));
  }
  if (value != expected) {
    return refusal(400, "BadDigest",
                   fmt::format("The {} you specified did not match the calculated checksum.",
                               a.name));
  }
  return std::nullopt;
}

// The data of an aws-chunked body, its trailer verified.
std::optional<S3Refusal> decode_chunked(const S3Headers& headers, std::string& body) {
  const S3Refusal incomplete = refusal(400, "IncompleteBody",
                                       "The request body terminated unexpectedly");
  std::string data;
  size_t at = 0;
  while (true) {
    size_t eol = body.find("\r\n", at);
    if (eol == std::string::npos) {
      return incomplete;
    }
    std::string_view line = std::string_view(body).substr(at, eol - at);
    line = line.substr(0, line.find(';'));
    size_t size = 0;
    auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), size, 16);
    if (ec != std::errc() || end != line.data() + line.size() || line.empty()) {
      return incomplete;
    }
    at = eol + 2;
    if (size == 0) {
      break;
    }
    if (body.size() < at + size + 2 || body.compare(at + size, 2, "\r\n") != 0) {
      return incomplete;
    }
    data.append(body, at, size);
    at += size + 2;
  }
  // Trailer lines, then an empty one.
  S3Headers trailer;
  while (true) {
    size_t eol = body.find("\r\n", at);
    if (eol == std::string::npos) {
      return refusal(400, "MalformedTrailerError",
                     "The request contained trailing data that was not well-formed or did not "
                     "conform to our published schema.");
    }
    std::string_view line = std::string_view(body).substr(at, eol - at);
    at = eol + 2;
    if (line.empty()) {
      break;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return refusal(400, "MalformedTrailerError",
                     "The request contained trailing data that was not well-formed or did not "
                     "conform to our published schema.");
    }
    trailer.emplace_back(lowered(line.substr(0, colon)), std::string(line.substr(colon + 1)));
  }
  const std::string* decoded_length = find_header(headers, "x-amz-decoded-content-length");
  if (decoded_length == nullptr) {
    return refusal(411, "MissingContentLength", "You must provide the Content-Length HTTP header.");
  }
  if (*decoded_length != std::to_string(data.size())) {
    return refusal(400, "IncompleteBody",
                   "You did not provide the number of bytes specified by the Content-Length "
                   "HTTP header");
  }
  if (const std::string* named = find_header(headers, "x-amz-trailer")) {
    const std::string name = lowered(*named);
    const Algorithm* a = algorithm_of_header(name);
    const std::string* value = find_header(trailer, name);
    if (a == nullptr || value == nullptr) {
      return refusal(400, "MalformedTrailerError",
                     "The request contained trailing data that was not well-formed or did not "
                     "conform to our published schema.");
    }
    if (auto bad = verify(*a, name, *value, data)) {
      return bad;
    }
  }
  body = std::move(data);
  return std::nullopt;
}

bool is_hex_sha256(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (lower(c) >= 'a' && lower(c) <= 'f');
         });
}

} // namespace

uint32_t crc32(std::string_view data) {
  return crc(k_crc32, data);
}

uint32_t crc32c(std::string_view data) {
  return crc(k_crc32c, data);
}

uint64_t crc64nvme(std::string_view data) {
  return crc(k_crc64nvme, data);
}

std::optional<S3Refusal> decode_payload(const S3Headers& headers, std::string& body) {
  const std::string* content = find_header(headers, "x-amz-content-sha256");
  if (content == nullptr) {
    return refusal(400, "InvalidRequest",
                   "Missing required header for this request: x-amz-content-sha256");
  }
  if (*content == "UNSIGNED-PAYLOAD") {
    return std::nullopt;
  }
  if (is_hex_sha256(*content)) {
    const std::string computed = sigv4::sha256_hex(body);
    if (lowered(*content) == computed) {
      return std::nullopt;
    }
    S3Refusal r = refusal(400, "XAmzContentSHA256Mismatch",
                          "The provided 'x-amz-content-sha256' header does not match what was "
                          "computed.");
    r.details = {{"ClientComputedContentSHA256", *content}, {"S3ComputedContentSHA256", computed}};
    return r;
  }
  if (*content == "STREAMING-UNSIGNED-PAYLOAD-TRAILER") {
    return decode_chunked(headers, body);
  }
  static constexpr std::array<std::string_view, 4> k_signed_chunks = {
      "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
      "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER"};
  if (std::find(k_signed_chunks.begin(), k_signed_chunks.end(), *content) !=
      k_signed_chunks.end()) {
    return refusal(501, "NotImplemented",
                   fmt::format("The sandbox does not verify signed chunks ({}); send "
                               "UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER or the "
                               "payload's SHA-256",
                               *content));
  }
  S3Refusal r = refusal(400, "InvalidArgument",
                        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                        "STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, "
                        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, "
                        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, "
                        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.");
  r.details = {{"ArgumentName", "x-amz-content-sha256"}, {"ArgumentValue", *content}};
  return r;
}

std::optional<S3Refusal> check_integrity(const S3Headers& headers, std::string_view body,
                                         Integrity need) {
  // The checksums sent as headers, and the one a trailer carried (verified
  // by decode_payload).
  std::vector<std::pair<const Algorithm*, const std::string*>> sent;
  std::vector<std::string> names;
  for (const auto& [name, value] : headers) {
    const std::string lower_name = lowered(name);
    if (const Algorithm* a = algorithm_of_header(lower_name)) {
      sent.emplace_back(a, &value);
      names.push_back(lower_name);
    }
  }
  if (const std::string* trailer = find_header(headers, "x-amz-trailer")) {
    if (algorithm_of_header(lowered(*trailer)) != nullptr) {
      names.push_back(lowered(*trailer));
    }
  }
  if (names.size() > 1) {
    return refusal(400, "InvalidRequest",
                   "Expecting a single x-amz-checksum- header. Multiple checksum Types are not "
                   "allowed.");
  }
  if (const std::string* sdk = find_header(headers, "x-amz-sdk-checksum-algorithm")) {
    if (names.empty()) {
      return refusal(400, "InvalidRequest",
                     "x-amz-sdk-checksum-algorithm specified, but no corresponding "
                     "x-amz-checksum-* or x-amz-trailer headers were found.");
    }
    if (names.front() != fmt::format("x-amz-checksum-{}", lowered(*sdk))) {
      return refusal(400, "InvalidRequest",
                     "Value for x-amz-sdk-checksum-algorithm header is invalid.");
    }
  }
  for (const auto& [a, value] : sent) {
    if (auto bad = verify(*a, fmt::format("x-amz-checksum-{}", a->suffix), *value, body)) {
      return bad;
    }
  }
  const std::string* md5 = find_header(headers, "content-md5");
  if (md5 != nullptr) {
    if (!is_base64(*md5) || md5->size() != 24) {
      return refusal(400, "InvalidDigest", "The Content-MD5 you specified is not valid.");
    }
    const std::string computed = sigv4::content_md5(body);
    if (*md5 != computed) {
      S3Refusal r = refusal(400, "BadDigest",
                            "The Content-MD5 you specified did not match what we received.");
      r.details = {{"ExpectedDigest", *md5}, {"CalculatedDigest", computed}};
      return r;
    }
  }
  if (need == Integrity::required && md5 == nullptr && names.empty()) {
    return refusal(400, "InvalidRequest",
                   "Missing required header for this request: Content-MD5 OR x-amz-checksum-*");
  }
  return std::nullopt;
}

} // namespace stove::sandbox
