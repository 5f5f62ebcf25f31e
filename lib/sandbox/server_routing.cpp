// A request's way to its front: the admin endpoint, the control endpoint
// (/sandbox/health, /sandbox/counters), S3, or the cloudapi and Bacularis;
// and what the fronts share (counting and failing on purpose, logging,
// answering JSON).

#include "sandbox/server_impl.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace stove::sandbox {

using nlohmann::json;

namespace {

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

void Server::Impl::serve(const httplib::Request& request, httplib::Response& response) {
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
  serve_api(request, response, started_at);
}

void Server::Impl::serve_control(const httplib::Request& request, httplib::Response& response) {
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

Fault Server::Impl::admit(bool changes) {
  ++requests;
  if (changes) {
    ++mutating;
  }
  if (options.latency.count() > 0) {
    std::this_thread::sleep_for(options.latency);
  }
  Fault fault = faults.draw();
  if (fault != Fault::none) {
    ++injected_failures;
  }
  return fault;
}

void Server::Impl::log(const httplib::Request& request, std::string_view outcome,
                       TimePoint started_at) const {
  if (!options.log_requests) {
    return;
  }
  // Never the headers: the Authorization header holds the token.
  std::string line = fmt::format("stove sandbox: {} {} -> {} ({} ms)\n", request.method,
                                 printable(request.path), outcome, elapsed_ms(started_at));
  std::fwrite(line.data(), 1, line.size(), stderr);
}

void Server::Impl::respond(httplib::Response& response, int status, const json& body,
                           const std::string& content_type) {
  response.status = status;
  if (!content_type.empty() && body.is_string()) {
    response.set_content(body.get<std::string>(), content_type);
    return;
  }
  response.set_content(body.dump(), "application/json");
}

} // namespace stove::sandbox
