// AWS Signature Version 4 against AWS's published vectors: the generic
// suite (aws-sig-v4-test-suite: service "service", us-east-1, AKIDEXAMPLE,
// 20150830T123600Z) and the S3 examples of the S3 API reference
// (examplebucket, AKIAIOSFODNN7EXAMPLE, 20130524T000000Z).

#include "providers/sigv4.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

using namespace stove;
using namespace stove::providers;

namespace {

const sigv4::Credentials k_suite_key{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const sigv4::Credentials k_s3_key{"AKIAIOSFODNN7EXAMPLE",
                                  "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
constexpr std::string_view k_suite_date = "20150830T123600Z";
constexpr std::string_view k_s3_date = "20130524T000000Z";
const std::string k_empty(sigv4::k_empty_sha256);

// A suite request: host and x-amz-date first, then `extra` headers.
sigv4::CanonicalInput suite_request(std::string method, std::string path, sigv4::Query query,
                                    http::Headers extra = {}, std::string body = {}) {
  sigv4::CanonicalInput input;
  input.method = std::move(method);
  input.path = std::move(path);
  input.query = std::move(query);
  input.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", std::string(k_suite_date)}};
  for (auto& h : extra) {
    input.headers.push_back(std::move(h));
  }
  input.payload_hash = sigv4::sha256_hex(body);
  return input;
}

sigv4::Signature suite_sign(const sigv4::CanonicalInput& input) {
  return sigv4::sign(input, k_suite_key, k_suite_date, "us-east-1", "service");
}

std::string suite_authorization(std::string_view signed_headers, std::string_view signature) {
  return fmt::format("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                     "aws4_request, SignedHeaders={}, Signature={}",
                     signed_headers, signature);
}

sigv4::CanonicalInput s3_request(std::string method, std::string path, sigv4::Query query,
                                 http::Headers headers, std::string payload_hash) {
  sigv4::CanonicalInput input;
  input.method = std::move(method);
  input.path = std::move(path);
  input.query = std::move(query);
  input.headers = std::move(headers);
  input.payload_hash = std::move(payload_hash);
  return input;
}

} // namespace

TEST_CASE("sigv4: get-vanilla gives the published canonical request, string to sign and "
          "signature") {
  auto s = suite_sign(suite_request("GET", "/", {}));
  CHECK(s.canonical_request == fmt::format("GET\n/\n\nhost:example.amazonaws.com\n"
                                           "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n{}",
                                           k_empty));
  CHECK(s.string_to_sign ==
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
        "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  CHECK(s.scope == "20150830/us-east-1/service/aws4_request");
  CHECK(s.signed_headers == "host;x-amz-date");
  CHECK(s.signature == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  CHECK(s.authorization ==
        suite_authorization("host;x-amz-date",
                            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
}

TEST_CASE("sigv4: get-vanilla-query-order-key-case sorts the query by name") {
  auto s = suite_sign(suite_request("GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}}));
  CHECK(s.canonical_request == fmt::format("GET\n/\nParam1=value1&Param2=value2\n"
                                           "host:example.amazonaws.com\n"
                                           "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n{}",
                                           k_empty));
  CHECK(sigv4::sha256_hex(s.canonical_request) ==
        "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0");
  CHECK(s.string_to_sign ==
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
        "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0");
  CHECK(s.signature == "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST_CASE("sigv4: get-vanilla-query-order-value sorts a repeated name by value") {
  auto s = suite_sign(suite_request("GET", "/", {{"Param1", "value2"}, {"Param1", "value1"}}));
  CHECK(s.canonical_request.find("\nParam1=value1&Param1=value2\n") != std::string::npos);
  CHECK(s.signature == "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694");
}

TEST_CASE("sigv4: get-vanilla-utf8-query encodes a UTF-8 name byte by byte") {
  auto s = suite_sign(suite_request("GET", "/", {{"\xE1\x88\xB4", "bar"}}));
  CHECK(s.canonical_request.find("\n%E1%88%B4=bar\n") != std::string::npos);
  CHECK(s.signature == "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04");
}

TEST_CASE("sigv4: get-unreserved keeps the unreserved characters") {
  const std::string path = "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  auto s = suite_sign(suite_request("GET", path, {}));
  CHECK(s.canonical_request.substr(0, path.size() + 5) == fmt::format("GET\n{}\n", path));
  CHECK(s.signature == "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f");
}

TEST_CASE("sigv4: get-header-value-trim trims values and collapses inner spaces") {
  auto s = suite_sign(
      suite_request("GET", "/", {}, {{"My-Header1", " value1"}, {"My-Header2", "\"a   b   c\""}}));
  CHECK(s.canonical_request ==
        fmt::format("GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\n"
                    "my-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n\n"
                    "host;my-header1;my-header2;x-amz-date\n{}",
                    k_empty));
  CHECK(s.authorization ==
        suite_authorization("host;my-header1;my-header2;x-amz-date",
                            "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"));
}

TEST_CASE("sigv4: get-header-key-duplicate and get-header-value-order join repeats in order") {
  auto duplicate = suite_sign(suite_request(
      "GET", "/", {}, {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}}));
  CHECK(duplicate.canonical_request.find("\nmy-header1:value2,value2,value1\n") !=
        std::string::npos);
  CHECK(duplicate.signature == "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea");

  auto order = suite_sign(suite_request("GET", "/", {},
                                        {{"My-Header1", "value4"},
                                         {"My-Header1", "value1"},
                                         {"My-Header1", "value3"},
                                         {"My-Header1", "value2"}}));
  CHECK(order.signature == "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01");
}

TEST_CASE("sigv4: post-x-www-form-urlencoded signs the content type and the payload hash") {
  auto s = suite_sign(suite_request("POST", "/", {},
                                    {{"Content-Type", "application/x-www-form-urlencoded"}},
                                    "Param1=value1"));
  CHECK(s.canonical_request ==
        "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\n"
        "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
        "content-type;host;x-amz-date\n"
        "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  CHECK(s.string_to_sign ==
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
        "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281");
  CHECK(s.authorization ==
        suite_authorization("content-type;host;x-amz-date",
                            "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"));
}

TEST_CASE("sigv4: the S3 reference's GET Object example with a Range header") {
  auto input = s3_request("GET", "/test.txt", {},
                          {{"Host", "examplebucket.s3.amazonaws.com"},
                           {"Range", "bytes=0-9"},
                           {"x-amz-content-sha256", k_empty},
                           {"x-amz-date", std::string(k_s3_date)}},
                          k_empty);
  auto s = sigv4::sign(input, k_s3_key, k_s3_date, "us-east-1", "s3");
  CHECK(s.canonical_request ==
        fmt::format("GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
                    "x-amz-content-sha256:{}\nx-amz-date:20130524T000000Z\n\n"
                    "host;range;x-amz-content-sha256;x-amz-date\n{}",
                    k_empty, k_empty));
  CHECK(s.string_to_sign ==
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
        "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  CHECK(s.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  CHECK(s.authorization ==
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST_CASE("sigv4: the S3 reference's GET Bucket lifecycle example signs a subresource as name=") {
  auto input = s3_request("GET", "/", {{"lifecycle", ""}},
                          {{"Host", "examplebucket.s3.amazonaws.com"},
                           {"x-amz-date", std::string(k_s3_date)},
                           {"x-amz-content-sha256", k_empty}},
                          k_empty);
  auto s = sigv4::sign(input, k_s3_key, k_s3_date, "us-east-1", "s3");
  CHECK(s.canonical_request.substr(0, 17) == "GET\n/\nlifecycle=\n");
  CHECK(s.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST_CASE("sigv4: the S3 reference's list objects example sorts max-keys before prefix") {
  auto input = s3_request("GET", "/", {{"prefix", "J"}, {"max-keys", "2"}},
                          {{"Host", "examplebucket.s3.amazonaws.com"},
                           {"x-amz-date", std::string(k_s3_date)},
                           {"x-amz-content-sha256", k_empty}},
                          k_empty);
  auto s = sigv4::sign(input, k_s3_key, k_s3_date, "us-east-1", "s3");
  CHECK(s.canonical_request.substr(0, 26) == "GET\n/\nmax-keys=2&prefix=J\n");
  CHECK(s.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST_CASE("sigv4: the S3 reference's PUT Object example encodes $ in the path") {
  const std::string body = "Welcome to Amazon S3.";
  const std::string hash = sigv4::sha256_hex(body);
  CHECK(hash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  auto input = s3_request("PUT", "/test$file.text", {},
                          {{"Host", "examplebucket.s3.amazonaws.com"},
                           {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                           {"x-amz-date", std::string(k_s3_date)},
                           {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                           {"x-amz-content-sha256", hash}},
                          hash);
  auto s = sigv4::sign(input, k_s3_key, k_s3_date, "us-east-1", "s3");
  CHECK(s.canonical_request.substr(0, 22) == "PUT\n/test%24file.text\n");
  CHECK(s.signed_headers == "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  CHECK(s.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST_CASE("sigv4: sign_request takes the URL apart and sets the headers it signs") {
  http::Request request;
  request.method = "GET";
  request.url = "http://examplebucket.s3.amazonaws.com/test.txt";
  request.headers = {{"Range", "bytes=0-9"}, {"Authorization", "stale"}};
  // 2013-05-24T00:00:00Z
  auto at = std::chrono::system_clock::time_point(std::chrono::seconds(1369353600));
  sigv4::sign_request(request, k_s3_key, "us-east-1", "s3", at);
  http::Headers expected = {
      {"Range", "bytes=0-9"},
      {"Host", "examplebucket.s3.amazonaws.com"},
      {"x-amz-date", "20130524T000000Z"},
      {"x-amz-content-sha256", k_empty},
      {"Authorization",
       "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
       "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
       "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"}};
  CHECK(request.headers == expected);

  // A session token is sent and signed as x-amz-security-token; the port
  // stays in Host; an encoded path and a subresource sign decoded.
  http::Request put;
  put.method = "PUT";
  put.url = "http://127.0.0.1:8080/s3/my%20bucket?versioning";
  put.body = "<x/>";
  sigv4::Credentials with_token = k_s3_key;
  with_token.session_token = "session";
  sigv4::sign_request(put, with_token, "eu-west-1", "s3", at);
  REQUIRE(put.headers.size() == 5);
  CHECK(put.headers[0] == std::pair<std::string, std::string>("Host", "127.0.0.1:8080"));
  CHECK(put.headers[2].second == sigv4::sha256_hex("<x/>"));
  CHECK(put.headers[3] == std::pair<std::string, std::string>("x-amz-security-token", "session"));
  sigv4::CanonicalInput input;
  input.method = "PUT";
  input.path = "/s3/my bucket";
  input.query = {{"versioning", ""}};
  input.headers = {put.headers.begin(), put.headers.begin() + 4};
  input.payload_hash = sigv4::sha256_hex("<x/>");
  auto s = sigv4::sign(input, with_token, "20130524T000000Z", "eu-west-1", "s3");
  CHECK(s.canonical_request.substr(0, 32) == "PUT\n/s3/my%20bucket\nversioning=\n");
  CHECK(put.headers[4].second == s.authorization);
  CHECK(s.signed_headers == "host;x-amz-content-sha256;x-amz-date;x-amz-security-token");

  http::Request bad;
  bad.url = "no scheme";
  CHECK_THROWS_AS(sigv4::sign_request(bad, k_s3_key, "us-east-1", "s3", at), std::invalid_argument);
  bad.url = "http://host/a%zz";
  CHECK_THROWS_AS(sigv4::sign_request(bad, k_s3_key, "us-east-1", "s3", at), std::invalid_argument);
}

TEST_CASE("sigv4: URI and query encoding edge cases") {
  CHECK(sigv4::uri_encode("a b/c~-._", true) == "a%20b/c~-._");
  CHECK(sigv4::uri_encode("a b/c", false) == "a%20b%2Fc");
  CHECK(sigv4::uri_encode("a+b=c&d*", false) == "a%2Bb%3Dc%26d%2A");
  CHECK(sigv4::uri_encode("\xC3\xA9", false) == "%C3%A9");
  CHECK(sigv4::canonical_uri("") == "/");
  CHECK(sigv4::canonical_uri("/my_bucket") == "/my_bucket");
  CHECK(sigv4::canonical_uri("//a//b/") == "//a//b/");  // S3: no normalisation

  CHECK(sigv4::canonical_query({{"versioning", ""}}) == "versioning=");
  CHECK(sigv4::canonical_query({{"b", "2"}, {"a", "z"}, {"B", "1"}, {"a", "y"}}) ==
        "B=1&a=y&a=z&b=2");
  CHECK(sigv4::canonical_query({{"q", "a b+c"}}) == "q=a%20b%2Bc");
  CHECK(sigv4::canonical_query({}) == "");

  auto q = sigv4::parse_query("tagging&b=a%20b&c=x+y&&d=1=2");
  REQUIRE(q.has_value());
  sigv4::Query expected = {{"tagging", ""}, {"b", "a b"}, {"c", "x+y"}, {"d", "1=2"}};
  CHECK(*q == expected);
  CHECK_FALSE(sigv4::parse_query("a=%2").has_value());
  CHECK_FALSE(sigv4::parse_query("a=%zz").has_value());
  CHECK(sigv4::percent_decode("%41%2f%").has_value() == false);
  CHECK(sigv4::percent_decode("%41%2f") == std::optional<std::string>("A/"));
}

TEST_CASE("sigv4: digests, base64 and Content-MD5") {
  CHECK(sigv4::sha256_hex("") == k_empty);
  CHECK(sigv4::hex(sigv4::md5("")) == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(sigv4::content_md5("") == "1B2M2Y8AsgTpgAmY7PhCfg==");
  CHECK(sigv4::base64("f") == "Zg==");
  CHECK(sigv4::base64("foobar") == "Zm9vYmFy");
  CHECK(sigv4::amz_date(std::chrono::system_clock::time_point(std::chrono::seconds(1440938160))) ==
        "20150830T123600Z");
}

TEST_CASE("sigv4: parse_authorization takes a header apart and refuses malformed ones") {
  auto a = sigv4::parse_authorization(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
      "SignedHeaders=host;x-amz-date, Signature=5fa0");
  REQUIRE(a.has_value());
  CHECK(a->access_key == "AKIDEXAMPLE");
  CHECK(a->date == "20150830");
  CHECK(a->region == "us-east-1");
  CHECK(a->service == "service");
  CHECK(a->signed_headers == std::vector<std::string>{"host", "x-amz-date"});
  CHECK(a->signature == "5fa0");

  CHECK_FALSE(sigv4::parse_authorization("Bearer x").has_value());
  CHECK_FALSE(sigv4::parse_authorization("AWS4-HMAC-SHA256").has_value());
  CHECK_FALSE(sigv4::parse_authorization(
                  "AWS4-HMAC-SHA256 Credential=AK/20150830/r/s/aws4_request, Signature=ab")
                  .has_value());
  CHECK_FALSE(sigv4::parse_authorization("AWS4-HMAC-SHA256 Credential=AK/2015/r/s/aws4_request, "
                                         "SignedHeaders=host, Signature=ab")
                  .has_value());
  CHECK_FALSE(sigv4::parse_authorization("AWS4-HMAC-SHA256 Credential=AK/20150830/r/s/x, "
                                         "SignedHeaders=host, Signature=ab")
                  .has_value());
  CHECK_FALSE(sigv4::parse_authorization("AWS4-HMAC-SHA256 Credential=AK/20150830/r/s/aws4_request, "
                                         "SignedHeaders=host;;date, Signature=ab")
                  .has_value());
  CHECK(sigv4::constant_time_equal("abc", "abc"));
  CHECK_FALSE(sigv4::constant_time_equal("abc", "abd"));
  CHECK_FALSE(sigv4::constant_time_equal("abc", "ab"));
}
