#pragma once

// A small HTTP client on libcurl for the provider adapters. curl stays out of
// this header: the handles live in client.cpp.

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stove::http {

using Clock = std::chrono::steady_clock;
using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";  // GET, POST, PUT, DELETE, HEAD
  std::string url;             // absolute: http://host:port/path?query
  Headers headers;             // besides those the client adds (Content-Type for JSON)
                               // without Content-Type, the body is sent untyped
  std::string body;
  // Whether sending it twice is harmless. A request that is not idempotent
  // is retried only when it certainly never reached the server (connection
  // refused, 429, 503); the caller deals with the rest (see
  // providers/provider.hpp: creates adopt what a lost response created).
  bool idempotent = true;

  static Request json(std::string method, std::string url, const nlohmann::json& body);
};

struct Response {
  long status = 0;
  Headers headers;  // names lowercased
  std::string body;
  int attempts = 1; // how many times it was sent
  // "POST http://host/path", URL redacted: names the request in messages.
  std::string label;

  // The first header of that (case-insensitive) name, or nullopt.
  std::optional<std::string> header(std::string_view name) const;
  // Parses the body as JSON; throws TransportError (bad_response) naming
  // the request and status if it is not JSON.
  nlohmann::json json() const;
  bool ok() const { return status >= 200 && status < 300; }
};

// Raised when no usable response came: the connection failed every attempt,
// the deadline passed, or the operation was cancelled. Responses with an
// error status are returned, not thrown (after retries for 429 and 5xx).
class TransportError : public std::runtime_error {
public:
  enum class Reason { connection, timeout, cancelled, bad_response };
  TransportError(Reason reason, const std::string& message)
    : std::runtime_error(message), m_reason(reason) {}
  Reason reason() const { return m_reason; }

private:
  Reason m_reason;
};

struct RetryPolicy {
  int max_attempts = 6;                          // first try included
  std::chrono::milliseconds base{100};           // backoff: random in [0, min(cap, base*2^n)]
  std::chrono::milliseconds cap{5000};
  std::chrono::milliseconds max_retry_after{30000};  // longer Retry-After values are capped
};

// Cancels operations: the engine trips it on the second Ctrl-C, and every
// request and backoff sleep in flight gives up with TransportError
// (cancelled) at once.
class CancelToken {
public:
  void cancel() { m_cancelled.store(true); }
  bool cancelled() const { return m_cancelled.load(); }

private:
  std::atomic<bool> m_cancelled{false};
};

// When an operation (a create, with its polling) must be finished by, and
// how to give up early.
struct Deadline {
  Clock::time_point at = Clock::time_point::max();
  const CancelToken* cancel = nullptr;

  static Deadline after(std::chrono::milliseconds d, const CancelToken* cancel = nullptr) {
    return Deadline{Clock::now() + d, cancel};
  }
  bool expired() const { return Clock::now() >= at; }
  bool cancelled() const { return cancel != nullptr && cancel->cancelled(); }
  // Sleeps for `d` or until the deadline or a cancel, whichever is first.
  // Throws TransportError (timeout or cancelled) if it was cut short.
  void sleep(std::chrono::milliseconds d) const;
};

struct ClientOptions {
  std::string name;                                   // the provider's name, for logs
  std::chrono::milliseconds request_timeout{30000};   // one attempt, connect to last byte
  std::chrono::milliseconds connect_timeout{10000};
  RetryPolicy retry;
  size_t max_in_flight = 16;                          // concurrent requests, across threads
  // Strings to blank out of anything logged (tokens, secrets): besides
  // these, the Authorization header is never logged and query values whose
  // names look like credentials (X-Amz-Signature, token, ...) are redacted.
  std::vector<std::string> secrets;
  uint64_t seed = 0;                                  // jitter; 0: random
};

struct Stats {
  uint64_t requests = 0;  // attempts sent, retries included
  uint64_t retries = 0;
};

// Thread-safe: adapters share one client per provider across the engine's
// worker threads. Connections are kept alive and reused.
//
// Retries: an idempotent request is retried on connection errors (refused,
// reset, dropped mid-response, empty reply, attempt timed out), 429 and any
// 5xx but 501 Not Implemented. A request that is not idempotent only when it certainly never reached
// the server: the connection could not be made, 429 or 503. Waits are full
// jitter, random in [0, min(cap, base * 2^(attempt-1))], at least the
// Retry-After of a 429 or 503 (capped at max_retry_after). A wait that would
// end past the deadline is not started: an error status is returned as it
// is, a connection error throws (timeout). Once attempts run out, the last
// response is returned, or TransportError (connection) thrown naming the
// method, the redacted URL and curl's error.
class Client {
public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends with retries (connection errors, 429, 5xx; exponential backoff
  // with full jitter; Retry-After honoured, capped), waiting for a slot
  // under max_in_flight. Returns the final response, whatever its status.
  Response send(const Request& request, const Deadline& deadline = {});

  // Adds secrets to redact (e.g. a token fetched after construction); they
  // are not added to options().secrets.
  void add_secret(std::string secret);
  Stats stats() const;
  const ClientOptions& options() const;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// Logging of requests: `--log-level debug` or STOVE_LOG=debug. The level is
// process-wide; warn is the default. At debug every attempt is one line:
//   stove: debug: http[NAME]: POST http://127.0.0.1:8080/restmachine/... -> 200 (12 ms)
// (with ", attempt 2/6" inside the parentheses for a retry, and curl's error
// in place of the status for a failed connection). Retries are announced at
// info, not warn: throttling and the odd 503 are routine for a cloud API and
// the engine reports what finally fails, so the default output stays quiet:
//   stove: info: http[NAME]: POST URL -> 503, retrying in 240 ms (attempt 2/6)
// URLs are redacted and the client's secrets replaced by <redacted>; headers
// and bodies are never logged.
enum class LogLevel { error, warn, info, debug };
void set_log_level(LogLevel level);
LogLevel log_level();
// Parses "error", "warn", "info" or "debug", in any case.
std::optional<LogLevel> parse_log_level(std::string_view text);
// Sends log lines to `sink` instead of stderr: each call gets one whole
// line, newline included, and calls are serialized (so it must not log
// itself). An empty function restores stderr. For front ends that draw on stderr themselves, and tests.
void set_log_sink(std::function<void(std::string_view line)> sink);
// Redacts credentials from a URL: userinfo, and the values of query
// parameters whose names look like credentials.
std::string redact_url(std::string_view url);

// Percent-encodes per RFC 3986 (unreserved characters kept, uppercase hex).
std::string url_encode(std::string_view text);

// The standard reason phrase of an HTTP status ("Not Found"), for
// messages; empty for a code it does not know.
std::string_view reason_phrase(long status);

} // namespace stove::http
