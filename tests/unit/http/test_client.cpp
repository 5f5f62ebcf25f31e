#include "http/client.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <ctime>
#include <functional>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <regex>
#include <set>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace std::chrono_literals;
using stove::http::CancelToken;
using stove::http::Client;
using stove::http::ClientOptions;
using stove::http::Deadline;
using stove::http::LogLevel;
using stove::http::Request;
using stove::http::Response;
using stove::http::TransportError;
using Reason = stove::http::TransportError::Reason;
using Clock = std::chrono::steady_clock;

namespace {

// Bounds on time that libcurl measures allow a little slack: it keeps time
// on CLOCK_MONOTONIC_RAW, which drifts from steady_clock's CLOCK_MONOTONIC.
long long ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// A writer that finds its peer gone gets EPIPE instead of killing the test.
void block_sigpipe() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

// Holds slow handlers until released, so that tests with a hanging server
// end as soon as they are done with it.
class Gate {
public:
  void wait() {
    std::unique_lock lock(m_mutex);
    ++m_entered;
    m_changed.notify_all();
    m_changed.wait_for(lock, 10s, [&] { return m_open; });
  }
  void open() {
    std::lock_guard lock(m_mutex);
    m_open = true;
    m_changed.notify_all();
  }
  // Waits until `n` handlers are held.
  bool entered(int n) {
    std::unique_lock lock(m_mutex);
    return m_changed.wait_for(lock, 5s, [&] { return m_entered >= n; });
  }

private:
  std::mutex m_mutex;
  std::condition_variable m_changed;
  bool m_open = false;
  int m_entered = 0;
};

// cpp-httplib on an ephemeral loopback port. Register handlers on http(),
// then start(). Declare it before the Client, so that the client's kept-alive
// connections close before the server stops.
class TestServer {
public:
  TestServer() {
    m_server.new_task_queue = [] { return new httplib::ThreadPool(32); };
    m_server.set_keep_alive_max_count(1000);
    m_port = m_server.bind_to_any_port("127.0.0.1");
    REQUIRE(m_port > 0);
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;
  ~TestServer() {
    m_gate.open();
    m_server.stop();
    if (m_thread.joinable()) {
      m_thread.join();
    }
  }

  httplib::Server& http() { return m_server; }
  Gate& gate() { return m_gate; }

  void start() {
    m_thread = std::thread([this] {
      block_sigpipe();
      m_server.listen_after_bind();
    });
    auto until = Clock::now() + 5s;
    while (!m_server.is_running() && Clock::now() < until) {
      std::this_thread::sleep_for(1ms);
    }
    REQUIRE(m_server.is_running());
  }

  std::string url(std::string_view path) const {
    return fmt::format("http://127.0.0.1:{}{}", m_port, path);
  }

private:
  Gate m_gate;
  httplib::Server m_server;
  int m_port = 0;
  std::thread m_thread;
};

// A bare TCP server for what httplib cannot do: it reads each request's
// head, lets `respond` write what it likes (nothing, half a response) to the
// socket, and closes the connection.
class RawServer {
public:
  explicit RawServer(std::function<void(int fd, int connection)> respond)
    : m_respond(std::move(respond)) {
    m_listen = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(m_listen >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    REQUIRE(::bind(m_listen, reinterpret_cast<sockaddr*>(&address), size) == 0);
    REQUIRE(::listen(m_listen, 16) == 0);
    REQUIRE(::getsockname(m_listen, reinterpret_cast<sockaddr*>(&address), &size) == 0);
    m_port = ntohs(address.sin_port);
    m_thread = std::thread([this] { serve(); });
  }
  RawServer(const RawServer&) = delete;
  RawServer& operator=(const RawServer&) = delete;
  ~RawServer() {
    m_stop = true;
    m_thread.join();
    ::close(m_listen);
  }

  std::string url(std::string_view path) const {
    return fmt::format("http://127.0.0.1:{}{}", m_port, path);
  }
  int connections() const { return m_connections.load(); }

private:
  void serve() {
    while (!m_stop) {
      pollfd ready{m_listen, POLLIN, 0};
      if (::poll(&ready, 1, 20) <= 0) {
        continue;
      }
      int fd = ::accept4(m_listen, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        continue;
      }
      std::string head;
      char buffer[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        pollfd readable{fd, POLLIN, 0};
        if (::poll(&readable, 1, 2000) <= 0) {
          break;
        }
        ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
        if (got <= 0) {
          break;
        }
        head.append(buffer, static_cast<size_t>(got));
      }
      m_respond(fd, m_connections.fetch_add(1) + 1);
      ::close(fd);
    }
  }

  std::function<void(int, int)> m_respond;
  int m_listen = -1;
  int m_port = 0;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_connections{0};
  std::thread m_thread;
};

void send_all(int fd, std::string_view data) {
  ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
}

// A loopback port where connections are refused: bound, never listening,
// and held so that nothing else takes it.
class RefusingPort {
public:
  RefusingPort() {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(m_fd >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    REQUIRE(::bind(m_fd, reinterpret_cast<sockaddr*>(&address), size) == 0);
    REQUIRE(::getsockname(m_fd, reinterpret_cast<sockaddr*>(&address), &size) == 0);
    m_port = ntohs(address.sin_port);
  }
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  ~RefusingPort() { ::close(m_fd); }
  std::string url(std::string_view path) const {
    return fmt::format("http://127.0.0.1:{}{}", m_port, path);
  }

private:
  int m_fd = -1;
  int m_port = 0;
};

Request get(std::string url) {
  Request request;
  request.url = std::move(url);
  return request;
}

// Quick retries, so that tests spend their time on what they check.
ClientOptions fast_options(int max_attempts = 4) {
  ClientOptions options;
  options.name = "test";
  options.retry.max_attempts = max_attempts;
  options.retry.base = 1ms;
  options.retry.cap = 4ms;
  options.request_timeout = 10s;
  options.connect_timeout = 5s;
  return options;
}

// Collects log lines at `level` for the test's duration.
class LogCapture {
public:
  explicit LogCapture(LogLevel level) {
    stove::http::set_log_level(level);
    stove::http::set_log_sink([this](std::string_view line) {
      std::lock_guard lock(m_mutex);
      m_lines.emplace_back(line);
    });
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  ~LogCapture() {
    stove::http::set_log_sink({});
    stove::http::set_log_level(LogLevel::warn);
  }
  std::vector<std::string> lines() {
    std::lock_guard lock(m_mutex);
    return m_lines;
  }

private:
  std::mutex m_mutex;
  std::vector<std::string> m_lines;
};

// Runs `body`, which must throw TransportError, and returns the error.
template <typename Body>
std::optional<TransportError> transport_error(Body&& body) {
  try {
    body();
  } catch (const TransportError& e) {
    return e;
  }
  return std::nullopt;
}

std::string contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos ? "yes" : fmt::format("no: {}", text);
}

} // namespace

TEST_SUITE("url_encode") {
  TEST_CASE("http: keeps unreserved characters and percent-encodes every other byte in uppercase hex") {
    using stove::http::url_encode;
    CHECK(url_encode("") == "");
    CHECK(url_encode("AZaz09-._~") == "AZaz09-._~");
    CHECK(url_encode("a b/c?d=e&f+g") == "a%20b%2Fc%3Fd%3De%26f%2Bg");
    CHECK(url_encode("caf\xc3\xa9") == "caf%C3%A9");
    CHECK(url_encode(std::string_view("\0\xff", 2)) == "%00%FF");
    CHECK(url_encode("%:@!*'()") == "%25%3A%40%21%2A%27%28%29");
  }
}

TEST_SUITE("redact_url") {
  TEST_CASE("http: replaces the userinfo") {
    using stove::http::redact_url;
    CHECK(redact_url("https://user:pass@host/p") == "https://<redacted>@host/p");
    CHECK(redact_url("http://token@host:8080") == "http://<redacted>@host:8080");
    CHECK(redact_url("http://a@b@host/x?y=1") == "http://<redacted>@host/x?y=1");
    CHECK(redact_url("http://host/a@b") == "http://host/a@b");
    CHECK(redact_url("http://host?x=a@b") == "http://host?x=a@b");
    CHECK(redact_url("http://host:1/path") == "http://host:1/path");
  }

  TEST_CASE("http: redacts the values of query parameters named like credentials") {
    using stove::http::redact_url;
    CHECK(redact_url("https://s3.example/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                     "&X-Amz-Credential=AKIA%2F20240101&X-Amz-Date=20240101T000000Z"
                     "&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=abc123"
                     "&X-Amz-Security-Token=tok") ==
          "https://s3.example/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
          "&X-Amz-Credential=<redacted>&X-Amz-Date=20240101T000000Z"
          "&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=<redacted>"
          "&X-Amz-Security-Token=<redacted>");
    for (const char* name : {"token", "access_token", "password", "secret", "client_secret", "key",
                             "signature", "sig", "TOKEN", "Password", "x-amz-signature",
                             "page_token", "api_key"}) {
      CAPTURE(name);
      CHECK(redact_url(fmt::format("http://h/p?a=1&{}=v4lue&b=2", name)) ==
            fmt::format("http://h/p?a=1&{}=<redacted>&b=2", name));
    }
    for (const char* name : {"name", "keyword", "monkey", "signed", "q", "page"}) {
      CAPTURE(name);
      std::string url = fmt::format("http://h/p?{}=v4lue", name);
      CHECK(redact_url(url) == url);
    }
  }

  TEST_CASE("http: leaves the fragment, empty values and bare names alone") {
    using stove::http::redact_url;
    CHECK(redact_url("http://h/p?token=x#frag") == "http://h/p?token=<redacted>#frag");
    CHECK(redact_url("http://h/p#a?token=x") == "http://h/p#a?token=x");
    CHECK(redact_url("http://h/p?token=&flag&secret=s") == "http://h/p?token=&flag&secret=<redacted>");
    CHECK(redact_url("/relative?password=x") == "/relative?password=<redacted>");
    CHECK(redact_url("http://u:p@h/p?sig=1") == "http://<redacted>@h/p?sig=<redacted>");
  }
}

TEST_SUITE("log level") {
  TEST_CASE("http: parse_log_level accepts the four names in any case") {
    using stove::http::parse_log_level;
    CHECK(parse_log_level("error") == LogLevel::error);
    CHECK(parse_log_level("warn") == LogLevel::warn);
    CHECK(parse_log_level("Info") == LogLevel::info);
    CHECK(parse_log_level("DEBUG") == LogLevel::debug);
    CHECK(parse_log_level("warning") == std::nullopt);
    CHECK(parse_log_level("") == std::nullopt);
  }

  TEST_CASE("http: the level is process-wide and warn by default") {
    CHECK(stove::http::log_level() == LogLevel::warn);
    stove::http::set_log_level(LogLevel::debug);
    CHECK(stove::http::log_level() == LogLevel::debug);
    stove::http::set_log_level(LogLevel::warn);
  }
}

TEST_SUITE("Request and Response") {
  TEST_CASE("http: Request::json sets the method, URL, body and JSON headers") {
    Request request = Request::json("POST", "http://h/x", {{"name", "web"}, {"size", 2}});
    CHECK(request.method == "POST");
    CHECK(request.url == "http://h/x");
    CHECK(nlohmann::json::parse(request.body) == nlohmann::json{{"name", "web"}, {"size", 2}});
    CHECK(request.headers == stove::http::Headers{{"Content-Type", "application/json"},
                                                  {"Accept", "application/json"}});
    CHECK(request.idempotent);
  }

  TEST_CASE("http: Response::header ignores case and returns the first of that name") {
    Response response;
    response.headers = {{"x-one", "1"}, {"x-two", "2"}, {"x-one", "again"}};
    CHECK(response.header("X-One") == "1");
    CHECK(response.header("x-two") == "2");
    CHECK(response.header("x-three") == std::nullopt);
  }

  TEST_CASE("http: Response::json throws bad_response naming the request and status but not the body") {
    Response response;
    response.status = 502;
    response.body = "<html>bad gateway</html>";
    response.label = "GET http://h/x";
    auto error = transport_error([&] { response.json(); });
    REQUIRE(error);
    CHECK(error->reason() == Reason::bad_response);
    CHECK(contains(error->what(), "GET http://h/x") == "yes");
    CHECK(contains(error->what(), "502") == "yes");
    CHECK(std::string(error->what()).find("bad gateway") == std::string::npos);

    response.body = "";
    error = transport_error([&] { response.json(); });
    REQUIRE(error);
    CHECK(error->reason() == Reason::bad_response);

    response.body = R"({"ok": true})";
    CHECK(response.json() == nlohmann::json{{"ok", true}});
  }
}

TEST_SUITE("Deadline") {
  TEST_CASE("http: sleep returns after the duration when nothing cuts it short") {
    auto start = Clock::now();
    Deadline::after(10s).sleep(30ms);
    CHECK(ms_since(start) >= 30);
    Deadline{}.sleep(0ms);
  }

  TEST_CASE("http: sleep stops at the deadline with a timeout") {
    auto start = Clock::now();
    auto error = transport_error([&] { Deadline::after(100ms).sleep(10s); });
    REQUIRE(error);
    CHECK(error->reason() == Reason::timeout);
    CHECK(ms_since(start) >= 100);
    CHECK(ms_since(start) < 2000);
  }

  TEST_CASE("http: sleep wakes up promptly when cancelled") {
    CancelToken cancel;
    std::thread canceller([&] {
      std::this_thread::sleep_for(100ms);
      cancel.cancel();
    });
    auto start = Clock::now();
    auto error = transport_error([&] { Deadline::after(10s, &cancel).sleep(10s); });
    canceller.join();
    REQUIRE(error);
    CHECK(error->reason() == Reason::cancelled);
    CHECK(ms_since(start) < 1000);
  }
}

TEST_SUITE("http::Client") {
  TEST_CASE("http: sends a JSON request and returns the status, headers and body") {
    std::mutex mutex;
    httplib::Request seen;
    TestServer server;
    server.http().Post("/things", [&](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(mutex);
        seen = req;
      }
      res.status = 201;
      res.set_header("X-Request-Id", "r-1");
      res.set_content(fmt::format(R"({{"echo": {}}})", req.body), "application/json");
    });
    server.start();
    Client client(fast_options());

    nlohmann::json body = {{"name", "web"}, {"note", "caf\xc3\xa9"}};
    Request request = Request::json("POST", server.url("/things"), body);
    request.headers.emplace_back("Authorization", "Bearer abc");
    Response response = client.send(request);

    CHECK(response.status == 201);
    CHECK(response.ok());
    CHECK(response.attempts == 1);
    CHECK(response.header("X-REQUEST-ID") == "r-1");
    CHECK(response.json()["echo"] == body);
    CHECK(response.label == fmt::format("POST {}", server.url("/things")));
    for (const auto& [name, value] : response.headers) {
      CHECK(std::none_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; }));
    }
    std::lock_guard lock(mutex);
    CHECK(seen.get_header_value("Content-Type") == "application/json");
    CHECK(seen.get_header_value("Accept") == "application/json");
    CHECK(seen.get_header_value("Authorization") == "Bearer abc");
    CHECK(seen.get_header_value("User-Agent").rfind("stove/", 0) == 0);
    CHECK(nlohmann::json::parse(seen.body) == body);
    CHECK(client.stats().requests == 1);
    CHECK(client.stats().retries == 0);
  }

  TEST_CASE("http: sends each method with its body") {
    TestServer server;
    auto echo = [](const httplib::Request& req, httplib::Response& res) {
      res.set_header("X-Method", req.method);
      res.set_content(fmt::format("{}:{}", req.method, req.body), "text/plain");
    };
    server.http().Get("/m", echo).Put("/m", echo).Delete("/m", echo).Patch("/m", echo);
    server.http().Post("/m", echo);
    server.start();
    Client client(fast_options());

    auto send = [&](std::string method, std::string body) {
      Request request;
      request.method = std::move(method);
      request.url = server.url("/m");
      request.body = std::move(body);
      return client.send(request);
    };
    CHECK(send("GET", "").body == "GET:");
    CHECK(send("PUT", "x=1").body == "PUT:x=1");
    CHECK(send("PUT", "").body == "PUT:");
    CHECK(send("POST", "").body == "POST:");
    CHECK(send("DELETE", "").body == "DELETE:");
    CHECK(send("PATCH", "p").body == "PATCH:p");
    Response head = send("HEAD", "");
    CHECK(head.status == 200);
    CHECK(head.header("x-method") == "HEAD");
    CHECK(head.body.empty());
  }

  TEST_CASE("http: does not send Expect 100-continue nor make up a Content-Type") {
    std::atomic<bool> expect{false};
    std::atomic<size_t> size{0};
    std::mutex mutex;
    std::string type = "unset";
    TestServer server;
    server.http().set_payload_max_length(64 * 1024 * 1024);
    server.http().Post("/big", [&](const httplib::Request& req, httplib::Response& res) {
      expect = req.has_header("Expect");
      {
        std::lock_guard lock(mutex);
        type = req.get_header_value("Content-Type");
      }
      size = req.body.size();
      res.set_content("ok", "text/plain");
    });
    server.start();
    Client client(fast_options());

    Request request;
    request.method = "POST";
    request.url = server.url("/big");
    request.body.assign(2 * 1024 * 1024, 'x');
    CHECK(client.send(request).status == 200);
    CHECK(size == request.body.size());
    CHECK_FALSE(expect);
    CHECK(type == "");
  }

  TEST_CASE("http: returns redirects instead of following them") {
    std::atomic<int> targets{0};
    TestServer server;
    server.http().Get("/old", [&](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/new");
    });
    server.http().Get("/new", [&](const httplib::Request&, httplib::Response& res) {
      ++targets;
      res.set_content("new", "text/plain");
    });
    server.start();
    Client client(fast_options());

    Response response = client.send(get(server.url("/old")));
    CHECK(response.status == 302);
    CHECK(response.header("location") == "/new");
    CHECK(targets == 0);
  }

  TEST_CASE("http: reuses one connection for sequential requests") {
    std::mutex mutex;
    std::set<int> ports;
    TestServer server;
    server.http().Get("/ping", [&](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex);
      ports.insert(req.remote_port);
      res.set_content("pong", "text/plain");
    });
    server.start();
    Client client(fast_options());

    for (int i = 0; i < 10; ++i) {
      CHECK(client.send(get(server.url("/ping"))).status == 200);
    }
    std::lock_guard lock(mutex);
    CHECK(ports.size() == 1);
    CHECK(client.stats().requests == 10);
  }

  TEST_CASE("http: opens no more connections than requests may be in flight") {
    std::mutex mutex;
    std::set<int> ports;
    TestServer server;
    server.http().Get("/ping", [&](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(mutex);
        ports.insert(req.remote_port);
      }
      std::this_thread::sleep_for(5ms);
      res.set_content("pong", "text/plain");
    });
    server.start();
    ClientOptions options = fast_options();
    options.max_in_flight = 2;
    Client client(options);

    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 5; ++i) {
          ok += client.send(get(server.url("/ping"))).status == 200 ? 1 : 0;
        }
      });
    }
    for (auto& thread : threads) {
      thread.join();
    }
    CHECK(ok == 30);
    std::lock_guard lock(mutex);
    CHECK(ports.size() >= 1);
    CHECK(ports.size() <= 2);
  }

  TEST_CASE("http: caps the requests in flight across threads") {
    std::atomic<int> active{0};
    std::atomic<int> most{0};
    TestServer server;
    server.http().Get("/work", [&](const httplib::Request&, httplib::Response& res) {
      int now = ++active;
      for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
      }
      std::this_thread::sleep_for(100ms);
      --active;
      res.set_content("done", "text/plain");
    });
    server.start();
    ClientOptions options = fast_options();
    options.max_in_flight = 3;
    Client client(options);

    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 2; ++i) {
          client.send(get(server.url("/work")));
        }
      });
    }
    for (auto& thread : threads) {
      thread.join();
    }
    CHECK(most == 3);
    CHECK(client.stats().requests == 16);
  }

  TEST_CASE("http: retries 503 and returns the success that follows") {
    std::atomic<int> hits{0};
    TestServer server;
    server.http().Get("/flaky", [&](const httplib::Request&, httplib::Response& res) {
      if (++hits <= 2) {
        res.status = 503;
        return;
      }
      res.set_content("fine", "text/plain");
    });
    server.start();
    Client client(fast_options(6));

    Response response = client.send(get(server.url("/flaky")));
    CHECK(response.status == 200);
    CHECK(response.body == "fine");
    CHECK(response.attempts == 3);
    CHECK(hits == 3);
    CHECK(client.stats().requests == 3);
    CHECK(client.stats().retries == 2);
  }

  TEST_CASE("http: returns the last error response once the attempts run out") {
    std::atomic<int> hits{0};
    TestServer server;
    server.http().Get("/down", [&](const httplib::Request&, httplib::Response& res) {
      res.status = 500;
      res.set_content(fmt::format("failure {}", ++hits), "text/plain");
    });
    server.start();
    Client client(fast_options(4));

    Response response = client.send(get(server.url("/down")));
    CHECK(response.status == 500);
    CHECK(response.attempts == 4);
    CHECK(response.body == "failure 4");
    CHECK(hits == 4);
    CHECK(client.stats().retries == 3);
  }

  TEST_CASE("http: does not retry 501 Not Implemented, which no retry can change") {
    std::atomic<int> hits{0};
    TestServer server;
    server.http().Get("/tagging", [&](const httplib::Request&, httplib::Response& res) {
      ++hits;
      res.status = 501;
    });
    server.start();
    Client client(fast_options(4));
    Response response = client.send(get(server.url("/tagging")));
    CHECK(response.status == 501);
    CHECK(response.attempts == 1);
    CHECK(hits == 1);
  }

  TEST_CASE("http: does not retry client errors other than 429") {
    std::atomic<int> hits{0};
    TestServer server;
    server.http().Get(R"(/status/(\d+))", [&](const httplib::Request& req, httplib::Response& res) {
      ++hits;
      res.status = std::stoi(req.matches[1]);
    });
    server.start();
    Client client(fast_options(4));

    for (int status : {400, 401, 404, 409, 422}) {
      CAPTURE(status);
      hits = 0;
      Response response = client.send(get(server.url(fmt::format("/status/{}", status))));
      CHECK(response.status == status);
      CHECK(response.attempts == 1);
      CHECK(hits == 1);
    }
  }

  TEST_CASE("http: retries a non-idempotent request only on statuses that prove it was not processed") {
    std::atomic<int> hits{0};
    std::atomic<int> failing_status{0};
    TestServer server;
    server.http().Post("/create", [&](const httplib::Request&, httplib::Response& res) {
      if (++hits == 1) {
        res.status = failing_status;
        return;
      }
      res.status = 201;
    });
    server.start();
    Client client(fast_options(4));
    Request request = Request::json("POST", server.url("/create"), {{"name", "web"}});
    request.idempotent = false;

    for (int status : {500, 502, 504}) {
      CAPTURE(status);
      hits = 0;
      failing_status = status;
      Response response = client.send(request);
      CHECK(response.status == status);
      CHECK(response.attempts == 1);
      CHECK(hits == 1);
    }
    for (int status : {429, 503}) {
      CAPTURE(status);
      hits = 0;
      failing_status = status;
      Response response = client.send(request);
      CHECK(response.status == 201);
      CHECK(response.attempts == 2);
      CHECK(hits == 2);
    }
  }

  TEST_CASE("http: waits as long as Retry-After asks on 429") {
    std::atomic<int> hits{0};
    TestServer server;
    server.http().Get("/slow-down", [&](const httplib::Request&, httplib::Response& res) {
      if (++hits == 1) {
        res.status = 429;
        res.set_header("Retry-After", "1");
        return;
      }
      res.set_content("ok", "text/plain");
    });
    server.start();
    Client client(fast_options());

    auto start = Clock::now();
    Response response = client.send(get(server.url("/slow-down")));
    CHECK(response.status == 200);
    CHECK(response.attempts == 2);
    CHECK(ms_since(start) >= 1000);
    CHECK(ms_since(start) < 3000);
  }

  TEST_CASE("http: understands Retry-After given as an HTTP date") {
    std::atomic<int> hits{0};
    TestServer server;
    server.http().Get("/later", [&](const httplib::Request&, httplib::Response& res) {
      if (++hits == 1) {
        std::time_t at = std::time(nullptr) + 2;
        std::tm parts{};
        gmtime_r(&at, &parts);
        char date[64];
        std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &parts);
        res.status = 503;
        res.set_header("Retry-After", date);
        return;
      }
      res.set_content("ok", "text/plain");
    });
    server.start();
    Client client(fast_options());

    auto start = Clock::now();
    Response response = client.send(get(server.url("/later")));
    CHECK(response.status == 200);
    CHECK(ms_since(start) >= 1000);
    CHECK(ms_since(start) < 4000);
  }

  TEST_CASE("http: caps Retry-After at max_retry_after") {
    std::atomic<int> hits{0};
    TestServer server;
    server.http().Get("/busy", [&](const httplib::Request&, httplib::Response& res) {
      if (++hits == 1) {
        res.status = 503;
        res.set_header("Retry-After", "3600");
        return;
      }
      res.set_content("ok", "text/plain");
    });
    server.start();
    ClientOptions options = fast_options();
    options.retry.max_retry_after = 50ms;
    Client client(options);

    auto start = Clock::now();
    Response response = client.send(get(server.url("/busy")));
    CHECK(response.status == 200);
    CHECK(response.attempts == 2);
    CHECK(ms_since(start) >= 50);
    CHECK(ms_since(start) < 2000);
  }

  TEST_CASE("http: does not start a wait that would end past the deadline") {
    std::atomic<int> hits{0};
    TestServer server;
    server.http().Get("/busy", [&](const httplib::Request&, httplib::Response& res) {
      ++hits;
      res.status = 503;
      res.set_header("Retry-After", "30");
    });
    server.start();
    Client client(fast_options());

    auto start = Clock::now();
    Response response = client.send(get(server.url("/busy")), Deadline::after(2s));
    CHECK(response.status == 503);
    CHECK(response.attempts == 1);
    CHECK(hits == 1);
    CHECK(ms_since(start) < 1000);
  }

  TEST_CASE("http: gives up with a timeout when the deadline passes during a request") {
    TestServer server;
    server.http().Get("/hang", [&](const httplib::Request&, httplib::Response& res) {
      server.gate().wait();
      res.set_content("late", "text/plain");
    });
    server.start();
    Client client(fast_options());

    auto start = Clock::now();
    auto error = transport_error(
        [&] { client.send(get(server.url("/hang")), Deadline::after(300ms)); });
    REQUIRE(error);
    CHECK(error->reason() == Reason::timeout);
    CHECK(contains(error->what(), fmt::format("GET {}", server.url("/hang"))) == "yes");
    CHECK(ms_since(start) >= 290);
    CHECK(ms_since(start) < 2000);
    CHECK(client.stats().requests == 1);
  }

  TEST_CASE("http: retries an attempt that timed out, then reports the connection error") {
    TestServer server;
    server.http().Get("/hang", [&](const httplib::Request&, httplib::Response& res) {
      server.gate().wait();
      res.set_content("late", "text/plain");
    });
    server.start();
    ClientOptions options = fast_options(2);
    options.request_timeout = 150ms;
    Client client(options);

    auto start = Clock::now();
    auto error = transport_error([&] { client.send(get(server.url("/hang"))); });
    REQUIRE(error);
    CHECK(error->reason() == Reason::connection);
    CHECK(contains(error->what(), fmt::format("GET {}", server.url("/hang"))) == "yes");
    CHECK(contains(error->what(), "timed out") == "yes");
    CHECK(server.gate().entered(2));
    CHECK(ms_since(start) >= 290);
    CHECK(client.stats().requests == 2);
  }

  TEST_CASE("http: retries a connection dropped before the response, unless the request is not idempotent") {
    RawServer raw([](int, int) {});
    Client client(fast_options(3));

    auto error = transport_error([&] { client.send(get(raw.url("/x?token=t0ps3cret"))); });
    REQUIRE(error);
    CHECK(error->reason() == Reason::connection);
    CHECK(contains(error->what(), fmt::format("GET {}", raw.url("/x?token=<redacted>"))) == "yes");
    CHECK(contains(error->what(), "Empty reply from server") == "yes");
    CHECK(std::string(error->what()).find("t0ps3cret") == std::string::npos);
    CHECK(raw.connections() == 3);

    Request create = Request::json("POST", raw.url("/create"), {{"name", "web"}});
    create.idempotent = false;
    error = transport_error([&] { client.send(create); });
    REQUIRE(error);
    CHECK(error->reason() == Reason::connection);
    CHECK(raw.connections() == 4);
  }

  TEST_CASE("http: retries a response cut short") {
    RawServer raw([](int fd, int connection) {
      if (connection == 1) {
        send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
      } else {
        send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nwhole");
      }
    });
    Client client(fast_options(3));

    Response response = client.send(get(raw.url("/x")));
    CHECK(response.status == 200);
    CHECK(response.body == "whole");
    CHECK(response.attempts == 2);
    CHECK(raw.connections() == 2);
  }

  TEST_CASE("http: retries a refused connection even for a non-idempotent request") {
    RefusingPort port;
    Client client(fast_options(3));
    Request create = Request::json("POST", port.url("/create"), {{"name", "web"}});
    create.idempotent = false;

    auto error = transport_error([&] { client.send(create); });
    REQUIRE(error);
    CHECK(error->reason() == Reason::connection);
    CHECK(contains(error->what(), fmt::format("POST {}", port.url("/create"))) == "yes");
    CHECK(contains(error->what(), "3 attempts") == "yes");
    CHECK(client.stats().requests == 3);
    CHECK(client.stats().retries == 2);
  }

  TEST_CASE("http: cancels a request waiting on a slow server promptly") {
    TestServer server;
    server.http().Get("/hang", [&](const httplib::Request&, httplib::Response& res) {
      server.gate().wait();
      res.set_content("late", "text/plain");
    });
    server.start();
    Client client(fast_options());
    CancelToken cancel;

    std::thread canceller([&] {
      server.gate().entered(1);
      cancel.cancel();
    });
    auto start = Clock::now();
    auto error = transport_error(
        [&] { client.send(get(server.url("/hang")), Deadline::after(30s, &cancel)); });
    canceller.join();
    REQUIRE(error);
    CHECK(error->reason() == Reason::cancelled);
    CHECK(ms_since(start) < 1000);
  }

  TEST_CASE("http: cancels a wait between attempts promptly") {
    std::atomic<int> hits{0};
    TestServer server;
    server.http().Get("/busy", [&](const httplib::Request&, httplib::Response& res) {
      ++hits;
      res.status = 503;
      res.set_header("Retry-After", "20");
    });
    server.start();
    Client client(fast_options());
    CancelToken cancel;

    std::thread canceller([&] {
      std::this_thread::sleep_for(200ms);
      cancel.cancel();
    });
    auto start = Clock::now();
    auto error = transport_error(
        [&] { client.send(get(server.url("/busy")), Deadline::after(60s, &cancel)); });
    canceller.join();
    REQUIRE(error);
    CHECK(error->reason() == Reason::cancelled);
    CHECK(hits == 1);
    CHECK(ms_since(start) < 1200);
  }

  TEST_CASE("http: a wait for a free slot gives up at the deadline or on cancel") {
    TestServer server;
    server.http().Get("/hang", [&](const httplib::Request&, httplib::Response& res) {
      server.gate().wait();
      res.set_content("late", "text/plain");
    });
    server.start();
    ClientOptions options = fast_options();
    options.max_in_flight = 1;
    Client client(options);

    std::thread holder([&] {
      try {
        client.send(get(server.url("/hang")));
      } catch (const TransportError&) {
      }
    });
    struct Release {
      Gate& gate;
      std::thread& thread;
      ~Release() {
        gate.open();
        thread.join();
      }
    } release{server.gate(), holder};
    REQUIRE(server.gate().entered(1));

    SUBCASE("deadline") {
      auto start = Clock::now();
      auto error = transport_error(
          [&] { client.send(get(server.url("/hang")), Deadline::after(200ms)); });
      REQUIRE(error);
      CHECK(error->reason() == Reason::timeout);
      CHECK(ms_since(start) >= 200);
      CHECK(ms_since(start) < 1000);
    }
    SUBCASE("cancel") {
      CancelToken cancel;
      std::thread canceller([&] {
        std::this_thread::sleep_for(100ms);
        cancel.cancel();
      });
      auto start = Clock::now();
      auto error = transport_error(
          [&] { client.send(get(server.url("/hang")), Deadline::after(30s, &cancel)); });
      canceller.join();
      REQUIRE(error);
      CHECK(error->reason() == Reason::cancelled);
      CHECK(ms_since(start) < 1000);
    }
    CHECK(client.stats().requests == 1);
  }

  TEST_CASE("http: logs each attempt at debug without credentials, and retries at info") {
    std::atomic<int> hits{0};
    TestServer server;
    server.http().Get(R"(/things/.*)", [&](const httplib::Request&, httplib::Response& res) {
      if (++hits == 1) {
        res.status = 503;
        return;
      }
      res.set_content("secret body s3cr3t-value", "text/plain");
    });
    server.start();
    LogCapture log(LogLevel::debug);
    ClientOptions options = fast_options(3);
    options.name = "ovc";
    options.secrets = {"s3cr3t-value"};
    Client client(options);
    client.add_secret("late/secret");

    Request request;
    request.url = fmt::format("http://admin:hunter2@{}?token=tok-QUERY&q=s3cr3t-value",
                              server.url("/things/late%2Fsecret").substr(7));
    request.headers = {{"Authorization", "Bearer tok-AUTH-123"}};
    request.body = "s3cr3t-value";
    CHECK(client.send(request).status == 200);

    std::string shown = fmt::format(
        "GET http://<redacted>@{}?token=<redacted>&q=<redacted>",
        server.url("/things/<redacted>").substr(7));
    std::vector<std::string> lines = log.lines();
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].rfind(fmt::format("stove: debug: http[ovc]: {} -> 503 (", shown), 0) == 0);
    CHECK(std::regex_match(lines[0], std::regex(R"(.* -> 503 \(\d+ ms\)\n)")));
    CHECK(lines[1].rfind(fmt::format("stove: info: http[ovc]: {} -> 503, retrying in ", shown), 0) == 0);
    CHECK(std::regex_match(lines[1], std::regex(R"(.* -> 503, retrying in \d+ ms \(attempt 2/3\)\n)")));
    CHECK(lines[2].rfind(fmt::format("stove: debug: http[ovc]: {} -> 200 (", shown), 0) == 0);
    CHECK(std::regex_match(lines[2], std::regex(R"(.* -> 200 \(\d+ ms, attempt 2/3\)\n)")));
    for (const std::string& line : lines) {
      CAPTURE(line);
      for (const char* leak : {"hunter2", "admin", "tok-AUTH-123", "Bearer", "uthorization",
                               "tok-QUERY", "s3cr3t", "late%2Fsecret", "secret body"}) {
        CHECK(line.find(leak) == std::string::npos);
      }
      CHECK(line.find('\n') == line.size() - 1);
    }
  }

  TEST_CASE("http: is quiet at the default level and shows only retries at info") {
    std::atomic<int> hits{0};
    TestServer server;
    server.http().Get("/flaky", [&](const httplib::Request&, httplib::Response& res) {
      res.status = ++hits % 2 == 1 ? 503 : 200;
    });
    server.start();
    Client client(fast_options());

    {
      LogCapture log(LogLevel::warn);
      CHECK(client.send(get(server.url("/flaky"))).attempts == 2);
      CHECK(log.lines().empty());
    }
    {
      LogCapture log(LogLevel::info);
      CHECK(client.send(get(server.url("/flaky"))).attempts == 2);
      std::vector<std::string> lines = log.lines();
      REQUIRE(lines.size() == 1);
      CHECK(lines[0].rfind("stove: info: http[test]: GET ", 0) == 0);
    }
  }

  TEST_CASE("http: backs off with full jitter, reproducibly for a seed") {
    TestServer server;
    server.http().Get("/down", [&](const httplib::Request&, httplib::Response& res) {
      res.status = 500;
    });
    server.start();

    auto waits = [&](uint64_t seed) {
      LogCapture log(LogLevel::info);
      ClientOptions options = fast_options(6);
      options.retry.base = 20ms;
      options.retry.cap = 80ms;
      options.seed = seed;
      Client client(options);
      CHECK(client.send(get(server.url("/down"))).attempts == 6);
      std::vector<long> found;
      for (const std::string& line : log.lines()) {
        std::smatch match;
        if (std::regex_search(line, match, std::regex(R"(retrying in (\d+) ms)"))) {
          found.push_back(std::stol(match[1]));
        }
      }
      return found;
    };
    std::vector<long> first = waits(42);
    REQUIRE(first.size() == 5);
    // Ceilings: base * 2^n, capped.
    const long ceilings[] = {20, 40, 80, 80, 80};
    for (size_t i = 0; i < first.size(); ++i) {
      CAPTURE(i);
      CHECK(first[i] >= 0);
      CHECK(first[i] <= ceilings[i]);
    }
    CHECK(waits(42) == first);
    CHECK(waits(43) != first);
  }
}
