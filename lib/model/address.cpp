#include "model/address.hpp"

#include <fmt/format.h>

namespace stove {

namespace {

bool is_bare_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '-';
}

bool is_kind_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

std::string kind_list() {
  std::string out;
  for (const auto& k : all_kinds()) {
    if (!out.empty()) {
      out += ", ";
    }
    out += k.name;
  }
  return out;
}

// Records why parsing failed, when the caller asked. Returns false, for
// the parse helpers' `return fail(...)`.
bool fail(AddressError* error, size_t offset, std::string message) {
  if (error != nullptr) {
    *error = AddressError{offset, std::move(message)};
  }
  return false;
}

// The key of KIND["KEY"], from `i` at the '[' to just past the ']'.
bool parse_quoted_key(std::string_view text, size_t& i, std::string& key, AddressError* error) {
  ++i;
  if (i >= text.size() || text[i] != '"') {
    return fail(error, i, "expected '\"' after '['");
  }
  ++i;
  bool closed = false;
  while (i < text.size()) {
    char c = text[i];
    if (c == '\\') {
      if (i + 1 >= text.size() || (text[i + 1] != '"' && text[i + 1] != '\\')) {
        return fail(error, i, "only \\\" and \\\\ may be escaped in an address");
      }
      key += text[i + 1];
      i += 2;
      continue;
    }
    if (c == '"') {
      closed = true;
      ++i;
      break;
    }
    key += c;
    ++i;
  }
  if (!closed) {
    return fail(error, text.size(), "missing closing '\"'");
  }
  if (i >= text.size() || text[i] != ']') {
    return fail(error, i, "expected ']' after the quoted key");
  }
  ++i;
  return true;
}

// The key of KIND.KEY, from `i` at the '.' to its end.
bool parse_bare_key(std::string_view text, size_t& i, std::string& key, AddressError* error) {
  ++i;
  size_t key_start = i;
  while (i < text.size() && is_bare_char(text[i])) {
    ++i;
  }
  if (i == key_start) {
    return fail(error, key_start, "expected a key after '.' (quote keys with other characters: "
                                  "kind[\"my key\"])");
  }
  key = std::string(text.substr(key_start, i - key_start));
  return true;
}

// One segment, KIND["KEY"] or KIND.KEY, from `i` to just past it.
bool parse_segment(std::string_view text, size_t& i, AddressSegment& segment,
                   AddressError* error) {
  size_t kind_start = i;
  while (i < text.size() && is_kind_char(text[i])) {
    ++i;
  }
  std::string_view kind_text = text.substr(kind_start, i - kind_start);
  if (kind_text.empty()) {
    return fail(error, kind_start, "expected a resource kind (" + kind_list() + ")");
  }
  auto kind = find_kind(kind_text);
  if (!kind) {
    return fail(error, kind_start,
                fmt::format("unknown resource kind \"{}\" (kinds: {})", kind_text, kind_list()));
  }
  segment.kind = *kind;
  if (i < text.size() && text[i] == '[') {
    if (!parse_quoted_key(text, i, segment.key, error)) {
      return false;
    }
  } else if (i < text.size() && text[i] == '.') {
    if (!parse_bare_key(text, i, segment.key, error)) {
      return false;
    }
  } else {
    return fail(error, i, fmt::format("expected [\"KEY\"] or .KEY after \"{}\"", kind_text));
  }
  if (segment.key.empty()) {
    return fail(error, kind_start, "a key cannot be empty");
  }
  return true;
}

// Whether `segment`, which starts at `offset`, may follow the segments of
// `address` (a machine sits under a cloud space, and so on).
bool check_nesting(const Address& address, const AddressSegment& segment, size_t offset,
                   AddressError* error) {
  const auto& schema = schema_of(segment.kind);
  if (address.segments.empty()) {
    if (schema.parent) {
      return fail(error, offset,
                  fmt::format("a {} must be addressed inside its {}, e.g. "
                              "{}[\"...\"].{}[\"{}\"]",
                              schema.name, to_string(*schema.parent), to_string(*schema.parent),
                              schema.name, segment.key));
    }
  } else if (!schema.parent || *schema.parent != address.segments.back().kind) {
    return fail(error, offset, fmt::format("a {} cannot be inside a {}", schema.name,
                                           to_string(address.segments.back().kind)));
  }
  return true;
}

} // namespace

void append_segment(std::string& out, Kind kind, std::string_view key) {
  out += to_string(kind);
  out += "[\"";
  for (char c : key) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  out += "\"]";
}

std::string Address::str() const {
  std::string out;
  for (const auto& s : segments) {
    if (!out.empty()) {
      out += '.';
    }
    append_segment(out, s.kind, s.key);
  }
  return out;
}

Address Address::parent() const {
  Address p;
  if (!segments.empty()) {
    p.segments.assign(segments.begin(), segments.end() - 1);
  }
  return p;
}

std::optional<Address> parse_address(std::string_view text, AddressError* error) {
  if (text.empty()) {
    fail(error, 0, "an address cannot be empty");
    return std::nullopt;
  }
  Address address;
  size_t i = 0;
  while (true) {
    size_t segment_start = i;
    AddressSegment segment{};
    if (!parse_segment(text, i, segment, error) ||
        !check_nesting(address, segment, segment_start, error)) {
      return std::nullopt;
    }
    address.segments.push_back(std::move(segment));

    if (i == text.size()) {
      return address;
    }
    if (text[i] != '.') {
      fail(error, i, "expected '.' between address segments (quote keys that hold spaces or "
                     "other characters: kind[\"my key\"])");
      return std::nullopt;
    }
    ++i;
  }
}

} // namespace stove
