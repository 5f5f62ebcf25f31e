#include "sandbox/fault_injector.hpp"

#include "util/random.hpp"

namespace stove::sandbox {

FaultInjector::FaultInjector(double rate, uint64_t seed) : m_rate(rate) {
  if (seed == 0) {
    fill_random(&seed, sizeof seed);
  }
  m_rng.seed(seed);
}

Fault FaultInjector::draw() {
  if (m_rate <= 0.0) {
    return Fault::none;
  }
  std::lock_guard lock(m_mutex);
  // 53 random bits make a double in [0, 1) the same way on every
  // platform, which std::uniform_real_distribution does not promise.
  double u = static_cast<double>(m_rng() >> 11) * 0x1.0p-53;
  if (u >= m_rate) {
    return Fault::none;
  }
  switch (m_rng() % 6) {
  case 0:
  case 1:
    return Fault::server_error;
  case 2:
  case 3:
    return Fault::throttled;
  case 4:
    return Fault::drop_before;
  default:
    return Fault::drop_after;
  }
}

} // namespace stove::sandbox
