#include "model/aws_s3_endpoint.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <utility>

namespace stove {

namespace {

struct HostParts {
  std::string_view before;  // "https://"
  std::string_view host;    // "s3.eu-west-1.amazonaws.com"
  std::string_view after;   // ":443/prefix"
};

// Takes http(s)://[user@]host[:port][/path] apart; nullopt without a host.
std::optional<HostParts> split_url(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) {
    return std::nullopt;
  }
  size_t start = scheme + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string_view authority = url.substr(start, end == std::string_view::npos
                                                     ? std::string_view::npos
                                                     : end - start);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    start += at + 1;
    authority.remove_prefix(at + 1);
  }
  size_t colon = authority.find(':');
  std::string_view host = authority.substr(0, colon);
  if (host.empty()) {
    return std::nullopt;
  }
  return HostParts{url.substr(0, start), host, url.substr(start + host.size())};
}

std::string lowered(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; });
  return out;
}

// An AWS S3 host: "s3.dualstack" + "." + region + ".amazonaws.com".
struct AwsHost {
  std::string flavour;  // s3, s3.dualstack, s3-fips, s3-fips.dualstack
  std::string region;
  std::string suffix;   // .amazonaws.com or .amazonaws.com.cn
};

std::optional<AwsHost> parse_host(std::string_view host_text) {
  const std::string host = lowered(host_text);
  AwsHost out;
  std::string_view label = host;
  for (std::string_view suffix : {".amazonaws.com.cn", ".amazonaws.com"}) {
    if (label.ends_with(suffix)) {
      out.suffix = std::string(suffix);
      label.remove_suffix(suffix.size());
      break;
    }
  }
  if (out.suffix.empty()) {
    return std::nullopt;
  }
  out.flavour = "s3";
  if (out.suffix == ".amazonaws.com" && (label == "s3" || label == "s3-external-1")) {
    out.region = "us-east-1";
    return out;
  }
  static constexpr std::array<std::string_view, 4> k_flavours = {
      "s3-fips.dualstack", "s3.dualstack", "s3-fips", "s3"};
  for (std::string_view flavour : k_flavours) {
    if (label.size() > flavour.size() + 1 && label.starts_with(flavour) &&
        label[flavour.size()] == '.') {
      std::string_view region = label.substr(flavour.size() + 1);
      if (!aws_region_shaped(region)) {
        return std::nullopt;
      }
      out.flavour = std::string(flavour);
      out.region = std::string(region);
      return out;
    }
  }
  // The legacy dash form, s3-eu-west-1.amazonaws.com.
  if (label.starts_with("s3-") && aws_region_shaped(label.substr(3))) {
    out.region = std::string(label.substr(3));
    return out;
  }
  return std::nullopt;
}

} // namespace

std::optional<AwsS3Endpoint> parse_aws_s3_endpoint(std::string_view endpoint) {
  auto parts = split_url(endpoint);
  if (!parts) {
    return std::nullopt;
  }
  auto host = parse_host(parts->host);
  if (!host) {
    return std::nullopt;
  }
  return AwsS3Endpoint{host->region, aws_partition(host->region)};
}

std::string aws_s3_endpoint_for_region(std::string_view endpoint, std::string_view region) {
  auto parts = split_url(endpoint);
  auto host = parts ? parse_host(parts->host) : std::nullopt;
  if (!host || host->region == region || !aws_region_shaped(region)) {
    return std::string(endpoint);
  }
  return fmt::format("{}{}.{}{}{}", parts->before, host->flavour, region, host->suffix,
                     parts->after);
}

std::string aws_partition(std::string_view region) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> k_prefixes = {{
      {"cn-", "aws-cn"},
      {"us-gov-", "aws-us-gov"},
      {"us-isob-", "aws-iso-b"},
      {"us-isof-", "aws-iso-f"},
      {"us-iso-", "aws-iso"},
      {"eu-isoe-", "aws-iso-e"},
      {"eusc-", "aws-eusc"},
  }};
  for (const auto& [prefix, partition] : k_prefixes) {
    if (region.starts_with(prefix)) {
      return std::string(partition);
    }
  }
  return "aws";
}

bool aws_region_shaped(std::string_view region) {
  // word(-word)+-digits, words of lowercase letters.
  size_t dash = region.rfind('-');
  if (dash == std::string_view::npos || dash + 1 == region.size()) {
    return false;
  }
  std::string_view number = region.substr(dash + 1);
  if (!std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  std::string_view words = region.substr(0, dash);
  if (words.empty() || words.front() == '-' || words.back() == '-' ||
      words.find("--") != std::string_view::npos || words.find('-') == std::string_view::npos) {
    return false;
  }
  return std::all_of(words.begin(), words.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || c == '-'; });
}

} // namespace stove
