#include "model/bucket_name.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace stove;

namespace {

std::string check(std::string_view name, BucketNameRules rules = BucketNameRules::current) {
  auto problem = check_bucket_name(name, rules);
  return problem ? std::to_string(problem->offset) + ": " + problem->message : "ok";
}

} // namespace

TEST_SUITE("bucket names") {
  TEST_CASE("S3's current rules") {
    for (const char* name : {"abc", "my-bucket", "docexamplebucket1", "log.example.com", "a1b",
                             "1.2.3", "b-.-c"}) {
      CAPTURE(name);
      CHECK(check(name) == "ok");
    }
    CHECK(check(std::string(63, 'a')) == "ok");
    CHECK(check("ab") == "0: must be 3 to 63 characters long, not 2");
    CHECK(check(std::string(64, 'a')) == "0: must be 3 to 63 characters long, not 64");
    CHECK(check("my_bucket") ==
          "2: may use only lowercase letters, digits, '.' and '-': '_' is not allowed (S3 has "
          "refused other names since March 2018; try \"my-bucket\")");
    CHECK(check("MyBucket") ==
          "0: may use only lowercase letters, digits, '.' and '-': uppercase letters are not "
          "allowed (S3 has refused other names since March 2018; try \"mybucket\")");
    CHECK(check("my bucket").starts_with("2: may use only lowercase letters, digits, '.' and '-': "
                                         "a space is not allowed"));
    CHECK(check("-abc") == "0: must start with a lowercase letter or a digit");
    CHECK(check("abc.") == "3: must end with a lowercase letter or a digit");
    CHECK(check("a..b") == "1: cannot contain two adjacent periods");
    CHECK(check("192.168.5.4") == "0: cannot be formatted as an IP address");
    CHECK(check("xn--abc") == "0: cannot start with \"xn--\", which S3 reserves");
    CHECK(check("sthree-data") == "0: cannot start with \"sthree-\", which S3 reserves");
    CHECK(check("data-s3alias") == "4: cannot end with \"-s3alias\", which S3 reserves");
    CHECK(check("data--ol-s3") == "4: cannot end with \"--ol-s3\", which S3 reserves");
  }

  TEST_CASE("the legacy us-east-1 rules, which the sandbox keeps, allow the design's my_bucket") {
    CHECK(check("my_bucket", BucketNameRules::legacy) == "ok");
    CHECK(check("My_Bucket.2017", BucketNameRules::legacy) == "ok");
    CHECK(check("ab", BucketNameRules::legacy) == "0: must be 3 to 255 characters long, not 2");
    CHECK(check("my/bucket", BucketNameRules::legacy) ==
          "2: may use only letters, digits, '.', '-' and '_': '/' is not allowed (try \"my-bucket\")");
  }
}
