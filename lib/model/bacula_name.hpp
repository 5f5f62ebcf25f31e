#pragma once

// Bacula resource names (Job, Client, FileSet, Schedule, Pool...), as the
// director accepts them: 1 to 127 letters, digits, '-', '_', '.', ':' and
// spaces, neither first nor last. The loader, the bacularis adapter, the
// schedule checker and the sandbox all apply this one rule.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace stove {

inline constexpr size_t k_bacula_max_name = 127;

// A character a Bacula name may hold anywhere (spaces only inside).
bool bacula_name_char(char c);

struct BaculaNameProblem {
  size_t offset = 0;  // of the character at fault
  std::string message;
};

// `text` as a quoted string of the director's configuration: in double
// quotes, with `"` and `\` escaped by a backslash.
std::string bacula_quoted(std::string_view text);

// nullopt when `name` is a valid Bacula name of at most `max` characters.
std::optional<BaculaNameProblem> check_bacula_name(std::string_view name,
                                                   size_t max = k_bacula_max_name);

} // namespace stove
