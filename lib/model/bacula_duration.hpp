#pragma once

// Bacula's time periods ("30 days", "2h", "1 day 12 hours", "90"), read as
// its director reads them (edit.c duration_to_utime): numbers, each with an
// optional unit matched by prefix in the director's order, so that "m" is
// months and "n" or "min" minutes; a bare number is seconds; the parts add
// up.

#include <cstdint>
#include <optional>
#include <string_view>

namespace stove {

inline constexpr int64_t k_seconds_per_day = 86400;

// The period in whole seconds (the director truncates), or nullopt when
// `text` is not one.
std::optional<int64_t> bacula_duration_seconds(std::string_view text);

} // namespace stove
