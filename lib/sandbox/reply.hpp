#pragma once

// What a sandbox call answers, without HTTP: the cloudapi, the admin
// endpoint and Bacularis all answer a Reply, which server.cpp puts on the
// wire.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>

namespace stove::sandbox {

// What a call answers: an HTTP status and a JSON body. Errors carry the
// message as a JSON string, as OpenVCloud does.
struct Reply {
  Reply() = default;
  Reply(int status_, nlohmann::json body_, uint64_t version_ = 0, std::string content_type_ = {})
      : status(status_), body(std::move(body_)), version(version_),
        content_type(std::move(content_type_)) {}

  int status = 200;
  nlohmann::json body;
  // The cloud's version after the call changed it; 0 when it changed
  // nothing. The server answers only once that version is on disk.
  uint64_t version = 0;
  // Empty: `body` is sent as JSON. Otherwise `body` is a string, sent as it
  // is with this Content-Type (a PHP error page is text/html).
  std::string content_type;
};

} // namespace stove::sandbox
