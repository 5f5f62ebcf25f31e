#pragma once

// AWS Signature Version 4, by hand on OpenSSL's libcrypto: the S3 adapter
// signs with it and the sandbox verifies with it. Pure functions of their
// arguments (the clock is passed in), so the published test vectors pin
// every step: canonical request, string to sign, signature.
//
// Canonicalisation follows S3's rules, which the generic suite's simple
// vectors share: the path is percent-encoded once, segment by segment (no
// dot-segment or slash normalisation, no double encoding); query names and
// values are percent-encoded (RFC 3986: only A-Z a-z 0-9 - . _ ~ kept,
// uppercase hex) and sorted by name, then value, bytewise; a name without
// a value signs as `name=`; header names are lowercased, values trimmed with
// inner runs of spaces collapsed, repeated headers joined by commas in the
// order given, and sorted by name.

#include "http/client.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stove::providers::sigv4 {

// --- crypto and encodings ------------------------------------------------------

std::string sha256(std::string_view data);                        // 32 raw bytes
std::string sha256_hex(std::string_view data);                    // lowercase hex
std::string hmac_sha256(std::string_view key, std::string_view data);  // 32 raw bytes
std::string md5(std::string_view data);                           // 16 raw bytes
std::string sha1(std::string_view data);                          // 20 raw bytes
std::string hex(std::string_view bytes);                          // lowercase
std::string base64(std::string_view bytes);
// Base64 of the MD5 of `data`: a Content-MD5 header's value.
std::string content_md5(std::string_view data);

// The hex SHA-256 of an empty payload.
inline constexpr std::string_view k_empty_sha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Percent-encodes per RFC 3986 (unreserved kept, uppercase hex); '/' too
// unless keep_slash.
std::string uri_encode(std::string_view text, bool keep_slash);
// Decodes %XX escapes ('+' stays '+'). Returns nullopt for a bad escape.
std::optional<std::string> percent_decode(std::string_view text);

using Query = std::vector<std::pair<std::string, std::string>>;  // decoded names and values

// The canonical URI of a decoded path: "/" when empty.
std::string canonical_uri(std::string_view path);
// The canonical query string: encoded, sorted, `name=` for empty values.
std::string canonical_query(const Query& query);
// Splits a raw query string ("b=2&a&c=x%20y") into decoded pairs; nullopt
// for a bad escape.
std::optional<Query> parse_query(std::string_view raw);

// --- signing ---------------------------------------------------------------

struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // empty: none
};

// What is signed: every header in `headers` is signed, so it must hold host
// and x-amz-date (and for S3 x-amz-content-sha256) and nothing a proxy may
// rewrite.
struct CanonicalInput {
  std::string method;
  std::string path;      // decoded: "/bucket/my key"
  Query query;           // decoded
  http::Headers headers;
  std::string payload_hash;  // hex SHA-256 of the body, or UNSIGNED-PAYLOAD
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string scope;           // 20150830/us-east-1/service/aws4_request
  std::string signed_headers;  // host;x-amz-date
  std::string signature;       // hex
  std::string authorization;   // the Authorization header's value
};

// "20150830T123600Z" for `at`.
std::string amz_date(std::chrono::system_clock::time_point at);

std::string canonical_request(const CanonicalInput& input);
// The key derived for a day ("20150830"), region and service.
std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service);
// Signs `input` at `date_time` (an x-amz-date value, which the headers must
// carry too) for `region` and `service`.
Signature sign(const CanonicalInput& input, const Credentials& credentials,
               std::string_view date_time, std::string_view region, std::string_view service);

// Signs an http::Request for S3-style services in place: sets Host (from
// the URL), x-amz-date, x-amz-content-sha256 (of the body), the session
// token if any, and Authorization. Earlier values of those headers are
// replaced; every header of the request is signed. Throws
// std::invalid_argument for a URL it cannot take apart.
void sign_request(http::Request& request, const Credentials& credentials,
                  std::string_view region, std::string_view service,
                  std::chrono::system_clock::time_point now);

// An Authorization header taken apart.
struct Authorization {
  std::string access_key;
  std::string date;     // of the scope: 20150830
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;
  std::string signature;
};
// Parses "AWS4-HMAC-SHA256 Credential=AK/D/R/S/aws4_request,
// SignedHeaders=a;b, Signature=hex"; nullopt if it is not that.
std::optional<Authorization> parse_authorization(std::string_view header);

// Compares in time independent of where the strings differ.
bool constant_time_equal(std::string_view a, std::string_view b);

} // namespace stove::providers::sigv4
