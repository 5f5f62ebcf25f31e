#include "sandbox/bacularis_reply.hpp"

#include <fmt/format.h>

#include <utility>

namespace stove::sandbox {

using nlohmann::json;

Reply answer(int error, json output, uint64_t version) {
  return Reply{200, {{"output", std::move(output)}, {"error", error}}, version};
}

Reply validation_error(const std::string& message) {
  return answer(k_validation,
                fmt::format("Config validation error.Array\n(\n    [output] => Array\n"
                            "        (\n"
                            "            [0] => bacula-dir: ERROR TERMINATION\n"
                            "            [1] => Config error: {}\n"
                            "        )\n\n"
                            "    [exitcode] => 1\n)\n",
                            message));
}

Reply internal_error(const std::string& message) {
  return answer(k_internal_error, fmt::format("Internal error. {}", message));
}

Reply welcome_reply() {
  return answer(0, "Welcome in the Baculum API. Panel is available on http://127.0.0.1/panel/");
}

std::string resource_text(std::string_view type, std::string_view name) {
  return fmt::format(" Component Type: dir, Resource Type: {}, Resource Name: {}", type, name);
}

} // namespace stove::sandbox
