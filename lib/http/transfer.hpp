#pragma once

// Internal to the HTTP client: one attempt's worth of libcurl set-up (the
// request's method, headers and body, the time limits) and what it brings
// back.

#include "http/channel.hpp"
#include "http/client.hpp"

#include <curl/curl.h>

#include <chrono>
#include <optional>
#include <string>

namespace stove::http::detail {

struct Received {
  Headers headers;
  std::string body;
};

// What one attempt came to.
struct Attempt {
  std::optional<CURLcode> code;  // nullopt: cancelled
  long status = 0;               // when code is CURLE_OK
  Received received;
  std::string error;             // curl's message, when code is another
  bool deadline_bound = false;   // its time limit was what was left to the deadline
  std::chrono::milliseconds elapsed{0};
};

// The time limits of one attempt; max() for none.
struct AttemptLimits {
  std::chrono::milliseconds total = std::chrono::milliseconds::max();
  std::chrono::milliseconds connect = std::chrono::milliseconds::max();
};

// The request's headers as libcurl takes them, with the client's own
// additions (no Expect: 100-continue, no made-up Content-Type). Throws
// std::invalid_argument for a header that cannot be sent.
HeaderList header_list(const Request& request);

// Sets `handle` up for one attempt at `request`: the response's headers
// and body go to `into`, curl's message for a failure to `error`, which
// must hold CURL_ERROR_SIZE bytes and outlive the transfer.
void prepare_transfer(CURL* handle, const Request& request, curl_slist* headers,
                      const AttemptLimits& limits, const std::string& user_agent, Received& into,
                      char* error);

} // namespace stove::http::detail
