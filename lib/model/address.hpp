#pragma once

#include "model/kind.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stove {

// A resource address names one resource, from the top of its nesting down:
//
//   cloud_space["My VDC"]
//   cloud_space["My VDC"].machine["drupal"]
//   cloud_space["My VDC"].machine["drupal"].backup["nightly"]
//   bucket["my_bucket"]
//
// Each segment is KIND["KEY"]; KEY is the resource's `key:`, or its name.
// Inside the quotes, \" and \\ escape a quote and a backslash. When KEY is
// made only of letters, digits, '_' and '-', KIND.KEY is accepted too
// (bucket.assets), and kind aliases (s3, bacula) are accepted for the kind.
// The canonical form, which stove prints, always quotes.
struct AddressSegment {
  Kind kind;
  std::string key;
  friend bool operator==(const AddressSegment&, const AddressSegment&) = default;
};

struct Address {
  std::vector<AddressSegment> segments;

  std::string str() const;
  // The address without its last segment; empty for a top-level resource.
  Address parent() const;
  friend bool operator==(const Address&, const Address&) = default;
};

// Where and why an address failed to parse; `offset` counts bytes into the text.
struct AddressError {
  size_t offset = 0;
  std::string message;
};

// Parses and checks nesting (a machine sits under a cloud space, and so on).
std::optional<Address> parse_address(std::string_view text, AddressError* error = nullptr);

// KIND["KEY"] with escapes, appended to `out`.
void append_segment(std::string& out, Kind kind, std::string_view key);

} // namespace stove
