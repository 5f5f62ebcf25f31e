#pragma once

// Internal to the HTTP client: which failures and statuses may be retried,
// and how long to wait first (see the Client comment in http/client.hpp).

#include "http/client.hpp"

#include <curl/curl.h>

#include <chrono>
#include <optional>
#include <string_view>

namespace stove::http::detail {

// How far a failed transfer got, which decides whether it may be retried.
enum class Failure {
  not_sent,  // no connection was made: the server never saw the request
  dropped,   // the connection failed after the request may have been sent
  fatal,     // retrying cannot help (bad URL, TLS verification, ...)
};

Failure classify(CURLcode code);

bool retryable_status(long status, bool idempotent);

// Retry-After as delta-seconds or an HTTP-date; nullopt if it is neither.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value);

// The longest backoff after `attempts_made` attempts: min(cap, base *
// 2^(attempts_made-1)); the wait is drawn from [0, that].
std::chrono::milliseconds::rep backoff_ceiling(const RetryPolicy& policy, int attempts_made);

} // namespace stove::http::detail
