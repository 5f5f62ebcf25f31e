#include "http/client.hpp"

#include "stove/version.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <random>
#include <thread>

namespace stove::http {

namespace {

using std::chrono::milliseconds;

// How often waits look at the cancel token: CancelToken is a bare flag that
// cannot wake anyone, so waiting threads poll it.
constexpr milliseconds k_cancel_poll{25};
constexpr std::string_view k_redacted = "<redacted>";

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view text) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

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
  std::string name = to_lower(percent_decode(raw_name));
  static constexpr std::array<std::string_view, 4> k_exact = {"key", "sig", "auth",
                                                              "authorization"};
  static constexpr std::array<std::string_view, 8> k_within = {
      "token", "secret", "passw", "signature", "credential", "apikey", "api_key", "api-key"};
  return std::find(k_exact.begin(), k_exact.end(), name) != k_exact.end() ||
         std::any_of(k_within.begin(), k_within.end(),
                     [&](std::string_view part) { return name.find(part) != std::string::npos; });
}

// Milliseconds from now to `at`, rounded up so that a deadline a fraction
// of a millisecond away still counts as time left; max() for no deadline.
milliseconds time_left(Clock::time_point at, Clock::time_point now) {
  if (at == Clock::time_point::max()) {
    return milliseconds::max();
  }
  if (at <= now) {
    return milliseconds{0};
  }
  return std::chrono::ceil<milliseconds>(at - now);
}

long curl_ms(milliseconds d) {
  return static_cast<long>(std::clamp<milliseconds::rep>(d.count(), 1, LONG_MAX));
}

// Why a wait ended before its time.
enum class Cut { none, timeout, cancelled };

// Waits until `until`, or less if the deadline comes first or the token is
// tripped.
Cut wait_until(const Deadline& deadline, Clock::time_point until) {
  Clock::time_point end = std::min(until, deadline.at);
  while (true) {
    if (deadline.cancelled()) {
      return Cut::cancelled;
    }
    Clock::time_point now = Clock::now();
    if (now >= end) {
      return until <= deadline.at ? Cut::none : Cut::timeout;
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(k_cancel_poll, end - now));
  }
}

// --- logging ---------------------------------------------------------------

struct LogState {
  std::atomic<LogLevel> level{LogLevel::warn};
  std::mutex mutex;
  std::function<void(std::string_view)> sink;
};

LogState& log_state() {
  static LogState state;
  return state;
}

bool log_enabled(LogLevel level) {
  return level <= log_state().level.load(std::memory_order_relaxed);
}

std::string_view level_name(LogLevel level) {
  switch (level) {
  case LogLevel::error:
    return "error";
  case LogLevel::warn:
    return "warn";
  case LogLevel::info:
    return "info";
  case LogLevel::debug:
    return "debug";
  }
  return "debug";
}

// Writes one whole line: a single fwrite under the lock, so that lines from
// parallel requests never interleave (stdio's own lock keeps them apart
// from the CLI's stderr output too).
void emit(LogLevel level, std::string_view message) {
  std::string line = fmt::format("stove: {}: {}\n", level_name(level), message);
  LogState& state = log_state();
  std::lock_guard lock(state.mutex);
  if (state.sink) {
    state.sink(line);
    return;
  }
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

// --- libcurl handles ---------------------------------------------------------

struct EasyCleanup {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct MultiCleanup {
  void operator()(CURLM* handle) const { curl_multi_cleanup(handle); }
};
struct SlistCleanup {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using EasyHandle = std::unique_ptr<CURL, EasyCleanup>;
using MultiHandle = std::unique_ptr<CURLM, MultiCleanup>;
using HeaderList = std::unique_ptr<curl_slist, SlistCleanup>;

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (code != CURLE_OK) {
      throw std::runtime_error(fmt::format("cannot initialise libcurl: {}", curl_easy_strerror(code)));
    }
  });
}

template <typename Value>
void set_option(CURL* handle, CURLoption option, Value value) {
  CURLcode code = curl_easy_setopt(handle, option, value);
  if (code != CURLE_OK) {
    throw std::runtime_error(fmt::format("libcurl refused option {}: {}", static_cast<int>(option),
                                         curl_easy_strerror(code)));
  }
}

// One connection's worth of libcurl. The easy handle is driven through its
// own multi handle: the multi handle owns the connection cache, so keeping
// the pair keeps its connection alive for the next request, and driving it
// ourselves lets a cancel interrupt a silent wait at once (the progress
// callback runs only about once a second while nothing arrives). Not
// shared between threads; the pool hands it to one request at a time.
class Channel {
public:
  Channel() : m_multi(curl_multi_init()), m_easy(curl_easy_init()) {
    if (!m_multi || !m_easy) {
      throw std::runtime_error("cannot create a libcurl handle");
    }
  }

  CURL* easy() const { return m_easy.get(); }

  // Runs the transfer set up on easy(). nullopt if the token was tripped;
  // the connection is then closed.
  std::optional<CURLcode> run(const Deadline& deadline) {
    if (curl_multi_add_handle(m_multi.get(), m_easy.get()) != CURLM_OK) {
      return CURLE_OUT_OF_MEMORY;
    }
    // Removing the handle returns a finished transfer's connection to the
    // cache and closes an interrupted one.
    struct Detach {
      CURLM* multi;
      CURL* easy;
      ~Detach() { curl_multi_remove_handle(multi, easy); }
    } detach{m_multi.get(), m_easy.get()};

    while (true) {
      int running = 0;
      if (curl_multi_perform(m_multi.get(), &running) != CURLM_OK) {
        return CURLE_OUT_OF_MEMORY;
      }
      if (running == 0) {
        break;
      }
      if (deadline.cancelled()) {
        return std::nullopt;
      }
      curl_multi_poll(m_multi.get(), nullptr, 0, static_cast<int>(k_cancel_poll.count()), nullptr);
    }
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(m_multi.get(), &queued)) {
      if (message->msg == CURLMSG_DONE) {
        return message->data.result;
      }
    }
    return CURLE_FAILED_INIT;
  }

private:
  MultiHandle m_multi;  // destroyed after the easy handle
  EasyHandle m_easy;
};

// The channels and the cap on requests in flight, under one lock: a
// request takes a slot and the channel used last (whose connection is the
// most likely to be alive), or a new one while fewer than the cap exist.
class ChannelPool {
public:
  explicit ChannelPool(size_t limit) : m_limit(std::max<size_t>(limit, 1)) {}

  class Lease {
  public:
    Lease(ChannelPool& pool, std::unique_ptr<Channel> channel)
      : m_pool(pool), m_channel(std::move(channel)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { m_pool.release(std::move(m_channel)); }
    Channel& channel() { return *m_channel; }

  private:
    ChannelPool& m_pool;
    std::unique_ptr<Channel> m_channel;
  };

  // A lease, or the reason there is none.
  Cut acquire(const Deadline& deadline, std::optional<Lease>& lease) {
    std::unique_ptr<Channel> channel;
    {
      std::unique_lock lock(m_mutex);
      while (m_in_flight >= m_limit) {
        if (deadline.cancelled()) {
          return Cut::cancelled;
        }
        Clock::time_point now = Clock::now();
        if (now >= deadline.at) {
          return Cut::timeout;
        }
        m_freed.wait_until(lock, now + std::min<Clock::duration>(k_cancel_poll, deadline.at - now));
      }
      ++m_in_flight;
      if (!m_idle.empty()) {
        channel = std::move(m_idle.back());
        m_idle.pop_back();
      }
    }
    if (!channel) {
      try {
        channel = std::make_unique<Channel>();
      } catch (...) {
        release(nullptr);
        throw;
      }
    }
    lease.emplace(*this, std::move(channel));
    return Cut::none;
  }

private:
  void release(std::unique_ptr<Channel> channel) {
    if (channel) {
      // Drops the options, which point into the finished request; the
      // connection cache stays.
      curl_easy_reset(channel->easy());
    }
    {
      std::lock_guard lock(m_mutex);
      if (channel) {
        m_idle.push_back(std::move(channel));
      }
      --m_in_flight;
    }
    m_freed.notify_one();
  }

  const size_t m_limit;
  std::mutex m_mutex;
  std::condition_variable m_freed;
  size_t m_in_flight = 0;
  std::vector<std::unique_ptr<Channel>> m_idle;
};

// --- one attempt -------------------------------------------------------------

struct Received {
  Headers headers;
  std::string body;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  try {
    static_cast<Received*>(user)->body.append(data, size * count);
    return size * count;
  } catch (...) {
    return 0;  // libcurl fails the transfer with a write error
  }
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto& headers = static_cast<Received*>(user)->headers;
  std::string_view line = trim(std::string_view(data, size * count));
  try {
    if (line.starts_with("HTTP/")) {
      // A new response begins (after a 100 Continue, say): only the last
      // one's headers count.
      headers.clear();
    } else if (!line.empty() && (data[0] == ' ' || data[0] == '\t') && !headers.empty()) {
      headers.back().second += fmt::format(" {}", line);  // obsolete line folding
    } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
      headers.emplace_back(to_lower(trim(line.substr(0, colon))),
                           std::string(trim(line.substr(colon + 1))));
    }
    return size * count;
  } catch (...) {
    return 0;
  }
}

// What one attempt came to.
struct Attempt {
  std::optional<CURLcode> code;  // nullopt: cancelled
  long status = 0;               // when code is CURLE_OK
  Received received;
  std::string error;             // curl's message, when code is another
  bool deadline_bound = false;   // its time limit was what was left to the deadline
  milliseconds elapsed{0};
};

// How far a failed transfer got, which decides whether it may be retried.
enum class Failure {
  not_sent,  // no connection was made: the server never saw the request
  dropped,   // the connection failed after the request may have been sent
  fatal,     // retrying cannot help (bad URL, TLS verification, ...)
};

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

// Retry-After as delta-seconds or an HTTP-date; nullopt if it is neither.
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

bool has_header(const Headers& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& header) { return iequals(header.first, name); });
}

HeaderList header_list(const Request& request) {
  HeaderList list;
  auto append = [&](const std::string& line) {
    curl_slist* grown = curl_slist_append(list.get(), line.c_str());
    if (grown == nullptr) {
      throw std::bad_alloc();
    }
    static_cast<void>(list.release());
    list.reset(grown);
  };
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || name.find_first_of(":\r\n") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos) {
      throw std::invalid_argument(fmt::format("invalid HTTP header \"{}\"", name));
    }
    // "Name;" is how libcurl sends a header with an empty value.
    append(value.empty() ? fmt::format("{};", name) : fmt::format("{}: {}", name, value));
  }
  // libcurl would announce large bodies with Expect: 100-continue and wait
  // a round trip for the server's go-ahead.
  if (!has_header(request.headers, "Expect")) {
    append("Expect:");
  }
  // libcurl would label a body without a type as a form; better no type
  // than a wrong one.
  if (!has_header(request.headers, "Content-Type")) {
    append("Content-Type:");
  }
  return list;
}

void set_method(CURL* handle, const Request& request) {
  const std::string& method = request.method;
  if (method == "HEAD") {
    set_option(handle, CURLOPT_NOBODY, 1L);
    return;
  }
  if (!request.body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    // POSTFIELDS sends the body with a Content-Length, whatever the method.
    set_option(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    set_option(handle, CURLOPT_POSTFIELDS, request.body.c_str());
    if (method != "POST") {
      set_option(handle, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    return;
  }
  if (method != "GET") {
    set_option(handle, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
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

void Deadline::sleep(std::chrono::milliseconds d) const {
  Clock::time_point now = Clock::now();
  // Clamped so that a huge duration cannot overflow the clock.
  auto room = std::chrono::duration_cast<milliseconds>(Clock::time_point::max() - now);
  switch (wait_until(*this, now + std::clamp(d, milliseconds{0}, room))) {
  case Cut::none:
    return;
  case Cut::timeout:
    throw TransportError(TransportError::Reason::timeout, "the deadline passed");
  case Cut::cancelled:
    throw TransportError(TransportError::Reason::cancelled, "cancelled");
  }
}

void set_log_level(LogLevel level) {
  log_state().level.store(level);
}

LogLevel log_level() {
  return log_state().level.load();
}

std::optional<LogLevel> parse_log_level(std::string_view text) {
  for (LogLevel level : {LogLevel::error, LogLevel::warn, LogLevel::info, LogLevel::debug}) {
    if (iequals(text, level_name(level))) {
      return level;
    }
  }
  return std::nullopt;
}

void set_log_sink(std::function<void(std::string_view line)> sink) {
  LogState& state = log_state();
  std::lock_guard lock(state.mutex);
  state.sink = std::move(sink);
}

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

// --- the client ------------------------------------------------------------------

struct Client::Impl {
  explicit Impl(ClientOptions options_)
    : options(std::move(options_)), pool(options.max_in_flight),
      rng(options.seed != 0 ? options.seed : std::random_device{}()),
      user_agent(fmt::format("stove/{}", k_version)),
      prefix(options.name.empty() ? std::string("http") : fmt::format("http[{}]", options.name)) {
    for (const std::string& secret : options.secrets) {
      add_secret(secret);
    }
  }

  void add_secret(const std::string& secret) {
    if (secret.empty()) {
      return;
    }
    std::lock_guard lock(secrets_mutex);
    // A secret also shows up percent-encoded in a URL's query.
    for (std::string form : {secret, url_encode(secret)}) {
      if (std::find(secrets.begin(), secrets.end(), form) == secrets.end()) {
        secrets.push_back(std::move(form));
      }
    }
    // Longest first, so that a secret containing another is blanked whole.
    std::stable_sort(secrets.begin(), secrets.end(),
                     [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  }

  std::string scrub(std::string text) {
    std::lock_guard lock(secrets_mutex);
    for (const std::string& secret : secrets) {
      replace_all(text, secret, k_redacted);
    }
    return text;
  }

  void log(LogLevel level, std::string_view message) {
    if (log_enabled(level)) {
      emit(level, scrub(fmt::format("{}: {}", prefix, message)));
    }
  }

  [[noreturn]] void fail(TransportError::Reason reason, std::string message) {
    throw TransportError(reason, scrub(std::move(message)));
  }

  // Sends the request once, on a pooled channel. Throws when no slot
  // comes free before the deadline or a cancel.
  Attempt transfer(const Request& request, curl_slist* headers, const std::string& label,
                   const Deadline& deadline, int attempt) {
    using Reason = TransportError::Reason;
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
    milliseconds limit =
        options.request_timeout.count() > 0 ? options.request_timeout : milliseconds::max();
    outcome.deadline_bound = left < limit;
    limit = std::min(limit, left);
    milliseconds connect_limit =
        options.connect_timeout.count() > 0 ? std::min(limit, options.connect_timeout) : limit;

    CURL* handle = lease->channel().easy();
    char error[CURL_ERROR_SIZE] = {};
    set_option(handle, CURLOPT_URL, request.url.c_str());
    set_option(handle, CURLOPT_PROTOCOLS_STR, "http,https");
    set_option(handle, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM for DNS timeouts in threads
    set_option(handle, CURLOPT_FOLLOWLOCATION, 0L);
    set_option(handle, CURLOPT_TCP_KEEPALIVE, 1L);
    set_option(handle, CURLOPT_TIMEOUT_MS, limit == milliseconds::max() ? 0L : curl_ms(limit));
    set_option(handle, CURLOPT_CONNECTTIMEOUT_MS,
               connect_limit == milliseconds::max() ? 0L : curl_ms(connect_limit));
    set_option(handle, CURLOPT_USERAGENT, user_agent.c_str());
    set_option(handle, CURLOPT_HTTPHEADER, headers);
    set_option(handle, CURLOPT_ERRORBUFFER, error);
    set_option(handle, CURLOPT_WRITEFUNCTION, on_body);
    set_option(handle, CURLOPT_WRITEDATA, &outcome.received);
    set_option(handle, CURLOPT_HEADERFUNCTION, on_header);
    set_option(handle, CURLOPT_HEADERDATA, &outcome.received);
    set_method(handle, request);

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
    const RetryPolicy& policy = options.retry;
    milliseconds::rep cap = std::max<milliseconds::rep>(policy.cap.count(), 0);
    milliseconds::rep ceiling = std::clamp<milliseconds::rep>(policy.base.count(), 0, cap);
    for (int i = 1; i < attempts_made && ceiling < cap; ++i) {
      ceiling = ceiling > cap / 2 ? cap : ceiling * 2;
    }
    std::lock_guard lock(rng_mutex);
    return milliseconds{std::uniform_int_distribution<milliseconds::rep>(0, ceiling)(rng)};
  }

  const ClientOptions options;
  ChannelPool pool;
  std::mutex rng_mutex;
  std::mt19937_64 rng;
  std::mutex secrets_mutex;
  std::vector<std::string> secrets;
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
  m_impl->add_secret(secret);
}

Stats Client::stats() const {
  return Stats{m_impl->requests.load(), m_impl->retries.load()};
}

const ClientOptions& Client::options() const {
  return m_impl->options;
}

Response Client::send(const Request& request, const Deadline& deadline) {
  using Reason = TransportError::Reason;
  Impl& impl = *m_impl;
  const int max_attempts = std::max(impl.options.retry.max_attempts, 1);
  const std::string label = impl.scrub(fmt::format("{} {}", request.method, redact_url(request.url)));
  const HeaderList headers = header_list(request);
  auto after = [](int attempts) {
    return attempts > 1 ? fmt::format(" (after {} attempts)", attempts) : std::string();
  };

  for (int attempt = 1;; ++attempt) {
    Attempt outcome = impl.transfer(request, headers.get(), label, deadline, attempt);
    impl.log(LogLevel::debug,
             fmt::format("{} -> {} ({} ms{})", label,
                         !outcome.code          ? std::string("cancelled")
                         : outcome.status != 0  ? std::to_string(outcome.status)
                                                : outcome.error,
                         outcome.elapsed.count(),
                         attempt > 1 ? fmt::format(", attempt {}/{}", attempt, max_attempts)
                                     : std::string()));
    if (!outcome.code) {
      impl.fail(Reason::cancelled, fmt::format("{}: cancelled", label));
    }

    std::optional<Response> response;
    milliseconds wait{0};
    if (*outcome.code == CURLE_OK) {
      response.emplace();
      response->status = outcome.status;
      response->headers = std::move(outcome.received.headers);
      response->body = std::move(outcome.received.body);
      response->attempts = attempt;
      response->label = label;
      if (!retryable_status(outcome.status, request.idempotent) || attempt == max_attempts) {
        return std::move(*response);
      }
      wait = impl.backoff(attempt);
      if (outcome.status == 429 || outcome.status == 503) {
        if (auto value = response->header("retry-after")) {
          if (auto asked = parse_retry_after(*value)) {
            wait = std::max(wait, std::min(*asked, impl.options.retry.max_retry_after));
          }
        }
      }
    } else {
      Failure failure = classify(*outcome.code);
      if (failure == Failure::fatal) {
        impl.fail(Reason::connection, fmt::format("{}: {}", label, outcome.error));
      }
      if (deadline.expired() || (*outcome.code == CURLE_OPERATION_TIMEDOUT && outcome.deadline_bound)) {
        impl.fail(Reason::timeout, fmt::format("{}: the deadline passed: {}{}", label,
                                               outcome.error, after(attempt)));
      }
      if ((failure == Failure::dropped && !request.idempotent) || attempt == max_attempts) {
        impl.fail(Reason::connection,
                  fmt::format("{}: {}{}", label, outcome.error, after(attempt)));
      }
      wait = impl.backoff(attempt);
    }

    // A wait that would run into the deadline cannot lead to a useful retry.
    Clock::time_point resume = Clock::now() + wait;
    if (resume >= deadline.at) {
      if (response) {
        return std::move(*response);
      }
      impl.fail(Reason::timeout, fmt::format("{}: {}; no time left to retry before the deadline{}",
                                             label, outcome.error, after(attempt)));
    }
    impl.log(LogLevel::info,
             fmt::format("{} -> {}, retrying in {} ms (attempt {}/{})", label,
                         response ? std::to_string(outcome.status) : outcome.error, wait.count(),
                         attempt + 1, max_attempts));
    switch (wait_until(deadline, resume)) {
    case Cut::none:
      break;
    case Cut::timeout:
      impl.fail(Reason::timeout, fmt::format("{}: the deadline passed{}", label, after(attempt)));
    case Cut::cancelled:
      impl.fail(Reason::cancelled, fmt::format("{}: cancelled", label));
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
