#pragma once

// Internal to the HTTP client: waiting against a Deadline, which can also
// be cut short by its cancel token.

#include "http/client.hpp"

#include <chrono>

namespace stove::http::detail {

// How often waits look at the cancel token: CancelToken is a bare flag that
// cannot wake anyone, so waiting threads poll it.
inline constexpr std::chrono::milliseconds k_cancel_poll{25};

// Why a wait ended before its time.
enum class Cut { none, timeout, cancelled };

// Milliseconds from now to `at`, rounded up so that a deadline a fraction
// of a millisecond away still counts as time left; max() for no deadline.
std::chrono::milliseconds time_left(Clock::time_point at, Clock::time_point now);

// Waits until `until`, or less if the deadline comes first or the token is
// tripped.
Cut wait_until(const Deadline& deadline, Clock::time_point until);

} // namespace stove::http::detail
