#pragma once

// What the sandbox's S3 (s3.hpp) checks of a request's payload, as S3 does.
//
// x-amz-content-sha256 says how the payload is signed:
//   - the hex SHA-256 of the body: it must be (XAmzContentSHA256Mismatch);
//   - UNSIGNED-PAYLOAD: not checked;
//   - STREAMING-UNSIGNED-PAYLOAD-TRAILER: the body is aws-chunked
//     (`SIZE-HEX\r\nDATA\r\n ... 0\r\nTRAILER:VALUE\r\n\r\n`, what AWS's
//     SDKs send for a streamed body). It is decoded, its length checked
//     against x-amz-decoded-content-length and its trailing checksum (named
//     by x-amz-trailer) against the data;
//   - STREAMING-AWS4-HMAC-SHA256-PAYLOAD and the other signed-chunk forms:
//     not served (501 NotImplemented);
//   - anything else: 400 InvalidArgument.
// Integrity headers: Content-MD5 and the flexible checksums
// x-amz-checksum-{crc32,crc32c,crc64nvme,sha1,sha256} (base64 of the
// big-endian value or digest), each verified when sent; at most one
// checksum, and x-amz-sdk-checksum-algorithm must name a checksum sent.
// Operations whose model marks a checksum required (PutBucketTagging) need
// Content-MD5 or one of them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stove::sandbox {

using S3Headers = std::vector<std::pair<std::string, std::string>>;

// An S3 refusal: status, error code, message, and the extra elements of its
// error document (<ArgumentName>, <ExpectedDigest>, ...), in order.
struct S3Refusal {
  int status = 400;
  std::string code;
  std::string message;
  std::vector<std::pair<std::string, std::string>> details;
};

// Checks the payload against x-amz-content-sha256 (absent: InvalidRequest)
// and, for an aws-chunked body, replaces `body` with the data it carries.
std::optional<S3Refusal> decode_payload(const S3Headers& headers, std::string& body);

enum class Integrity { optional, required };
// Verifies the integrity headers against the (decoded) body.
std::optional<S3Refusal> check_integrity(const S3Headers& headers, std::string_view body,
                                         Integrity need);

// The checksums S3 computes: CRC-32 (ISO-HDLC, as zlib), CRC-32C
// (Castagnoli) and CRC-64/NVME, each over `data`.
uint32_t crc32(std::string_view data);
uint32_t crc32c(std::string_view data);
uint64_t crc64nvme(std::string_view data);

} // namespace stove::sandbox
