#pragma once

// AWS's S3 endpoints and region names, as far as stove must know them.
//
// A path-style request about a bucket must reach the endpoint of the
// bucket's region and be signed for that region: another region's endpoint
// answers 301 PermanentRedirect (with x-amz-bucket-region), and a signature
// for another region is refused with 400 AuthorizationHeaderMalformed. So a
// bucket whose region differs from its provider's is addressed at its own
// region's endpoint when the provider's endpoint is one of AWS's (same
// scheme, flavour and path: s3.eu-west-1.amazonaws.com becomes
// s3.us-west-2.amazonaws.com, s3.dualstack.R... stays dualstack). Any other
// endpoint (the sandbox, MinIO, Ceph) is taken to serve every region it
// serves at the one address, and is used as given.

#include <optional>
#include <string>
#include <string_view>

namespace stove {

struct AwsS3Endpoint {
  std::string region;     // us-east-1 for the global s3.amazonaws.com
  std::string partition;  // aws, aws-cn, aws-us-gov, ... (aws_partition of region)
};

// What an endpoint URL (http(s)://host[:port][/path]) names when its host is
// one of AWS's S3 hosts: s3.amazonaws.com and s3-external-1.amazonaws.com
// (us-east-1); s3.R, s3-R, s3.dualstack.R, s3-fips.R and
// s3-fips.dualstack.R under amazonaws.com, or amazonaws.com.cn for China.
// nullopt for any other host.
std::optional<AwsS3Endpoint> parse_aws_s3_endpoint(std::string_view endpoint);

// The endpoint to send requests signed for `region` to: an AWS S3 endpoint
// of another region becomes that region's (s3.REGION..., keeping dualstack
// and FIPS, the scheme, port and path); any other endpoint is returned as is.
std::string aws_s3_endpoint_for_region(std::string_view endpoint, std::string_view region);

// The AWS partition a region belongs to, by its prefix: aws-cn (cn-),
// aws-us-gov (us-gov-), aws-iso (us-iso-), aws-iso-b (us-isob-), aws-iso-e
// (eu-isoe-), aws-iso-f (us-isof-), aws-eusc (eusc-); aws otherwise.
// Credentials of one partition are unknown in the others.
std::string aws_partition(std::string_view region);

// Whether `region` is shaped like an AWS region code: lowercase words
// joined by '-', ending in a number (us-east-1, us-gov-west-1,
// eusc-de-east-1).
bool aws_region_shaped(std::string_view region);

} // namespace stove
