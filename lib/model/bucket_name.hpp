#pragma once

// S3 bucket naming rules, so that a bad name is reported at validate time
// with its position rather than by the server at apply time.
//
// Current rules (every S3 region since March 2018, and s3rver): 3 to 63
// characters; lowercase letters, digits, '.' and '-'; starting and ending
// with a letter or digit; no two adjacent periods; not shaped like an IP
// address; not starting with "xn--", "sthree-" or "amzn-s3-demo-", and not
// ending with "-s3alias", "--ol-s3", ".mrap", "--x-s3" or "--table-s3".
//
// Legacy rules (buckets made in us-east-1 before March 2018, and what the
// sandbox still accepts): 3 to 255 letters of either case, digits, '.', '-'
// and '_'. The design's example bucket `my_bucket` is such a name.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace stove {

enum class BucketNameRules { current, legacy };

struct BucketNameProblem {
  size_t offset = 0;  // byte offset in the name of the character at fault
  std::string message;
};

// nullopt when `name` is valid under `rules`.
std::optional<BucketNameProblem> check_bucket_name(std::string_view name, BucketNameRules rules);

// `name` lowered, with anything else invalid turned into '-': a suggestion.
std::string suggest_bucket_name(std::string_view name);

} // namespace stove
