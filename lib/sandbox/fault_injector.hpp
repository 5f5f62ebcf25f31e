#pragma once

// The faults `--fail-rate` injects into the sandbox's requests.

#include <cstdint>
#include <mutex>
#include <random>

namespace stove::sandbox {

// The faults fail_rate injects. Drops come in two kinds: before the call
// runs (nothing happened) and after (it happened, but the caller cannot
// know): the second is what makes a retried create meet its own object.
enum class Fault { none, server_error, throttled, drop_before, drop_after };

class FaultInjector {
public:
  FaultInjector(double rate, uint64_t seed);

  // Whether this request fails, and how: with probability `rate`, then
  // evenly among 500, 429 and a dropped connection (half of the drops
  // before the call runs, half after). The same seed gives the same
  // sequence for the same order of requests.
  Fault draw();

private:
  double m_rate;
  std::mutex m_mutex;
  std::mt19937_64 m_rng;
};

} // namespace stove::sandbox
