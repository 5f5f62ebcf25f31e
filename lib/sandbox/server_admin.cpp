// The admin endpoint (man/stove-sandbox.1, ADMIN): changes behind the
// APIs' backs, for drift tests and demos. Counted as admin only (not as
// requests or mutating), never delayed or failed on purpose, and answered
// once the change is on disk.

#include "sandbox/server_impl.hpp"

#include "sandbox/admin.hpp"
#include "sandbox/auth.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <vector>

namespace stove::sandbox {

using nlohmann::json;

namespace {

// The segments of the path after /sandbox/admin/, split at each '/'.
std::vector<std::string> admin_segments(const std::string& path) {
  std::vector<std::string> segments;
  std::string rest = path.substr(k_admin_prefix.size());
  for (size_t start = 0;;) {
    size_t slash = rest.find('/', start);
    segments.push_back(rest.substr(start, slash - start));
    if (slash == std::string::npos) {
      break;
    }
    start = slash + 1;
  }
  return segments;
}

} // namespace

void Server::Impl::serve_admin(const httplib::Request& request, httplib::Response& response,
                               TimePoint started_at) {
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

Reply Server::Impl::run_admin(const httplib::Request& request, std::string& allow) {
  if (!bearer_authorized(request.get_header_value("Authorization"), options.token)) {
    return admin::error(401, "missing or invalid bearer token");
  }
  const std::vector<std::string> segments = admin_segments(request.path);
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
  return run_admin_cloud(kind, segments[1], creates, post, body);
}

// /sandbox/admin/machines/ID, /cloudspaces/ID and /cloudspaces/ID/machines
// (`creates`).
Reply Server::Impl::run_admin_cloud(const std::string& kind, const std::string& text, bool creates,
                                    bool post, const json& body) {
  // A cloud space or machine id: digits only.
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || text[0] == '-') {
    return admin::error(
        404, fmt::format("{} {} not found", kind == "machines" ? "machine" : "cloud space", text));
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
Reply Server::Impl::durable(Reply reply, Committer& to) {
  if (reply.version != 0) {
    if (auto error = to.commit(reply.version)) {
      return admin::error(500, fmt::format("the sandbox could not save its data: {}", *error));
    }
  }
  return reply;
}

} // namespace stove::sandbox
