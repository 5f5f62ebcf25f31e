#include "model/bucket_region.hpp"

#include "model/aws_s3_endpoint.hpp"
#include "model/bucket_name.hpp"

#include <fmt/format.h>

namespace stove {

namespace {

std::string setting(const ProviderConfig& provider, const char* name, std::string fallback) {
  auto it = provider.settings.find(name);
  return it != provider.settings.end() && it->is_string() ? it->get<std::string>() : fallback;
}

std::string not_a_region(std::string_view region) {
  return fmt::format("region \"{}\" is not a region code such as eu-west-1{}", region,
                     region == "EU" ? " (EU is S3's old name for eu-west-1)" : "");
}

} // namespace

std::optional<std::string> check_bucket_region(const ProviderConfig& provider,
                                               std::string_view name, std::string_view region) {
  if (region.empty()) {
    return std::nullopt;
  }
  if (provider.type == "sandbox") {
    if (!aws_region_shaped(region)) {
      return not_a_region(region);
    }
    if (region != "us-east-1" && check_bucket_name(name, BucketNameRules::current)) {
      return fmt::format("bucket name \"{}\" follows S3's legacy rules, which only us-east-1 "
                         "ever took; region {} needs a name under S3's current rules",
                         name, region);
    }
    return std::nullopt;
  }
  if (provider.type != "s3") {
    return std::nullopt;
  }
  auto endpoint = parse_aws_s3_endpoint(provider.endpoint);
  if (!endpoint) {
    return std::nullopt;
  }
  if (!aws_region_shaped(region)) {
    return not_a_region(region);
  }
  if (aws_partition(region) != endpoint->partition) {
    return fmt::format("region {} is in AWS partition {}, which provider \"{}\" (endpoint {}, "
                       "partition {}) cannot reach: credentials do not cross partitions; give "
                       "the bucket a provider whose endpoint is in {}",
                       region, aws_partition(region), provider.name, provider.endpoint,
                       endpoint->partition, aws_partition(region));
  }
  return std::nullopt;
}

std::optional<std::string> check_provider_region(const ProviderConfig& provider) {
  if (provider.type != "s3") {
    return std::nullopt;
  }
  auto endpoint = parse_aws_s3_endpoint(provider.endpoint);
  const std::string region = setting(provider, "region", "us-east-1");
  if (!endpoint || endpoint->region == region) {
    return std::nullopt;
  }
  return fmt::format("provider \"{}\": region {} is not the region of endpoint {} ({}); AWS "
                     "refuses requests signed for another region there "
                     "(AuthorizationHeaderMalformed); set region: {}",
                     provider.name, region, provider.endpoint, endpoint->region, endpoint->region);
}

} // namespace stove
