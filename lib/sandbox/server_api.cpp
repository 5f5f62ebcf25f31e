// The cloudapi and Bacularis fronts: counted, delayed and failed on
// purpose as Options say, then the call, answered once its change is on
// disk.

#include "sandbox/server_impl.hpp"

#include "sandbox/auth.hpp"
#include "sandbox/connections.hpp"

#include <fmt/format.h>

namespace stove::sandbox {

using nlohmann::json;

namespace {

constexpr std::string_view k_api_prefix = "/restmachine/cloudapi/";

} // namespace

// /restmachine/cloudapi/ACTOR/METHOD
std::optional<Server::Impl::Route> Server::Impl::parse_route(const std::string& path) {
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

void Server::Impl::serve_api(const httplib::Request& request, httplib::Response& response,
                             TimePoint started_at) {
  auto route = parse_route(request.path);
  const bool bacularis = Bacularis::handles(request.path);
  Fault fault = admit((route && Cloud::is_mutating(route->actor, route->method)) ||
                      Bacularis::is_mutating(request.method, request.path));
  if (inject_before(fault, request, response, started_at)) {
    return;
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

// The faults that answer in place of the call; whether `fault` was one.
bool Server::Impl::inject_before(Fault fault, const httplib::Request& request,
                                 httplib::Response& response, TimePoint started_at) {
  switch (fault) {
  case Fault::server_error:
    respond(response, 500, "injected failure: internal server error");
    log(request, "500, injected", started_at);
    return true;
  case Fault::throttled:
    response.set_header("Retry-After", "1");
    respond(response, 429, "injected failure: too many requests, retry after 1 second");
    log(request, "429, injected", started_at);
    return true;
  case Fault::drop_before:
    drop_connection(request, response);
    log(request, "connection dropped before the call, injected", started_at);
    return true;
  case Fault::none:
  case Fault::drop_after:
    break;
  }
  return false;
}

// A cloudapi call: routing, the token, the body, the call itself, and
// waiting until its change is on disk.
Reply Server::Impl::run_call(const httplib::Request& request, const std::optional<Route>& route) {
  if (!route) {
    return {404, fmt::format("no such endpoint: {}", request.path)};
  }
  if (request.method != "POST") {
    return {405, fmt::format("{} takes POST", request.path)};
  }
  if (!bearer_authorized(request.get_header_value("Authorization"), options.token)) {
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

} // namespace stove::sandbox
