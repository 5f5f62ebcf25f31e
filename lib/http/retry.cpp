#include "http/retry.hpp"

#include "http/text.hpp"

#include <algorithm>
#include <ctime>
#include <string>

namespace stove::http::detail {

using std::chrono::milliseconds;

Failure classify(CURLcode code) {
  switch (code) {
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_CONNECT:
  case CURLE_SSL_CONNECT_ERROR:  // the request goes out after the handshake
    return Failure::not_sent;
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_PARTIAL_FILE:
  case CURLE_GOT_NOTHING:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
    return Failure::dropped;
  default:
    return Failure::fatal;
  }
}

bool retryable_status(long status, bool idempotent) {
  if (status == 429 || status == 503) {
    return true;
  }
  // 501 Not Implemented: the server lacks the feature; asking again cannot
  // help (s3rver answers it for bucket tagging).
  return idempotent && status >= 500 && status <= 599 && status != 501;
}

std::optional<milliseconds> parse_retry_after(std::string_view value) {
  value = trim(value);
  if (value.empty()) {
    return std::nullopt;
  }
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    long long seconds = 0;
    for (char c : value) {
      seconds = std::min(seconds * 10 + (c - '0'), 1'000'000'000LL);  // caps absurd values
    }
    return milliseconds{seconds * 1000};
  }
  std::string date(value);
  time_t at = curl_getdate(date.c_str(), nullptr);
  if (at == -1) {
    return std::nullopt;
  }
  return milliseconds{std::max<long long>(0, static_cast<long long>(at - std::time(nullptr))) * 1000};
}

milliseconds::rep backoff_ceiling(const RetryPolicy& policy, int attempts_made) {
  milliseconds::rep cap = std::max<milliseconds::rep>(policy.cap.count(), 0);
  milliseconds::rep ceiling = std::clamp<milliseconds::rep>(policy.base.count(), 0, cap);
  for (int i = 1; i < attempts_made && ceiling < cap; ++i) {
    ceiling = ceiling > cap / 2 ? cap : ceiling * 2;
  }
  return ceiling;
}

} // namespace stove::http::detail
