#pragma once

// Edits of the state that change what stove remembers, never the cloud:
// `stove state rm` and `stove state mv`. Both change `state` in memory only
// (the caller writes it, holding the lock) and leave it untouched when they
// throw.

#include "model/address.hpp"
#include "state/state.hpp"

#include <string>
#include <vector>

namespace stove {

// Forgets the resources at `addresses`. Resources under one of them (found
// through their parent links) go only with it: each must be named too, or
// `recursive` must be set, or this throws Error(input) naming the resources
// that would be left without a parent. An address the state does not hold
// throws Error(input) "STATE_PATH has no resource A; did you mean ...".
// Returns the removed addresses in the state's order (parents first).
std::vector<std::string> remove_resources(State& state, const std::string& state_path,
                                          const std::vector<Address>& addresses, bool recursive);

struct MovedAddress {
  std::string from;
  std::string to;
};

// Renames the resource at `from` to `to`, and the resources under it with
// it: their addresses, parent links and every dependency on them. Only the
// last segment may change: `to` must have the same kind and the same parent
// as `from` (an object cannot move to another parent in the cloud by being
// renamed in the state). Throws Error(input) when `from` is not in the state
// (with a did-you-mean), when the kinds or parents differ, when `to` is `from`,
// or when `to` (or an address under it) is already taken. Returns every
// renamed address, `from` first, in the state's order.
std::vector<MovedAddress> move_resource(State& state, const std::string& state_path,
                                        const Address& from, const Address& to);

} // namespace stove
