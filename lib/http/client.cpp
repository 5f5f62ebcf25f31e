#include "http/client.hpp"

#include "http/channel.hpp"
#include "http/log.hpp"
#include "http/redact.hpp"
#include "http/retry.hpp"
#include "http/text.hpp"
#include "http/transfer.hpp"
#include "http/wait.hpp"
#include "stove/version.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <random>

// The client proper: sending with retries. Its parts, each internal to
// lib/http: channel (libcurl's handles and their pool), transfer (setting
// up one attempt), retry (what may be retried, and when), wait (deadlines),
// log and redact (what it writes, without secrets).

namespace stove::http {

using namespace detail;

namespace {

using std::chrono::milliseconds;

// One call of send(): what its attempts and messages share.
struct Sending {
  const Request& request;
  const Deadline& deadline;
  const std::string label;  // "POST http://host/path", redacted
  const int max_attempts;
};

std::string after_attempts(int attempts) {
  return attempts > 1 ? fmt::format(" (after {} attempts)", attempts) : std::string();
}

} // namespace

// --- public helpers ------------------------------------------------------------

Request Request::json(std::string method, std::string url, const nlohmann::json& body) {
  Request request;
  request.method = std::move(method);
  request.url = std::move(url);
  request.body = body.dump();
  request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  return request;
}

std::optional<std::string> Response::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) {
      return value;
    }
  }
  return std::nullopt;
}

nlohmann::json Response::json() const {
  std::string what = label.empty() ? std::string("response") : label;
  if (trim(body).empty()) {
    throw TransportError(TransportError::Reason::bad_response,
                         fmt::format("{}: HTTP {} response has no body, expected JSON", what, status));
  }
  try {
    return nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() quotes the body; the byte offset is enough and leaks nothing.
    throw TransportError(TransportError::Reason::bad_response,
                         fmt::format("{}: HTTP {} response is not JSON (byte {})", what, status,
                                     e.byte));
  }
}

// --- the client ------------------------------------------------------------------

struct Client::Impl {
  using Reason = TransportError::Reason;

  explicit Impl(ClientOptions options_)
    : options(std::move(options_)), pool(options.max_in_flight),
      rng(options.seed != 0 ? options.seed : std::random_device{}()),
      user_agent(fmt::format("stove/{}", k_version)),
      prefix(options.name.empty() ? std::string("http") : fmt::format("http[{}]", options.name)) {
    for (const std::string& secret : options.secrets) {
      secrets.add(secret);
    }
  }

  std::string scrub(std::string text) { return secrets.scrub(std::move(text)); }

  void log(LogLevel level, std::string_view message) {
    if (log_enabled(level)) {
      emit(level, scrub(fmt::format("{}: {}", prefix, message)));
    }
  }

  [[noreturn]] void fail(Reason reason, std::string message) {
    throw TransportError(reason, scrub(std::move(message)));
  }

  // Sends the request once, on a pooled channel. Throws when no slot
  // comes free before the deadline or a cancel.
  Attempt transfer(const Request& request, curl_slist* headers, const std::string& label,
                   const Deadline& deadline, int attempt) {
    std::optional<ChannelPool::Lease> lease;
    switch (pool.acquire(deadline, lease)) {
    case Cut::none:
      break;
    case Cut::timeout:
      fail(Reason::timeout, fmt::format("{}: the deadline passed waiting for a free connection", label));
    case Cut::cancelled:
      fail(Reason::cancelled, fmt::format("{}: cancelled", label));
    }

    Attempt outcome;
    Clock::time_point started = Clock::now();
    milliseconds left = time_left(deadline.at, started);
    if (left.count() <= 0) {
      fail(Reason::timeout, fmt::format("{}: the deadline passed", label));
    }
    AttemptLimits limits;
    limits.total =
        options.request_timeout.count() > 0 ? options.request_timeout : milliseconds::max();
    outcome.deadline_bound = left < limits.total;
    limits.total = std::min(limits.total, left);
    limits.connect = options.connect_timeout.count() > 0
                         ? std::min(limits.total, options.connect_timeout)
                         : limits.total;

    CURL* handle = lease->channel().easy();
    char error[CURL_ERROR_SIZE] = {};
    prepare_transfer(handle, request, headers, limits, user_agent, outcome.received, error);

    ++requests;
    if (attempt > 1) {
      ++retries;
    }
    outcome.code = lease->channel().run(deadline);
    if (outcome.code == CURLE_OK) {
      curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &outcome.status);
    } else if (outcome.code) {
      outcome.error = error[0] != '\0' ? std::string(error) : curl_easy_strerror(*outcome.code);
    }
    outcome.elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
    return outcome;
  }

  milliseconds backoff(int attempts_made) {
    milliseconds::rep ceiling = backoff_ceiling(options.retry, attempts_made);
    std::lock_guard lock(rng_mutex);
    return milliseconds{std::uniform_int_distribution<milliseconds::rep>(0, ceiling)(rng)};
  }

  void log_attempt(const Sending& sending, const Attempt& outcome, int attempt) {
    log(LogLevel::debug,
        fmt::format("{} -> {} ({} ms{})", sending.label,
                    !outcome.code          ? std::string("cancelled")
                    : outcome.status != 0  ? std::to_string(outcome.status)
                                           : outcome.error,
                    outcome.elapsed.count(),
                    attempt > 1 ? fmt::format(", attempt {}/{}", attempt, sending.max_attempts)
                                : std::string()));
  }

  // The wait before asking again after a retryable status: the backoff, or
  // the Retry-After of a 429 or 503 when that is longer (capped).
  milliseconds status_wait(const Response& response, int attempt) {
    milliseconds wait = backoff(attempt);
    if (response.status == 429 || response.status == 503) {
      if (auto value = response.header("retry-after")) {
        if (auto asked = parse_retry_after(*value)) {
          wait = std::max(wait, std::min(*asked, options.retry.max_retry_after));
        }
      }
    }
    return wait;
  }

  // Throws unless the attempt that failed to connect may be retried.
  void check_retryable(const Sending& sending, const Attempt& outcome, int attempt) {
    const std::string& label = sending.label;
    Failure failure = classify(*outcome.code);
    if (failure == Failure::fatal) {
      fail(Reason::connection, fmt::format("{}: {}", label, outcome.error));
    }
    if (sending.deadline.expired() ||
        (*outcome.code == CURLE_OPERATION_TIMEDOUT && outcome.deadline_bound)) {
      fail(Reason::timeout, fmt::format("{}: the deadline passed: {}{}", label, outcome.error,
                                        after_attempts(attempt)));
    }
    if ((failure == Failure::dropped && !sending.request.idempotent) ||
        attempt == sending.max_attempts) {
      fail(Reason::connection,
           fmt::format("{}: {}{}", label, outcome.error, after_attempts(attempt)));
    }
  }

  // Announces the retry and waits `wait` for it. False, without waiting,
  // when the wait would run into the deadline and there is a response to
  // return instead; throws when there is none, or the wait is cut short.
  bool wait_to_retry(const Sending& sending, const Attempt& outcome, bool have_response,
                     milliseconds wait, int attempt) {
    const std::string& label = sending.label;
    // A wait that would run into the deadline cannot lead to a useful retry.
    Clock::time_point resume = Clock::now() + wait;
    if (resume >= sending.deadline.at) {
      if (have_response) {
        return false;
      }
      fail(Reason::timeout, fmt::format("{}: {}; no time left to retry before the deadline{}",
                                        label, outcome.error, after_attempts(attempt)));
    }
    log(LogLevel::info,
        fmt::format("{} -> {}, retrying in {} ms (attempt {}/{})", label,
                    have_response ? std::to_string(outcome.status) : outcome.error, wait.count(),
                    attempt + 1, sending.max_attempts));
    switch (wait_until(sending.deadline, resume)) {
    case Cut::none:
      break;
    case Cut::timeout:
      fail(Reason::timeout,
           fmt::format("{}: the deadline passed{}", label, after_attempts(attempt)));
    case Cut::cancelled:
      fail(Reason::cancelled, fmt::format("{}: cancelled", label));
    }
    return true;
  }

  const ClientOptions options;
  ChannelPool pool;
  std::mutex rng_mutex;
  std::mt19937_64 rng;
  Secrets secrets;
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> retries{0};
  const std::string user_agent;
  const std::string prefix;  // "http[NAME]", for log lines
};

Client::Client(ClientOptions options) {
  init_curl_once();
  m_impl = std::make_unique<Impl>(std::move(options));
}

Client::~Client() = default;

void Client::add_secret(std::string secret) {
  m_impl->secrets.add(secret);
}

Stats Client::stats() const {
  return Stats{m_impl->requests.load(), m_impl->retries.load()};
}

const ClientOptions& Client::options() const {
  return m_impl->options;
}

Response Client::send(const Request& request, const Deadline& deadline) {
  Impl& impl = *m_impl;
  const Sending sending{request, deadline,
                        impl.scrub(fmt::format("{} {}", request.method, redact_url(request.url))),
                        std::max(impl.options.retry.max_attempts, 1)};
  const HeaderList headers = header_list(request);

  for (int attempt = 1;; ++attempt) {
    Attempt outcome = impl.transfer(request, headers.get(), sending.label, deadline, attempt);
    impl.log_attempt(sending, outcome, attempt);
    if (!outcome.code) {
      impl.fail(Impl::Reason::cancelled, fmt::format("{}: cancelled", sending.label));
    }

    std::optional<Response> response;
    milliseconds wait{0};
    if (*outcome.code == CURLE_OK) {
      response.emplace();
      response->status = outcome.status;
      response->headers = std::move(outcome.received.headers);
      response->body = std::move(outcome.received.body);
      response->attempts = attempt;
      response->label = sending.label;
      if (!retryable_status(outcome.status, request.idempotent) ||
          attempt == sending.max_attempts) {
        return std::move(*response);
      }
      wait = impl.status_wait(*response, attempt);
    } else {
      impl.check_retryable(sending, outcome, attempt);
      wait = impl.backoff(attempt);
    }
    if (!impl.wait_to_retry(sending, outcome, response.has_value(), wait, attempt)) {
      return std::move(*response);
    }
  }
}

std::string_view reason_phrase(long status) {
  switch (status) {
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 204: return "No Content";
  case 301: return "Moved Permanently";
  case 307: return "Temporary Redirect";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 409: return "Conflict";
  case 411: return "Length Required";
  case 412: return "Precondition Failed";
  case 413: return "Payload Too Large";
  case 415: return "Unsupported Media Type";
  case 422: return "Unprocessable Entity";
  case 429: return "Too Many Requests";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  default: return "";
  }
}

} // namespace stove::http
