#include "util/duration.hpp"

#include <cstdint>
#include <iterator>
#include <limits>
#include <string_view>

namespace stove {

std::optional<std::chrono::milliseconds> parse_duration(const std::string& text) {
  if (text == "0") {
    return std::chrono::milliseconds(0);
  }
  if (text.empty()) {
    return std::nullopt;
  }
  constexpr int64_t k_max = std::numeric_limits<int64_t>::max();
  struct Unit {
    std::string_view name;
    int64_t milliseconds;
  };
  // Largest first: a duration must name its units in this order, each once.
  static constexpr Unit k_units[] = {{"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};
  constexpr std::size_t k_unit_count = std::size(k_units);
  int64_t total = 0;
  std::size_t next_unit = 0; // units before this one may no longer appear
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9') {
      return std::nullopt;
    }
    int64_t number = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      int digit = text[i] - '0';
      if (number > (k_max - digit) / 10) {
        return std::nullopt;
      }
      number = number * 10 + digit;
      ++i;
    }
    std::string_view rest = std::string_view(text).substr(i);
    // "ms" is tried before "m", or "5ms" would read as five minutes and an "s".
    static constexpr std::size_t k_match_order[] = {3, 0, 1, 2};
    std::size_t unit = k_unit_count;
    for (std::size_t candidate : k_match_order) {
      if (rest.starts_with(k_units[candidate].name)) {
        unit = candidate;
        break;
      }
    }
    if (unit == k_unit_count || unit < next_unit) {
      return std::nullopt;
    }
    next_unit = unit + 1;
    i += k_units[unit].name.size();
    if (number > (k_max - total) / k_units[unit].milliseconds) {
      return std::nullopt;
    }
    total += number * k_units[unit].milliseconds;
  }
  return std::chrono::milliseconds(total);
}

} // namespace stove
