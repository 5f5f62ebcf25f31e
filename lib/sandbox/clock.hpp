#pragma once

// The sandbox's clock: the cloud, S3 and the job catalog take a clock (for
// tests that move time) and fall back on this one.

#include <cstdint>

namespace stove::sandbox {

// The system clock's Unix time in milliseconds.
int64_t system_now_ms();

} // namespace stove::sandbox
