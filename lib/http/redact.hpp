#pragma once

// Internal to the HTTP client: keeping credentials out of what it logs and
// throws. redact_url and url_encode are public (http/client.hpp).

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace stove::http::detail {

inline constexpr std::string_view k_redacted = "<redacted>";

// The client's secrets (tokens, keys), each also in its percent-encoded
// form, blanked out of every log line and error message. Thread-safe: a
// token fetched later is added while other threads log.
class Secrets {
public:
  void add(const std::string& secret);
  // `text` with every secret replaced by <redacted>.
  std::string scrub(std::string text) const;

private:
  mutable std::mutex m_mutex;
  std::vector<std::string> m_secrets;  // longest first
};

} // namespace stove::http::detail
