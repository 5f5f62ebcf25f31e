#include "sandbox/auth.hpp"

#include "providers/sigv4.hpp"

#include <fmt/format.h>

#include <optional>

namespace stove::sandbox {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

struct Credential {
  std::string scheme; // lower case
  std::string_view value;
};

// "SCHEME VALUE": the scheme up to the first space, the value from the
// next character that is no space to the last that is neither a space nor
// a tab; nullopt without a space or a value.
std::optional<Credential> parse_credential(std::string_view header) {
  auto space = header.find(' ');
  if (space == std::string_view::npos) {
    return std::nullopt;
  }
  auto start = header.find_first_not_of(' ', space);
  if (start == std::string_view::npos) {
    return std::nullopt;
  }
  auto end = header.find_last_not_of(" \t");
  return Credential{lower(header.substr(0, space)), header.substr(start, end + 1 - start)};
}

} // namespace

bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

bool bearer_authorized(std::string_view header, const std::string& token) {
  auto credential = parse_credential(header);
  return credential && credential->scheme == "bearer" && same_secret(credential->value, token);
}

bool bearer_or_basic_authorized(std::string_view header, const std::string& token) {
  auto credential = parse_credential(header);
  if (!credential) {
    return false;
  }
  if (credential->scheme == "bearer") {
    return same_secret(credential->value, token);
  }
  if (credential->scheme == "basic") {
    return same_secret(credential->value,
                       providers::sigv4::base64(fmt::format("sandbox:{}", token)));
  }
  return false;
}

} // namespace stove::sandbox
