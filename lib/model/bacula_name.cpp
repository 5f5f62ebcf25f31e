#include "model/bacula_name.hpp"

#include <fmt/format.h>

namespace stove {

bool bacula_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == ':';
}

std::optional<BaculaNameProblem> check_bacula_name(std::string_view name, size_t max) {
  if (name.empty()) {
    return BaculaNameProblem{0, "cannot be empty"};
  }
  if (name.size() > max) {
    return BaculaNameProblem{0, fmt::format("is {} characters long; the most is {}", name.size(),
                                            max)};
  }
  if (name.front() == ' ' || name.back() == ' ') {
    return BaculaNameProblem{name.front() == ' ' ? 0 : name.size() - 1,
                             "cannot start or end with a space"};
  }
  for (size_t i = 0; i < name.size(); ++i) {
    if (!bacula_name_char(name[i]) && name[i] != ' ') {
      return BaculaNameProblem{i, "may use only letters, digits, '-', '_', '.', ':' and inner "
                                  "spaces, as Bacula names do"};
    }
  }
  return std::nullopt;
}

std::string bacula_quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

} // namespace stove
