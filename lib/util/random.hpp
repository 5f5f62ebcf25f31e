#pragma once

#include <cstddef>
#include <string>

namespace stove {

// Fills `size` bytes from the kernel's random source (getrandom(2), or
// /dev/urandom where that is missing). Throws stove::Error(internal) if
// neither works.
void fill_random(void* buffer, std::size_t size);

// `bytes` random bytes as lowercase hex (2 * bytes characters).
std::string random_hex(std::size_t bytes);

} // namespace stove
