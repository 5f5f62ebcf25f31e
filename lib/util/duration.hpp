#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace stove {

// Parses a duration: "0", "500ms", "30s", "5m", "1h", "1m30s". Returns
// nullopt for anything else (negative, unknown unit, missing unit on a
// non-zero number, overflow).
std::optional<std::chrono::milliseconds> parse_duration(const std::string& text);

} // namespace stove
