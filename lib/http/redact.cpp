#include "http/redact.hpp"

#include "http/client.hpp"
#include "http/text.hpp"

#include <algorithm>
#include <array>

namespace stove::http {

namespace {

using detail::k_redacted;
using detail::lower;

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  c = lower(c);
  return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
        hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i] == '+' ? ' ' : text[i]);
    }
  }
  return out;
}

// Whether a query parameter of that name likely carries a credential. Broad
// on purpose: a redacted harmless value costs little in a log line.
bool credential_name(std::string_view raw_name) {
  std::string name = detail::to_lower(percent_decode(raw_name));
  static constexpr std::array<std::string_view, 4> k_exact = {"key", "sig", "auth",
                                                              "authorization"};
  static constexpr std::array<std::string_view, 8> k_within = {
      "token", "secret", "passw", "signature", "credential", "apikey", "api_key", "api-key"};
  return std::find(k_exact.begin(), k_exact.end(), name) != k_exact.end() ||
         std::any_of(k_within.begin(), k_within.end(),
                     [&](std::string_view part) { return name.find(part) != std::string::npos; });
}

} // namespace

namespace detail {

void Secrets::add(const std::string& secret) {
  if (secret.empty()) {
    return;
  }
  std::lock_guard lock(m_mutex);
  // A secret also shows up percent-encoded in a URL's query.
  for (std::string form : {secret, url_encode(secret)}) {
    if (std::find(m_secrets.begin(), m_secrets.end(), form) == m_secrets.end()) {
      m_secrets.push_back(std::move(form));
    }
  }
  // Longest first, so that a secret containing another is blanked whole.
  std::stable_sort(m_secrets.begin(), m_secrets.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string Secrets::scrub(std::string text) const {
  std::lock_guard lock(m_mutex);
  for (const std::string& secret : m_secrets) {
    replace_all(text, secret, k_redacted);
  }
  return text;
}

} // namespace detail

std::string redact_url(std::string_view url) {
  std::string out;
  size_t rest = 0;
  if (size_t scheme = url.find("://"); scheme != std::string_view::npos) {
    size_t authority = scheme + 3;
    size_t authority_end = std::min(url.find_first_of("/?#", authority), url.size());
    std::string_view host = url.substr(authority, authority_end - authority);
    out.append(url.substr(0, authority));
    if (size_t at = host.rfind('@'); at != std::string_view::npos) {
      out.append(k_redacted);
      host.remove_prefix(at);
    }
    out.append(host);
    rest = authority_end;
  }
  size_t query = url.find('?', rest);
  size_t fragment = std::min(url.find('#', rest), url.size());
  if (query == std::string_view::npos || query > fragment) {
    out.append(url.substr(rest));
    return out;
  }
  out.append(url.substr(rest, query + 1 - rest));
  std::string_view params = url.substr(query + 1, fragment - query - 1);
  while (true) {
    size_t amp = params.find('&');
    std::string_view param = params.substr(0, amp);
    size_t eq = param.find('=');
    if (eq != std::string_view::npos && eq + 1 < param.size() &&
        credential_name(param.substr(0, eq))) {
      out.append(param.substr(0, eq + 1));
      out.append(k_redacted);
    } else {
      out.append(param);
    }
    if (amp == std::string_view::npos) {
      break;
    }
    out.push_back('&');
    params.remove_prefix(amp + 1);
  }
  out.append(url.substr(fragment));
  return out;
}

std::string url_encode(std::string_view text) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(k_hex[byte >> 4]);
      out.push_back(k_hex[byte & 0x0F]);
    }
  }
  return out;
}

} // namespace stove::http
