#pragma once

// Keys stove itself writes among a resource's observed attributes, for the
// resource's adapter to read back in Target::prior_observed
// (providers/provider.hpp). Adapters never report them.

#include <string_view>

namespace stove {

// An incomplete object's missing parts, as a refresh found them
// (providers::Remote::missing): the next update makes them.
inline constexpr std::string_view k_observed_missing = "missing";

// What was observed before an update that was cut short (state/journal.hpp):
// the next update puts back what the cut-short one undid (a machine it
// stopped is started again).
inline constexpr std::string_view k_observed_interrupted_update = "interrupted_update";

} // namespace stove
