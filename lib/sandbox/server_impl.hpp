#pragma once

// The sandbox server's insides (Server::Impl), internal to server*.cpp.
// By concept: server.cpp starts and stops it; server_data.cpp loads the
// data directory; server_http.cpp sets up cpp-httplib and listens;
// server_routing.cpp routes a request to its front (the control and admin
// endpoints, S3, the cloudapi and Bacularis) and holds what the fronts
// share; server_api.cpp serves the cloudapi and Bacularis,
// server_admin.cpp the admin endpoint and server_s3.cpp S3.

#include "sandbox/bacularis.hpp"
#include "sandbox/cloud.hpp"
#include "sandbox/committer.hpp"
#include "sandbox/data_dir_lock.hpp"
#include "sandbox/fault_injector.hpp"
#include "sandbox/s3.hpp"
#include "sandbox/server.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace stove::sandbox {

inline constexpr std::string_view k_control_prefix = "/sandbox/";
inline constexpr std::string_view k_admin_prefix = "/sandbox/admin/";

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

struct Server::Impl {
  using TimePoint = std::chrono::steady_clock::time_point;

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
  S3 s3{"/s3", options.token}; // buckets under /s3, in s3.json (see s3.hpp)
  std::unique_ptr<Committer> s3_committer;

  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> mutating{0};
  std::atomic<uint64_t> injected_failures{0};
  std::atomic<uint64_t> admin_requests{0};

  std::mutex state_mutex;
  std::condition_variable state_changed;
  bool started = false;
  bool stopped = false;

  // server.cpp
  explicit Impl(Options o);
  void check_options() const;
  Counters counters() const;

  // server_data.cpp
  uint64_t load_data();

  // server_http.cpp
  void configure_http();
  void bind();
  void run_listener();

  // server_routing.cpp
  void serve(const httplib::Request& request, httplib::Response& response);
  void serve_control(const httplib::Request& request, httplib::Response& response);
  // Counts a request to the cloudapi, Bacularis or S3 (`changes`: as
  // mutating too), delays it by the latency and draws its fault.
  Fault admit(bool changes);
  void log(const httplib::Request& request, std::string_view outcome, TimePoint started_at) const;
  static void respond(httplib::Response& response, int status, const nlohmann::json& body,
                      const std::string& content_type = {});

  // server_api.cpp
  struct Route {
    std::string actor;
    std::string method;
  };
  static std::optional<Route> parse_route(const std::string& path);
  void serve_api(const httplib::Request& request, httplib::Response& response,
                 TimePoint started_at);
  bool inject_before(Fault fault, const httplib::Request& request, httplib::Response& response,
                     TimePoint started_at);
  Reply run_call(const httplib::Request& request, const std::optional<Route>& route);

  // server_admin.cpp
  void serve_admin(const httplib::Request& request, httplib::Response& response,
                   TimePoint started_at);
  Reply run_admin(const httplib::Request& request, std::string& allow);
  Reply run_admin_cloud(const std::string& kind, const std::string& text, bool creates, bool post,
                        const nlohmann::json& body);
  static Reply durable(Reply reply, Committer& to);

  // server_s3.cpp
  void start_s3();
  void serve_s3(const httplib::Request& request, httplib::Response& response, TimePoint started_at);
};

} // namespace stove::sandbox
