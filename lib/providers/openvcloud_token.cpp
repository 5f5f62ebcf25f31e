#include "providers/openvcloud_token.hpp"

#include "http/client.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdint>

namespace stove::providers::openvcloud {

namespace {

bool is_base64url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Decodes unpadded base64url (padding tolerated); nullopt on any other
// character or an impossible length.
std::optional<std::string> base64url_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') {
    text.remove_suffix(1);
  }
  if (text.size() % 4 == 1) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    uint32_t value = 0;
    if (c >= 'A' && c <= 'Z') {
      value = static_cast<uint32_t>(c - 'A');
    } else if (c >= 'a' && c <= 'z') {
      value = static_cast<uint32_t>(c - 'a' + 26);
    } else if (c >= '0' && c <= '9') {
      value = static_cast<uint32_t>(c - '0' + 52);
    } else if (c == '-') {
      value = 62;
    } else if (c == '_') {
      value = 63;
    } else {
      return std::nullopt;
    }
    bits = (bits << 6) | value;
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  return out;
}

std::string_view trimmed(std::string_view text) {
  constexpr std::string_view k_space = " \t\r\n";
  auto start = text.find_first_not_of(k_space);
  if (start == std::string_view::npos) {
    return {};
  }
  auto end = text.find_last_not_of(k_space);
  return text.substr(start, end + 1 - start);
}

} // namespace

std::string exchange_form(std::string_view client_id, std::string_view client_secret) {
  return fmt::format("grant_type=client_credentials&client_id={}&client_secret={}"
                     "&response_type=id_token",
                     http::url_encode(client_id), http::url_encode(client_secret));
}

bool looks_like_jwt(std::string_view token) {
  std::array<size_t, 3> lengths{};
  size_t part = 0;
  for (char c : token) {
    if (c == '.') {
      if (++part == lengths.size()) {
        return false;
      }
    } else if (!is_base64url(c)) {
      return false;
    } else {
      ++lengths[part];
    }
  }
  return part == 2 && std::all_of(lengths.begin(), lengths.end(), [](size_t n) { return n > 0; });
}

std::optional<std::string> token_from_reply(std::string_view body) {
  std::string_view text = trimmed(body);
  if (looks_like_jwt(text)) {
    return std::string(text);
  }
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) {
    return std::nullopt;
  }
  auto it = j.find("access_token");
  if (it == j.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return std::nullopt;
  }
  return it->get<std::string>();
}

std::optional<std::string> access_from_jwt(std::string_view token) {
  if (!looks_like_jwt(token)) {
    return std::nullopt;
  }
  auto first = token.find('.');
  auto second = token.find('.', first + 1);
  auto payload = base64url_decode(token.substr(first + 1, second - first - 1));
  if (!payload) {
    return std::nullopt;
  }
  auto claims = nlohmann::json::parse(*payload, nullptr, false);
  if (!claims.is_object()) {
    return std::nullopt;
  }
  auto username = claims.find("username");
  auto issuer = claims.find("iss");
  if (username == claims.end() || issuer == claims.end() || !username->is_string() ||
      !issuer->is_string() || username->get_ref<const std::string&>().empty() ||
      issuer->get_ref<const std::string&>().empty()) {
    return std::nullopt;
  }
  return fmt::format("{}@{}", username->get<std::string>(), issuer->get<std::string>());
}

} // namespace stove::providers::openvcloud
