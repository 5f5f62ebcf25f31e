#include "http/wait.hpp"

#include <algorithm>
#include <thread>

namespace stove::http {

using std::chrono::milliseconds;

namespace detail {

milliseconds time_left(Clock::time_point at, Clock::time_point now) {
  if (at == Clock::time_point::max()) {
    return milliseconds::max();
  }
  if (at <= now) {
    return milliseconds{0};
  }
  return std::chrono::ceil<milliseconds>(at - now);
}

Cut wait_until(const Deadline& deadline, Clock::time_point until) {
  Clock::time_point end = std::min(until, deadline.at);
  while (true) {
    if (deadline.cancelled()) {
      return Cut::cancelled;
    }
    Clock::time_point now = Clock::now();
    if (now >= end) {
      return until <= deadline.at ? Cut::none : Cut::timeout;
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(k_cancel_poll, end - now));
  }
}

} // namespace detail

void Deadline::sleep(std::chrono::milliseconds d) const {
  using detail::Cut;
  Clock::time_point now = Clock::now();
  // Clamped so that a huge duration cannot overflow the clock.
  auto room = std::chrono::duration_cast<milliseconds>(Clock::time_point::max() - now);
  switch (detail::wait_until(*this, now + std::clamp(d, milliseconds{0}, room))) {
  case Cut::none:
    return;
  case Cut::timeout:
    throw TransportError(TransportError::Reason::timeout, "the deadline passed");
  case Cut::cancelled:
    throw TransportError(TransportError::Reason::cancelled, "cancelled");
  }
}

} // namespace stove::http
