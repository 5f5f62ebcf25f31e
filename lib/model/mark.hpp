#pragma once

#include <compare>
#include <cstdint>

namespace stove {

// A position in a source file. Lines and columns count from 1; columns count
// characters (UTF-8 code points), not bytes. A zero line means "no position".
struct Mark {
  uint32_t line = 0;
  uint32_t column = 0;

  bool known() const { return line != 0; }
  friend bool operator==(const Mark&, const Mark&) = default;
  friend auto operator<=>(const Mark&, const Mark&) = default;
};

} // namespace stove
