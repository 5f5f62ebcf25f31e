#include "sandbox/server.hpp"

#include "util/error.hpp"
#include "sandbox/admin.hpp"
#include "sandbox/bacularis.hpp"
#include "sandbox/cloud.hpp"
#include "sandbox/committer.hpp"
#include "sandbox/s3.hpp"
#include "util/atomic_file.hpp"
#include "util/random.hpp"

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <netinet/in.h>
#include <optional>
#include <pthread.h>
#include <random>
#include <signal.h>
#include <sstream>
#include <sys/file.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace stove::sandbox {

using nlohmann::json;

namespace {

constexpr std::string_view k_api_prefix = "/restmachine/cloudapi/";
constexpr std::string_view k_control_prefix = "/sandbox/";
constexpr std::string_view k_admin_prefix = "/sandbox/admin/";
constexpr size_t k_max_body = 1 << 20;
constexpr int k_listen_backlog = 1024;
constexpr size_t k_keep_alive_requests = 100000;
constexpr time_t k_keep_alive_seconds = 5;

// The faults fail_rate injects. Drops come in two kinds: before the call
// runs (nothing happened) and after (it happened, but the caller cannot
// know): the second is what makes a retried create meet its own object.
enum class Fault { none, server_error, throttled, drop_before, drop_after };

class FaultInjector {
public:
  FaultInjector(double rate, uint64_t seed) : m_rate(rate) {
    if (seed == 0) {
      fill_random(&seed, sizeof seed);
    }
    m_rng.seed(seed);
  }

  // Whether this request fails, and how: with probability `rate`, then
  // evenly among 500, 429 and a dropped connection (half of the drops
  // before the call runs, half after). The same seed gives the same
  // sequence for the same order of requests.
  Fault draw() {
    if (m_rate <= 0.0) {
      return Fault::none;
    }
    std::lock_guard lock(m_mutex);
    // 53 random bits make a double in [0, 1) the same way on every
    // platform, which std::uniform_real_distribution does not promise.
    double u = static_cast<double>(m_rng() >> 11) * 0x1.0p-53;
    if (u >= m_rate) {
      return Fault::none;
    }
    switch (m_rng() % 6) {
    case 0:
    case 1:
      return Fault::server_error;
    case 2:
    case 3:
      return Fault::throttled;
    case 4:
      return Fault::drop_before;
    default:
      return Fault::drop_after;
    }
  }

private:
  double m_rate;
  std::mutex m_mutex;
  std::mt19937_64 m_rng;
};

// An exclusive flock on DATA_DIR/cloud.lock, so that two sandboxes never
// share a data directory (each would overwrite the other's file). The lock
// goes with the process, even when it is killed.
class DataDirLock {
public:
  DataDirLock() = default;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock() { release(); }

  void acquire(const std::string& data_dir) {
    std::string path = (std::filesystem::path(data_dir) / "cloud.lock").string();
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      throw Error(ErrorKind::io, fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      std::string holder = read_holder(fd);
      ::close(fd);
      if (err == EWOULDBLOCK) {
        throw Error(ErrorKind::io,
                    fmt::format("{} is in use by another stove sandbox{}", data_dir,
                                holder.empty() ? "" : fmt::format(" (pid {})", holder)));
      }
      throw Error(ErrorKind::io, fmt::format("{}: cannot lock: {}", path, std::strerror(err)));
    }
    // The pid is only for the message above; failing to record it is harmless.
    std::string pid = fmt::format("{}\n", ::getpid());
    bool recorded = ::ftruncate(fd, 0) == 0 && ::pwrite(fd, pid.data(), pid.size(), 0) > 0;
    static_cast<void>(recorded);
    m_fd = fd;
  }

  void release() {
    if (m_fd >= 0) {
      ::close(m_fd);
      m_fd = -1;
    }
  }

private:
  static std::string read_holder(int fd) {
    char buffer[32] = {};
    ssize_t got = ::pread(fd, buffer, sizeof buffer - 1, 0);
    std::string text(buffer, got > 0 ? static_cast<size_t>(got) : 0);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
      text.pop_back();
    }
    return text.find_first_not_of("0123456789") == std::string::npos ? text : std::string();
  }

  int m_fd = -1;
};

// cpp-httplib's server with the accept backlog raised: the library listens
// with a backlog of 5, and 64 clients connecting at once would then see
// dropped SYNs and a second's retransmission delay.
class HttpServer : public httplib::Server {
public:
  void raise_backlog(int backlog) {
    socket_t sock = svr_sock_;
    if (sock != INVALID_SOCKET) {
      // listen(2) on a listening socket only changes its backlog.
      ::listen(sock, backlog);
    }
  }
};

std::string address_text(const sockaddr_storage& address, int* port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    *port = ntohs(v4->sin_port);
    ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
  } else if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    *port = ntohs(v6->sin6_port);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
  } else {
    *port = -1;
  }
  return text;
}

struct Endpoint {
  std::string address;
  int port = -1;
};

// Calls `visit` with every connected socket of the process and its two
// ends, until it returns true; false if /proc/self/fd cannot be read.
// cpp-httplib never hands its sockets to handlers, so they are found among
// the process's descriptors by their ends, which identify a TCP
// connection.
bool for_each_connected_socket(
    const std::function<bool(int sock, const Endpoint& local, const Endpoint& peer)>& visit) {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) {
    return false;
  }
  while (dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == ::dirfd(dir)) {
      continue;
    }
    sockaddr_storage local{};
    sockaddr_storage peer{};
    socklen_t local_size = sizeof local;
    socklen_t peer_size = sizeof peer;
    auto sock = static_cast<int>(fd);
    if (::getsockname(sock, reinterpret_cast<sockaddr*>(&local), &local_size) != 0 ||
        ::getpeername(sock, reinterpret_cast<sockaddr*>(&peer), &peer_size) != 0) {
      continue;
    }
    Endpoint local_end;
    Endpoint peer_end;
    local_end.address = address_text(local, &local_end.port);
    peer_end.address = address_text(peer, &peer_end.port);
    if (visit(sock, local_end, peer_end)) {
      break;
    }
  }
  ::closedir(dir);
  return true;
}

// The socket of the connection `request` came on, or -1.
int connection_socket(const httplib::Request& request) {
  int found = -1;
  for_each_connected_socket([&](int sock, const Endpoint& local, const Endpoint& peer) {
    if (local.port == request.local_port && peer.port == request.remote_port &&
        local.address == request.local_addr && peer.address == request.remote_addr) {
      found = sock;
      return true;
    }
    return false;
  });
  return found;
}

// Ends the keep-alive waits of the connections accepted on `port`: each
// worker thread waits up to the keep-alive timeout for a connection's next
// request and only then sees the server has stopped. Shutting down the
// reading side wakes it at once, while a response being written still goes
// out whole.
void end_idle_connections(int port) {
  for_each_connected_socket([&](int sock, const Endpoint& local, const Endpoint&) {
    if (local.port == port) {
      ::shutdown(sock, SHUT_RD);
    }
    return false;
  });
}

// Drops the connection without a response: the client sees it closed
// before a single byte came back (curl: "Empty reply from server"), as
// when a proxy or the network fails. Shutting the socket down, rather than
// closing it, leaves the descriptor to cpp-httplib, whose writes then fail
// and which closes it.
void drop_connection(const httplib::Request& request, httplib::Response& response) {
  int sock = connection_socket(request);
  if (sock >= 0) {
    ::shutdown(sock, SHUT_RDWR);
    return;
  }
  // Without /proc: promise a body and send none, which cuts the response
  // after its headers; clients fail with a transport error all the same.
  response.set_content_provider(1, "application/json",
                                [](size_t, size_t, httplib::DataSink&) { return false; });
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

// Compares in time independent of where the strings differ, so that the
// token cannot be guessed a character at a time.
bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

// Whether `header` (an Authorization header) carries `token`: "Bearer
// TOKEN", the scheme in any case.
bool authorized(const std::string& header, const std::string& token) {
  auto space = header.find(' ');
  if (space == std::string::npos || !equals_ignoring_case(header.substr(0, space), "bearer")) {
    return false;
  }
  auto start = header.find_first_not_of(' ', space);
  if (start == std::string::npos) {
    return false;
  }
  auto end = header.find_last_not_of(" \t");
  return same_secret(std::string_view(header).substr(start, end + 1 - start), token);
}

struct Route {
  std::string actor;
  std::string method;
};

// /restmachine/cloudapi/ACTOR/METHOD
std::optional<Route> parse_route(const std::string& path) {
  if (path.compare(0, k_api_prefix.size(), k_api_prefix) != 0) {
    return std::nullopt;
  }
  std::string rest = path.substr(k_api_prefix.size());
  auto slash = rest.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == rest.size() ||
      rest.find('/', slash + 1) != std::string::npos) {
    return std::nullopt;
  }
  return Route{rest.substr(0, slash), rest.substr(slash + 1)};
}

// For the errors cpp-httplib answers by itself.
std::string_view reason_phrase(int status) {
  switch (status) {
  case 400:
    return "Bad Request";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 413:
    return "Payload Too Large";
  case 414:
    return "URI Too Long";
  case 416:
    return "Range Not Satisfiable";
  case 431:
    return "Request Header Fields Too Large";
  default:
    return status >= 500 ? "Internal Server Error" : "Request Refused";
  }
}

void respond(httplib::Response& response, int status, const json& body,
             const std::string& content_type = {}) {
  response.status = status;
  if (!content_type.empty() && body.is_string()) {
    response.set_content(body.get<std::string>(), content_type);
    return;
  }
  response.set_content(body.dump(), "application/json");
}

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error(ErrorKind::io, fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    throw Error(ErrorKind::io, fmt::format("{}: cannot read", path));
  }
  return text.str();
}

// The path as logged: one line per request, whatever bytes the client
// percent-encoded into it.
std::string printable(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = '?';
    }
  }
  return out;
}

long long elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               since)
      .count();
}

} // namespace

namespace {

// Backup jobs reach their client's file daemon on the sandbox cloud's
// machines: a job whose client's address is no RUNNING machine fails.
JobOptions job_options(const Options& options, const Cloud& cloud) {
  JobOptions jobs;
  jobs.duration = options.job_duration;
  jobs.client_reachable = [&cloud](std::string_view address) {
    return cloud.address_running(address);
  };
  return jobs;
}

} // namespace

struct Server::Impl {
  Options options;
  std::string data_file;
  Cloud cloud;
  Bacularis bacula; // /api/v2/ and /api/v3/: the Bacularis subset
  FaultInjector faults;
  DataDirLock lock;
  std::unique_ptr<Committer> committer;
  HttpServer http;
  std::thread thread;
  int port = 0;
  std::atomic<bool> listener_returned{false};
  S3 s3{"/s3", options.token};  // buckets under /s3, in s3.json (see s3.hpp)
  std::unique_ptr<Committer> s3_committer;

  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> mutating{0};
  std::atomic<uint64_t> injected_failures{0};
  std::atomic<uint64_t> admin_requests{0};

  std::mutex state_mutex;
  std::condition_variable state_changed;
  bool started = false;
  bool stopped = false;

  explicit Impl(Options o)
      : options(std::move(o)),
        data_file((std::filesystem::path(options.data_dir) / "cloud.json").string()),
        cloud(options.deploy_delay),
        bacula(options.data_dir, options.token, job_options(options, cloud),
               BacularisOptions{options.bacularis_api}),
        faults(options.fail_rate, options.seed) {}

  void check_options() const {
    if (options.data_dir.empty()) {
      throw Error(ErrorKind::input, "the sandbox needs a data directory");
    }
    if (!(options.fail_rate >= 0.0 && options.fail_rate <= 1.0)) {
      throw Error(ErrorKind::input,
                  fmt::format("the fail rate must be between 0 and 1, not {}", options.fail_rate));
    }
    if (options.threads < 1) {
      throw Error(ErrorKind::input,
                  fmt::format("the sandbox needs at least 1 thread, not {}", options.threads));
    }
    if (options.token.empty()) {
      throw Error(ErrorKind::input, "the sandbox's token must not be empty");
    }
    if (options.latency.count() < 0 || options.deploy_delay.count() < 0 ||
        options.job_duration.count() < 0) {
      throw Error(ErrorKind::input, "latency, deploy delay and job duration cannot be negative");
    }
    constexpr std::chrono::milliseconds k_day{86'400'000};
    if (options.latency > k_day || options.deploy_delay > k_day || options.job_duration > k_day) {
      throw Error(ErrorKind::input, "latency, deploy delay and job duration are a day at most");
    }
  }

  // Loads cloud.json, or writes an empty one: a data directory that cannot
  // be written fails here, at start, rather than on the first change.
  uint64_t load_data() {
    std::error_code ec;
    std::filesystem::create_directories(options.data_dir, ec);
    if (ec) {
      throw Error(ErrorKind::io, fmt::format("{}: cannot create the data directory: {}",
                                             options.data_dir, ec.message()));
    }
    lock.acquire(options.data_dir);
    // Only a file that is certainly missing is replaced by an empty cloud.
    std::filesystem::file_status status = std::filesystem::status(data_file, ec);
    if (status.type() == std::filesystem::file_type::not_found) {
      write_file_atomically(data_file, to_document(CloudData{}).dump(1) + "\n");
      return cloud.version();
    }
    if (ec) {
      throw Error(ErrorKind::io, fmt::format("{}: cannot read: {}", data_file, ec.message()));
    }
    std::string text = read_whole_file(data_file);
    try {
      cloud.load(from_document(json::parse(text)));
    } catch (const std::exception& e) {
      throw Error(ErrorKind::io,
                  fmt::format("{}: not a readable sandbox cloud: {}", data_file, e.what()));
    }
    return cloud.version();
  }

  void log(const httplib::Request& request, std::string_view outcome,
           std::chrono::steady_clock::time_point started_at) const {
    if (!options.log_requests) {
      return;
    }
    // Never the headers: the Authorization header holds the token.
    std::string line = fmt::format("stove sandbox: {} {} -> {} ({} ms)\n", request.method,
                                   printable(request.path), outcome, elapsed_ms(started_at));
    std::fwrite(line.data(), 1, line.size(), stderr);
  }

  void serve_control(const httplib::Request& request, httplib::Response& response) {
    if (request.method != "GET" && request.method != "HEAD") {
      response.set_header("Allow", "GET");
      respond(response, 405, fmt::format("{} takes GET", request.path));
    } else if (request.path == "/sandbox/health") {
      response.status = 200;
      response.set_content("ok", "text/plain");
    } else if (request.path == "/sandbox/counters") {
      Counters c = counters();
      respond(response, 200,
              {{"requests", c.requests},
               {"mutating", c.mutating},
               {"injected_failures", c.injected_failures},
               {"writes", c.writes},
               {"admin", c.admin}});
    } else {
      respond(response, 404, fmt::format("no such endpoint: {}", request.path));
    }
  }

  // The admin endpoint (man/stove-sandbox.1, ADMIN): changes behind the
  // APIs' backs, for drift tests and demos. Counted as admin only (not as
  // requests or mutating), never delayed or failed on purpose, and
  // answered once the change is on disk.
  Reply run_admin(const httplib::Request& request, std::string& allow) {
    if (!authorized(request.get_header_value("Authorization"), options.token)) {
      return admin::error(401, "missing or invalid bearer token");
    }
    std::vector<std::string> segments;
    std::string rest = request.path.substr(k_admin_prefix.size());
    for (size_t start = 0;;) {
      size_t slash = rest.find('/', start);
      segments.push_back(rest.substr(start, slash - start));
      if (slash == std::string::npos) {
        break;
      }
      start = slash + 1;
    }
    const std::string& kind = segments[0];
    const size_t n = segments.size();
    if (n == 2 && kind == "bacula" && segments[1] == "config") {
      if (request.method != "GET") {
        allow = "GET";
        return admin::error(405, fmt::format("{} takes GET", request.path));
      }
      return Reply{200, bacula.config_text(), 0, "text/plain"};
    }
    const bool routed =
        (n == 2 && (kind == "machines" || kind == "cloudspaces" || kind == "buckets")) ||
        (n == 3 && kind == "cloudspaces" && segments[2] == "machines") ||
        (n == 3 && kind == "bacula");
    if (!routed || std::any_of(segments.begin(), segments.end(),
                               [](const std::string& s) { return s.empty(); })) {
      return admin::error(404, fmt::format("no such admin endpoint: {}", request.path));
    }
    const bool creates = n == 3 && kind == "cloudspaces";
    const bool post = request.method == "POST";
    if (!post && (creates || request.method != "DELETE")) {
      allow = creates ? "POST" : "POST, DELETE";
      return admin::error(
          405, fmt::format("{} takes {}", request.path, creates ? "POST" : "POST or DELETE"));
    }
    json body = json::object();
    if (post && request.body.find_first_not_of(" \t\r\n") != std::string::npos) {
      body = json::parse(request.body, nullptr, false);
      if (body.is_discarded()) {
        return admin::error(400, "the request body is not valid JSON");
      }
    }
    if (kind == "bacula") {
      return post ? bacula.admin_update(segments[1], segments[2], body)
                  : bacula.admin_delete(segments[1], segments[2]);
    }
    if (kind == "buckets") {
      Reply reply =
          post ? s3.admin_update_bucket(segments[1], body) : s3.admin_delete_bucket(segments[1]);
      return durable(std::move(reply), *s3_committer);
    }
    // A cloud space or machine id: digits only.
    int64_t id = 0;
    const std::string& text = segments[1];
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || end != text.data() + text.size() || text[0] == '-') {
      return admin::error(404, fmt::format("{} {} not found",
                                           kind == "machines" ? "machine" : "cloud space", text));
    }
    Reply reply;
    if (creates) {
      reply = cloud.admin_create_machine(id, body);
    } else if (kind == "machines") {
      reply = post ? cloud.admin_update_machine(id, body) : cloud.admin_delete_machine(id);
    } else {
      reply = post ? cloud.admin_update_space(id, body) : cloud.admin_delete_space(id);
    }
    return durable(std::move(reply), *committer);
  }

  // `reply`, once its change is on disk.
  static Reply durable(Reply reply, Committer& to) {
    if (reply.version != 0) {
      if (auto error = to.commit(reply.version)) {
        return admin::error(500, fmt::format("the sandbox could not save its data: {}", *error));
      }
    }
    return reply;
  }

  void serve_admin(const httplib::Request& request, httplib::Response& response,
                   std::chrono::steady_clock::time_point started_at) {
    ++admin_requests;
    std::string allow;
    Reply reply = run_admin(request, allow);
    if (reply.status == 401) {
      response.set_header("WWW-Authenticate", "Bearer");
    } else if (!allow.empty()) {
      response.set_header("Allow", allow);
    }
    respond(response, reply.status, reply.body, reply.content_type);
    log(request, fmt::format("{}, admin", reply.status), started_at);
  }

  // A cloudapi call: routing, the token, the body, the call itself, and
  // waiting until its change is on disk.
  Reply run_call(const httplib::Request& request, const std::optional<Route>& route) {
    if (!route) {
      return {404, fmt::format("no such endpoint: {}", request.path)};
    }
    if (request.method != "POST") {
      return {405, fmt::format("{} takes POST", request.path)};
    }
    if (!authorized(request.get_header_value("Authorization"), options.token)) {
      return {401, "missing or invalid bearer token"};
    }
    if (!Cloud::is_known(route->actor, route->method)) {
      return {404, fmt::format("no method cloudapi.{}.{}", route->actor, route->method)};
    }
    json params = json::object();
    if (request.body.find_first_not_of(" \t\r\n") != std::string::npos) {
      params = json::parse(request.body, nullptr, false);
      if (params.is_discarded()) {
        return {400, "the request body is not valid JSON"};
      }
    }
    Reply reply = cloud.call(route->actor, route->method, params);
    if (reply.version != 0) {
      if (auto error = committer->commit(reply.version)) {
        // The change is made but not durable: say so rather than succeed.
        return {500, fmt::format("the sandbox could not save its data: {}", *error)};
      }
    }
    return reply;
  }

  void serve(const httplib::Request& request, httplib::Response& response) {
    auto started_at = std::chrono::steady_clock::now();
    if (request.path.compare(0, k_admin_prefix.size(), k_admin_prefix) == 0) {
      serve_admin(request, response, started_at);
      return;
    }
    if (request.path.compare(0, k_control_prefix.size(), k_control_prefix) == 0) {
      serve_control(request, response);
      log(request, fmt::format("{}", response.status), started_at);
      return;
    }
    if (s3.owns(request.path)) {
      serve_s3(request, response, started_at);
      return;
    }
    ++requests;
    auto route = parse_route(request.path);
    const bool bacularis = Bacularis::handles(request.path);
    if ((route && Cloud::is_mutating(route->actor, route->method)) ||
        Bacularis::is_mutating(request.method, request.path)) {
      ++mutating;
    }
    if (options.latency.count() > 0) {
      std::this_thread::sleep_for(options.latency);
    }

    Fault fault = faults.draw();
    if (fault != Fault::none) {
      ++injected_failures;
    }
    switch (fault) {
    case Fault::server_error:
      respond(response, 500, "injected failure: internal server error");
      log(request, "500, injected", started_at);
      return;
    case Fault::throttled:
      response.set_header("Retry-After", "1");
      respond(response, 429, "injected failure: too many requests, retry after 1 second");
      log(request, "429, injected", started_at);
      return;
    case Fault::drop_before:
      drop_connection(request, response);
      log(request, "connection dropped before the call, injected", started_at);
      return;
    case Fault::none:
    case Fault::drop_after:
      break;
    }

    Reply reply = bacularis ? bacula.serve(request.method, request.path,
                                           request.get_header_value("Authorization"),
                                           request.get_header_value("X-Baculum-API"), request.body)
                            : run_call(request, route);
    if (fault == Fault::drop_after) {
      drop_connection(request, response);
      log(request, fmt::format("connection dropped after the call ({}), injected", reply.status),
          started_at);
      return;
    }
    if (reply.status == 401) {
      response.set_header("WWW-Authenticate", "Bearer");
    } else if (reply.status == 405 && !bacularis) {
      response.set_header("Allow", "POST");
    }
    respond(response, reply.status, reply.body, reply.content_type);
    log(request, fmt::format("{}", reply.status), started_at);
  }

  // S3's data file, with its own group commit.
  void start_s3() {
    std::string path = (std::filesystem::path(options.data_dir) / "s3.json").string();
    s3.load_file(path);
    s3_committer = std::make_unique<Committer>(
        path, [this] { return s3.snapshot_document(); }, s3.version());
  }

  // An S3 request (lib/sandbox/s3.hpp): counted, delayed and failed like
  // cloudapi calls, with S3's error documents (InternalError, SlowDown).
  void serve_s3(const httplib::Request& request, httplib::Response& response,
                std::chrono::steady_clock::time_point started_at) {
    ++requests;
    if (S3::is_mutating(request.method)) {
      ++mutating;
    }
    if (options.latency.count() > 0) {
      std::this_thread::sleep_for(options.latency);
    }
    Fault fault = faults.draw();
    if (fault != Fault::none) {
      ++injected_failures;
    }
    S3Reply reply;
    if (fault == Fault::server_error) {
      reply = S3::error(500, "InternalError",
                        "injected failure: We encountered an internal error. Please try again.");
    } else if (fault == Fault::throttled) {
      reply = S3::error(503, "SlowDown", "injected failure: Please reduce your request rate.");
      reply.headers.emplace_back("Retry-After", "1");
    } else if (fault == Fault::drop_before) {
      drop_connection(request, response);
      log(request, "connection dropped before the call, injected", started_at);
      return;
    } else {
      reply = s3.handle(S3Request{request.method, request.target,
                                  {request.headers.begin(), request.headers.end()}, request.body});
      if (reply.version != 0) {
        if (auto error = s3_committer->commit(reply.version)) {
          reply = S3::error(500, "InternalError",
                            fmt::format("the sandbox could not save its data: {}", *error));
        }
      }
      if (fault == Fault::drop_after) {
        drop_connection(request, response);
        log(request, fmt::format("connection dropped after the call ({}), injected", reply.status),
            started_at);
        return;
      }
    }
    response.status = reply.status;
    std::string content_type = "application/xml";
    for (const auto& [name, value] : reply.headers) {
      if (name == "Content-Type") {
        content_type = value;
      } else {
        response.set_header(name, value);
      }
    }
    if (!reply.body.empty()) {
      response.set_content(reply.body, content_type);
    }
    log(request, fmt::format("{}", reply.status), started_at);
  }

  void configure_http() {
    auto handler = [this](const httplib::Request& request, httplib::Response& response) {
      serve(request, response);
    };
    const std::string every_path = "/.*";
    http.Get(every_path, handler);
    http.Post(every_path, handler);
    http.Put(every_path, handler);
    http.Patch(every_path, handler);
    http.Delete(every_path, handler);
    http.Options(every_path, handler);
    // Errors cpp-httplib makes itself (a malformed request, a body over the
    // limit) get a JSON body like the others.
    http.set_error_handler(httplib::Server::HandlerWithResponse(
        [](const httplib::Request&, httplib::Response& response) {
          if (!response.body.empty()) {
            return httplib::Server::HandlerResponse::Unhandled;
          }
          response.set_content(json(reason_phrase(response.status)).dump(), "application/json");
          return httplib::Server::HandlerResponse::Handled;
        }));
    // SO_REUSEADDR only: cpp-httplib's default also sets SO_REUSEPORT, with
    // which a second sandbox on the same port binds too and takes half the
    // connections.
    http.set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    const auto threads = static_cast<size_t>(options.threads);
    http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http.set_keep_alive_max_count(k_keep_alive_requests);
    http.set_keep_alive_timeout(k_keep_alive_seconds);
    http.set_payload_max_length(k_max_body);
    http.set_tcp_nodelay(true);
  }

  void bind() {
    const std::string& host = options.host;
    if (options.port == 0) {
      port = http.bind_to_any_port(host);
    } else {
      port = http.bind_to_port(host, options.port) ? options.port : -1;
    }
    if (port <= 0) {
      throw Error(ErrorKind::io,
                  fmt::format("cannot listen on {}:{}: the address is in use, not local, or not "
                              "allowed",
                              host, options.port));
    }
    http.raise_backlog(k_listen_backlog);
  }

  // Serves on a thread of its own. SIGPIPE is blocked there, and so in the
  // request threads it starts: writing to a connection the client closed
  // (or that a fault dropped) must fail the write, not end the process.
  void run_listener() {
    thread = std::thread([this] {
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
      http.listen_after_bind();
      listener_returned = true;
    });
    // httplib's stop() does nothing until the accept loop runs, so a stop
    // right after start would be lost; wait for it.
    while (!http.is_running() && !listener_returned) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  Counters counters() const {
    Counters c;
    c.requests = requests;
    c.mutating = mutating;
    c.injected_failures = injected_failures;
    c.admin = admin_requests;
    c.writes = (committer ? committer->writes() : 0) + bacula.writes() +
               (s3_committer ? s3_committer->writes() : 0);
    return c;
  }
};

Server::Server(Options options) : m_impl(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() {
  try {
    stop();
  } catch (const std::exception& e) {
    std::string line = fmt::format("stove sandbox: error: {}\n", e.what());
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
}

void Server::start() {
  Impl& impl = *m_impl;
  {
    std::lock_guard lock(impl.state_mutex);
    if (impl.started) {
      throw Error(ErrorKind::internal, "the sandbox server was already started");
    }
  }
  impl.check_options();
  try {
    uint64_t durable = impl.load_data();
    impl.bacula.start();
    impl.committer = std::make_unique<Committer>(
        impl.data_file,
        [&impl] {
          Cloud::Snapshot snapshot = impl.cloud.snapshot();
          return Committer::Snapshot{snapshot.version, to_document(snapshot.data).dump(1) + "\n"};
        },
        durable);
    impl.start_s3();
    impl.configure_http();
    impl.bind();
    impl.run_listener();
  } catch (...) {
    if (impl.committer) {
      impl.committer->stop();
    }
    impl.bacula.stop();
    if (impl.s3_committer) {
      impl.s3_committer->stop();
    }
    impl.lock.release();
    throw;
  }
  std::lock_guard lock(impl.state_mutex);
  impl.started = true;
}

void Server::stop() {
  Impl& impl = *m_impl;
  {
    std::lock_guard lock(impl.state_mutex);
    if (!impl.started || impl.stopped) {
      return;
    }
  }
  // Requests in flight finish first (the thread pool is joined), so every
  // change is committed or refused before the last write.
  impl.http.stop();
  end_idle_connections(impl.port);
  if (impl.thread.joinable()) {
    impl.thread.join();
  }
  std::optional<std::string> error = impl.committer->stop();
  if (auto bacula_error = impl.bacula.stop(); bacula_error && !error) {
    error = std::move(bacula_error);
  }
  if (auto s3_error = impl.s3_committer->stop(); s3_error && !error) {
    error = s3_error;
  }
  impl.lock.release();
  {
    std::lock_guard lock(impl.state_mutex);
    impl.stopped = true;
  }
  impl.state_changed.notify_all();
  if (error) {
    throw Error(ErrorKind::io, *error);
  }
}

void Server::wait() {
  std::unique_lock lock(m_impl->state_mutex);
  m_impl->state_changed.wait(lock, [&] { return m_impl->stopped; });
}

int Server::port() const {
  return m_impl->port;
}

std::string Server::url() const {
  const std::string& host = m_impl->options.host;
  if (host.find(':') != std::string::npos) {
    return fmt::format("http://[{}]:{}", host, m_impl->port);
  }
  return fmt::format("http://{}:{}", host, m_impl->port);
}

Counters Server::counters() const {
  return m_impl->counters();
}

} // namespace stove::sandbox
