#include "model/aws_s3_endpoint.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace stove;

namespace {

std::string named(std::string_view endpoint) {
  auto e = parse_aws_s3_endpoint(endpoint);
  return e ? e->region + " " + e->partition : "not AWS";
}

} // namespace

TEST_SUITE("AWS S3 endpoints") {
  TEST_CASE("AWS's S3 hosts name their region, and other hosts are not AWS's") {
    CHECK(named("https://s3.amazonaws.com") == "us-east-1 aws");
    CHECK(named("https://s3-external-1.amazonaws.com") == "us-east-1 aws");
    CHECK(named("https://s3.eu-west-1.amazonaws.com") == "eu-west-1 aws");
    CHECK(named("https://S3.EU-WEST-1.amazonaws.com/") == "eu-west-1 aws");
    CHECK(named("https://s3-eu-west-1.amazonaws.com") == "eu-west-1 aws");
    CHECK(named("https://s3.dualstack.ap-south-1.amazonaws.com:443/prefix") == "ap-south-1 aws");
    CHECK(named("https://s3-fips.us-gov-west-1.amazonaws.com") == "us-gov-west-1 aws-us-gov");
    CHECK(named("https://s3-fips.dualstack.us-east-2.amazonaws.com") == "us-east-2 aws");
    CHECK(named("https://s3.cn-north-1.amazonaws.com.cn") == "cn-north-1 aws-cn");
    CHECK(named("https://user@s3.eu-central-1.amazonaws.com") == "eu-central-1 aws");
    CHECK(named("http://127.0.0.1:9000") == "not AWS");
    CHECK(named("https://minio.example.com/s3") == "not AWS");
    CHECK(named("https://bucket.s3.eu-west-1.amazonaws.com") == "not AWS");
    CHECK(named("https://s3-accesspoint.eu-west-1.amazonaws.com") == "not AWS");
    CHECK(named("https://s3.amazonaws.com.cn") == "not AWS");
    CHECK(named("https://ec2.eu-west-1.amazonaws.com") == "not AWS");
    CHECK(named("s3.amazonaws.com") == "not AWS");
  }

  TEST_CASE("requests for another region go to that region's endpoint, in the same flavour") {
    CHECK(aws_s3_endpoint_for_region("https://s3.eu-west-1.amazonaws.com", "us-west-2") ==
          "https://s3.us-west-2.amazonaws.com");
    CHECK(aws_s3_endpoint_for_region("https://s3.amazonaws.com", "eu-west-1") ==
          "https://s3.eu-west-1.amazonaws.com");
    CHECK(aws_s3_endpoint_for_region("https://s3.amazonaws.com", "us-east-1") ==
          "https://s3.amazonaws.com");
    CHECK(aws_s3_endpoint_for_region("https://s3-eu-west-1.amazonaws.com:443/p", "ap-south-1") ==
          "https://s3.ap-south-1.amazonaws.com:443/p");
    CHECK(aws_s3_endpoint_for_region("https://s3.dualstack.eu-west-1.amazonaws.com",
                                     "eu-central-1") ==
          "https://s3.dualstack.eu-central-1.amazonaws.com");
    CHECK(aws_s3_endpoint_for_region("https://s3-fips.us-east-1.amazonaws.com", "us-west-2") ==
          "https://s3-fips.us-west-2.amazonaws.com");
    CHECK(aws_s3_endpoint_for_region("https://s3.cn-north-1.amazonaws.com.cn", "cn-northwest-1") ==
          "https://s3.cn-northwest-1.amazonaws.com.cn");
    // Not AWS's, or no region: as given.
    CHECK(aws_s3_endpoint_for_region("http://127.0.0.1:4568/s3", "eu-west-1") ==
          "http://127.0.0.1:4568/s3");
    CHECK(aws_s3_endpoint_for_region("https://s3.eu-west-1.amazonaws.com", "not a region") ==
          "https://s3.eu-west-1.amazonaws.com");
  }

  TEST_CASE("partitions and region shapes") {
    CHECK(aws_partition("eu-west-1") == "aws");
    CHECK(aws_partition("cn-northwest-1") == "aws-cn");
    CHECK(aws_partition("us-gov-east-1") == "aws-us-gov");
    CHECK(aws_partition("us-iso-east-1") == "aws-iso");
    CHECK(aws_partition("us-isob-east-1") == "aws-iso-b");
    CHECK(aws_partition("eusc-de-east-1") == "aws-eusc");
    for (const char* region :
         {"us-east-1", "ap-southeast-5", "us-gov-west-1", "eusc-de-east-1", "il-central-1"}) {
      CHECK_MESSAGE(aws_region_shaped(region), region);
    }
    for (const char* region : {"", "EU", "eu", "us_east_1", "US-EAST-1", "eu-west", "east-1x",
                               "-eu-west-1", "eu--west-1", "eu-west-", "1-2"}) {
      CHECK_MESSAGE(!aws_region_shaped(region), region);
    }
  }
}
