#pragma once

#include <cstddef>
#include <string_view>

namespace stove {

// The length of the well-formed UTF-8 sequence at text[i], or 0 if there is
// none (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
inline std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t k) -> unsigned {
    return i + k < text.size() ? static_cast<unsigned char>(text[i + k]) : 0u;
  };
  auto in = [](unsigned b, unsigned low, unsigned high) { return b >= low && b <= high; };
  unsigned b0 = byte(0);
  if (b0 < 0x80) {
    return i < text.size() ? 1 : 0;
  }
  if (in(b0, 0xC2, 0xDF)) {
    return in(byte(1), 0x80, 0xBF) ? 2 : 0;
  }
  if (in(b0, 0xE0, 0xEF)) {
    unsigned low = b0 == 0xE0 ? 0xA0 : 0x80;
    unsigned high = b0 == 0xED ? 0x9F : 0xBF;
    return in(byte(1), low, high) && in(byte(2), 0x80, 0xBF) ? 3 : 0;
  }
  if (in(b0, 0xF0, 0xF4)) {
    unsigned low = b0 == 0xF0 ? 0x90 : 0x80;
    unsigned high = b0 == 0xF4 ? 0x8F : 0xBF;
    return in(byte(1), low, high) && in(byte(2), 0x80, 0xBF) && in(byte(3), 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

} // namespace stove
