// The sandbox on cpp-httplib: its handlers and limits, binding and
// listening.

#include "sandbox/server_impl.hpp"

#include "util/error.hpp"

#include <fmt/format.h>

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

namespace stove::sandbox {

using nlohmann::json;

namespace {

constexpr size_t k_max_body = 1 << 20;
constexpr int k_listen_backlog = 1024;
constexpr size_t k_keep_alive_requests = 100000;
constexpr time_t k_keep_alive_seconds = 5;

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

} // namespace

void Server::Impl::configure_http() {
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

void Server::Impl::bind() {
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
void Server::Impl::run_listener() {
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

} // namespace stove::sandbox
