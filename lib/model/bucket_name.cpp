#include "model/bucket_name.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace stove {

namespace {

bool lower_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool digit(char c) { return c >= '0' && c <= '9'; }

std::string describe(char c) {
  if (c == ' ') {
    return "a space";
  }
  if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
    return "a non-ASCII or control character";
  }
  return fmt::format("'{}'", c);
}

// Four dot-separated groups of digits: 192.168.5.4.
bool ip_shaped(std::string_view name) {
  int groups = 1;
  size_t run = 0;
  for (char c : name) {
    if (c == '.') {
      if (run == 0) {
        return false;
      }
      ++groups;
      run = 0;
    } else if (digit(c)) {
      ++run;
    } else {
      return false;
    }
  }
  return groups == 4 && run > 0;
}

constexpr std::array<std::string_view, 3> k_reserved_prefixes = {"xn--", "sthree-",
                                                                 "amzn-s3-demo-"};
constexpr std::array<std::string_view, 5> k_reserved_suffixes = {"-s3alias", "--ol-s3", ".mrap",
                                                                 "--x-s3", "--table-s3"};

std::optional<BucketNameProblem> current(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) {
    return BucketNameProblem{0, fmt::format("must be 3 to 63 characters long, not {}",
                                            name.size())};
  }
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (lower_or_digit(c) || c == '.' || c == '-') {
      continue;
    }
    std::string why = c >= 'A' && c <= 'Z' ? std::string("uppercase letters are")
                                             : fmt::format("{} is", describe(c));
    return BucketNameProblem{
        i, fmt::format("may use only lowercase letters, digits, '.' and '-': {} not allowed "
                       "(S3 has refused other names since March 2018; try \"{}\")",
                       why, suggest_bucket_name(name))};
  }
  if (!lower_or_digit(name.front())) {
    return BucketNameProblem{0, "must start with a lowercase letter or a digit"};
  }
  if (!lower_or_digit(name.back())) {
    return BucketNameProblem{name.size() - 1, "must end with a lowercase letter or a digit"};
  }
  if (size_t at = name.find(".."); at != std::string_view::npos) {
    return BucketNameProblem{at, "cannot contain two adjacent periods"};
  }
  if (ip_shaped(name)) {
    return BucketNameProblem{0, "cannot be formatted as an IP address"};
  }
  for (auto prefix : k_reserved_prefixes) {
    if (name.starts_with(prefix)) {
      return BucketNameProblem{0, fmt::format("cannot start with \"{}\", which S3 reserves",
                                              prefix)};
    }
  }
  for (auto suffix : k_reserved_suffixes) {
    if (name.ends_with(suffix)) {
      return BucketNameProblem{name.size() - suffix.size(),
                               fmt::format("cannot end with \"{}\", which S3 reserves", suffix)};
    }
  }
  return std::nullopt;
}

std::optional<BucketNameProblem> legacy(std::string_view name) {
  if (name.size() < 3 || name.size() > 255) {
    return BucketNameProblem{0, fmt::format("must be 3 to 255 characters long, not {}",
                                            name.size())};
  }
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (lower_or_digit(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '-' || c == '_') {
      continue;
    }
    return BucketNameProblem{
        i, fmt::format("may use only letters, digits, '.', '-' and '_': {} is not allowed "
                       "(try \"{}\")",
                       describe(c), suggest_bucket_name(name))};
  }
  return std::nullopt;
}

} // namespace

std::optional<BucketNameProblem> check_bucket_name(std::string_view name, BucketNameRules rules) {
  return rules == BucketNameRules::current ? current(name) : legacy(name);
}

std::string suggest_bucket_name(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else if (lower_or_digit(c) || c == '.' || c == '-') {
      out += c;
    } else {
      out += '-';
    }
  }
  return out;
}

} // namespace stove
