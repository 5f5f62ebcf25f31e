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
  auto fail = [&](size_t offset, std::string message) -> std::optional<Address> {
    if (error != nullptr) {
      *error = AddressError{offset, std::move(message)};
    }
    return std::nullopt;
  };

  Address address;
  size_t i = 0;
  if (text.empty()) {
    return fail(0, "an address cannot be empty");
  }
  while (true) {
    size_t kind_start = i;
    while (i < text.size() && is_kind_char(text[i])) {
      ++i;
    }
    std::string_view kind_text = text.substr(kind_start, i - kind_start);
    if (kind_text.empty()) {
      return fail(kind_start, "expected a resource kind (" + kind_list() + ")");
    }
    auto kind = find_kind(kind_text);
    if (!kind) {
      return fail(kind_start,
                  fmt::format("unknown resource kind \"{}\" (kinds: {})", kind_text, kind_list()));
    }
    std::string key;
    if (i < text.size() && text[i] == '[') {
      ++i;
      if (i >= text.size() || text[i] != '"') {
        return fail(i, "expected '\"' after '['");
      }
      ++i;
      bool closed = false;
      while (i < text.size()) {
        char c = text[i];
        if (c == '\\') {
          if (i + 1 >= text.size() || (text[i + 1] != '"' && text[i + 1] != '\\')) {
            return fail(i, "only \\\" and \\\\ may be escaped in an address");
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
        return fail(text.size(), "missing closing '\"'");
      }
      if (i >= text.size() || text[i] != ']') {
        return fail(i, "expected ']' after the quoted key");
      }
      ++i;
    } else if (i < text.size() && text[i] == '.') {
      ++i;
      size_t key_start = i;
      while (i < text.size() && is_bare_char(text[i])) {
        ++i;
      }
      if (i == key_start) {
        return fail(key_start, "expected a key after '.' (quote keys with other characters: "
                               "kind[\"my key\"])");
      }
      key = std::string(text.substr(key_start, i - key_start));
    } else {
      return fail(i, fmt::format("expected [\"KEY\"] or .KEY after \"{}\"", kind_text));
    }
    if (key.empty()) {
      return fail(kind_start, "a key cannot be empty");
    }

    const auto& schema = schema_of(*kind);
    if (address.segments.empty()) {
      if (schema.parent) {
        return fail(kind_start, fmt::format("a {} must be addressed inside its {}, e.g. "
                                            "{}[\"...\"].{}[\"{}\"]",
                                            schema.name, to_string(*schema.parent),
                                            to_string(*schema.parent), schema.name, key));
      }
    } else if (!schema.parent || *schema.parent != address.segments.back().kind) {
      return fail(kind_start, fmt::format("a {} cannot be inside a {}", schema.name,
                                          to_string(address.segments.back().kind)));
    }
    address.segments.push_back({*kind, std::move(key)});

    if (i == text.size()) {
      return address;
    }
    if (text[i] != '.') {
      return fail(i, "expected '.' between address segments (quote keys that hold spaces or "
                     "other characters: kind[\"my key\"])");
    }
    ++i;
  }
}

} // namespace stove
