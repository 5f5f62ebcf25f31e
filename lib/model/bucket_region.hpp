#pragma once

// The bucket regions that cannot work with a provider, found at validate
// time rather than refused by the server at apply time.
//
// An `s3` provider whose endpoint is one of AWS's (model/aws_s3_endpoint.hpp)
// signs its requests for its `region`, which must then be the endpoint's
// (elsewhere AWS answers AuthorizationHeaderMalformed). Its buckets may be
// in any region of the endpoint's partition, each reached at its own
// region's endpoint; a region of another partition (cn-north-1 from
// amazonaws.com) is out of reach, since credentials do not cross
// partitions, and a region must be a region code (eu-west-1, not EU).
// Other S3 servers decide for themselves, at apply time.
//
// The sandbox takes region codes, and legacy bucket names (my_bucket) only
// in us-east-1, where AWS ever had them.

#include "model/provider.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace stove {

// Why a bucket named `name` cannot be in `region` with `provider`; nullopt
// when it can, or when only the server can tell.
std::optional<std::string> check_bucket_region(const ProviderConfig& provider,
                                               std::string_view name, std::string_view region);

// Why an `s3` provider's region contradicts its AWS endpoint; nullopt when
// it does not.
std::optional<std::string> check_provider_region(const ProviderConfig& provider);

} // namespace stove
