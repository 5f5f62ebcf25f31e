#pragma once

// Internal to the HTTP client: where its log lines go. The public switches
// (set_log_level, set_log_sink, ...) are declared in http/client.hpp.

#include "http/client.hpp"

#include <string_view>

namespace stove::http::detail {

bool log_enabled(LogLevel level);

// Writes "stove: LEVEL: MESSAGE" as one whole line, to the sink or stderr.
void emit(LogLevel level, std::string_view message);

} // namespace stove::http::detail
