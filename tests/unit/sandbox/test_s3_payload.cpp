// The sandbox S3's payload checks (lib/sandbox/s3_payload): the checksums
// against their published check values and AWS's SDK's own, aws-chunked
// bodies as @aws-sdk/client-s3 streams them, and S3's refusals.

#include "sandbox/s3_payload.hpp"

#include "providers/sigv4.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <string>

using namespace stove::sandbox;
namespace sigv4 = stove::providers::sigv4;

namespace {

std::string refused(const std::optional<S3Refusal>& r) {
  return r ? fmt::format("{} {}: {}", r->status, r->code, r->message) : "ok";
}

const std::string k_tagging =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Tagging "
    "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet><Tag><Key>a</Key><Value>b</Value>"
    "</Tag></TagSet></Tagging>";

} // namespace

TEST_SUITE("sandbox S3 payloads") {
  TEST_CASE("the checksums give their catalogued check values") {
    CHECK(crc32("123456789") == 0xCBF43926u);
    CHECK(crc32c("123456789") == 0xE3069283u);
    CHECK(crc64nvme("123456789") == 0xAE8B14860A799888ull);
    CHECK(crc32("") == 0u);
  }

  TEST_CASE("flexible checksums as @aws-sdk/client-s3 3.1175.0 sends them are accepted") {
    // Captured from the SDK: PutBucketTagging's body and its CRC32.
    CHECK(refused(check_integrity(
              {{"x-amz-sdk-checksum-algorithm", "CRC32"}, {"x-amz-checksum-crc32", "G7PpbQ=="}},
              k_tagging, Integrity::required)) == "ok");
    CHECK(refused(check_integrity({{"x-amz-checksum-crc32", "NhCmhg=="}}, "hello",
                                  Integrity::optional)) == "ok");
    CHECK(
        refused(check_integrity({{"x-amz-checksum-sha256", sigv4::base64(sigv4::sha256("hello"))}},
                                "hello", Integrity::required)) == "ok");
    CHECK(refused(check_integrity({{"X-Amz-Checksum-SHA1", sigv4::base64(sigv4::sha1("hello"))}},
                                  "hello", Integrity::required)) == "ok");
    CHECK(refused(check_integrity({{"Content-MD5", sigv4::content_md5("hello")}}, "hello",
                                  Integrity::required)) == "ok");
  }

  TEST_CASE("S3's refusals of integrity headers") {
    CHECK(refused(check_integrity({}, k_tagging, Integrity::required)) ==
          "400 InvalidRequest: Missing required header for this request: Content-MD5 OR "
          "x-amz-checksum-*");
    CHECK(refused(check_integrity({}, k_tagging, Integrity::optional)) == "ok");
    CHECK(refused(check_integrity({{"x-amz-checksum-crc32", "AAAAAA=="}}, "hello",
                                  Integrity::optional)) ==
          "400 BadDigest: The CRC32 you specified did not match the calculated checksum.");
    CHECK(refused(
              check_integrity({{"x-amz-checksum-crc32c", "nope"}}, "hello", Integrity::optional)) ==
          "400 InvalidRequest: Value for x-amz-checksum-crc32c header is invalid.");
    CHECK(refused(check_integrity({{"x-amz-checksum-crc32", "NhCmhg=="},
                                   {"x-amz-checksum-sha1", sigv4::base64(sigv4::sha1("hello"))}},
                                  "hello", Integrity::optional)) ==
          "400 InvalidRequest: Expecting a single x-amz-checksum- header. Multiple checksum "
          "Types are not allowed.");
    CHECK(refused(check_integrity({{"x-amz-sdk-checksum-algorithm", "CRC32"}}, "hello",
                                  Integrity::optional)) ==
          "400 InvalidRequest: x-amz-sdk-checksum-algorithm specified, but no corresponding "
          "x-amz-checksum-* or x-amz-trailer headers were found.");
    CHECK(refused(check_integrity({{"Content-MD5", "not base64"}}, "hello", Integrity::optional)) ==
          "400 InvalidDigest: The Content-MD5 you specified is not valid.");
    auto bad_md5 = check_integrity({{"Content-MD5", sigv4::content_md5("other")}}, "hello",
                                   Integrity::optional);
    CHECK(refused(bad_md5) ==
          "400 BadDigest: The Content-MD5 you specified did not match what we received.");
    REQUIRE(bad_md5);
    CHECK(bad_md5->details.size() == 2);
  }

  TEST_CASE("x-amz-content-sha256: a hash, UNSIGNED-PAYLOAD, or neither") {
    std::string body = "hello";
    CHECK(refused(decode_payload({{"x-amz-content-sha256", sigv4::sha256_hex("hello")}}, body)) ==
          "ok");
    CHECK(refused(decode_payload({{"X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"}}, body)) == "ok");
    CHECK(refused(decode_payload({{"x-amz-content-sha256", sigv4::sha256_hex("other")}}, body)) ==
          "400 XAmzContentSHA256Mismatch: The provided 'x-amz-content-sha256' header does not "
          "match what was computed.");
    CHECK(refused(decode_payload({}, body)) ==
          "400 InvalidRequest: Missing required header for this request: x-amz-content-sha256");
    CHECK(refused(decode_payload({{"x-amz-content-sha256", "SHA256-OF-SOMETHING"}}, body))
              .starts_with("400 InvalidArgument: x-amz-content-sha256 must be UNSIGNED-PAYLOAD"));
    CHECK(refused(decode_payload({{"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}},
                                 body))
              .starts_with("501 NotImplemented: "));
    CHECK(body == "hello");
  }

  TEST_CASE("an aws-chunked body with a trailing checksum, as the SDK streams it, is decoded") {
    // Captured from @aws-sdk/client-s3 3.1175.0: PutObject of a stream.
    const S3Headers headers = {{"x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"},
                               {"content-encoding", "aws-chunked"},
                               {"x-amz-decoded-content-length", "11"},
                               {"x-amz-trailer", "x-amz-checksum-crc32"},
                               {"x-amz-sdk-checksum-algorithm", "CRC32"}};
    std::string body = "6\r\nhello \r\n5\r\nworld\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
    CHECK(refused(decode_payload(headers, body)) == "ok");
    CHECK(body == "hello world");
    // The trailer stands for the checksum an operation may require.
    CHECK(refused(check_integrity(headers, body, Integrity::required)) == "ok");

    std::string wrong = "6\r\nhello \r\n5\r\nWORLD\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
    CHECK(refused(decode_payload(headers, wrong)) ==
          "400 BadDigest: The CRC32 you specified did not match the calculated checksum.");
    std::string short_body = "6\r\nhello \r\n5\r\nwor";
    CHECK(refused(decode_payload(headers, short_body)) ==
          "400 IncompleteBody: The request body terminated unexpectedly");
    std::string no_trailer = "6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n";
    CHECK(refused(decode_payload(headers, no_trailer)) ==
          "400 MalformedTrailerError: The request contained trailing data that was not "
          "well-formed or did not conform to our published schema.");
    S3Headers longer = headers;
    longer[2].second = "12";
    std::string again = "6\r\nhello \r\n5\r\nworld\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
    CHECK(refused(decode_payload(longer, again)) ==
          "400 IncompleteBody: You did not provide the number of bytes specified by the "
          "Content-Length HTTP header");
  }
}
