#include "model/bacula_duration.hpp"

#include <array>
#include <cctype>
#include <cstdlib>
#include <string>

namespace stove {

namespace {

struct Unit {
  std::string_view name;
  int64_t seconds;
};

// In the director's order: the first unit the written one is a prefix of
// wins ("m" is months, "mi" minutes).
constexpr std::array<Unit, 10> k_units = {{{"n", 60},
                                           {"seconds", 1},
                                           {"months", 60 * 60 * 24 * 30},
                                           {"minutes", 60},
                                           {"mins", 60},
                                           {"hours", 3600},
                                           {"days", 3600 * 24},
                                           {"weeks", 3600 * 24 * 7},
                                           {"quarters", 3600 * 24 * 91},
                                           {"years", 3600 * 24 * 365}}};

bool space(char c) {
  return c == ' ' || c == '\t';
}

std::optional<int64_t> unit_seconds(std::string_view word) {
  if (word.empty()) {
    return 1;
  }
  for (const Unit& unit : k_units) {
    if (word.size() > unit.name.size()) {
      continue;
    }
    bool prefix = true;
    for (size_t i = 0; i < word.size() && prefix; ++i) {
      prefix = std::tolower(static_cast<unsigned char>(word[i])) == unit.name[i];
    }
    if (prefix) {
      return unit.seconds;
    }
  }
  return std::nullopt;
}

} // namespace

std::optional<int64_t> bacula_duration_seconds(std::string_view text) {
  double total = 0;
  size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    while (i < text.size() && space(text[i])) {
      ++i;
    }
    if (i == text.size()) {
      break;
    }
    const size_t number_start = i;
    while (i < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
      ++i;
    }
    const std::string number(text.substr(number_start, i - number_start));
    if (number.empty() || number == "." || number.find('.') != number.rfind('.')) {
      return std::nullopt;
    }
    while (i < text.size() && space(text[i])) {
      ++i;
    }
    const size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) {
      ++i;
    }
    auto unit = unit_seconds(text.substr(unit_start, i - unit_start));
    if (!unit) {
      return std::nullopt;
    }
    total += std::strtod(number.c_str(), nullptr) * static_cast<double>(*unit);
    any = true;
    if (i < text.size() && !space(text[i]) && !std::isdigit(static_cast<unsigned char>(text[i]))) {
      return std::nullopt;
    }
  }
  if (!any) {
    return std::nullopt;
  }
  return static_cast<int64_t>(total);
}

} // namespace stove
