// The S3 front (lib/sandbox/s3.hpp) and its data file.

#include "sandbox/server_impl.hpp"

#include "sandbox/connections.hpp"

#include <fmt/format.h>

#include <filesystem>

namespace stove::sandbox {

// S3's data file, with its own group commit.
void Server::Impl::start_s3() {
  std::string path = (std::filesystem::path(options.data_dir) / "s3.json").string();
  s3.load_file(path);
  s3_committer = std::make_unique<Committer>(
      path, [this] { return s3.snapshot_document(); }, s3.version());
}

// An S3 request (lib/sandbox/s3.hpp): counted, delayed and failed like
// cloudapi calls, with S3's error documents (InternalError, SlowDown).
void Server::Impl::serve_s3(const httplib::Request& request, httplib::Response& response,
                            TimePoint started_at) {
  Fault fault = admit(S3::is_mutating(request.method));
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
    reply = s3.handle(S3Request{request.method,
                                request.target,
                                {request.headers.begin(), request.headers.end()},
                                request.body});
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

} // namespace stove::sandbox
