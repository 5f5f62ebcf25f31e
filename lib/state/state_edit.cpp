#include "state/state_edit.hpp"

#include "util/error.hpp"
#include "util/suggest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

namespace stove {

namespace {

std::unordered_map<std::string, size_t> index_by_address(const State& state) {
  std::unordered_map<std::string, size_t> index;
  index.reserve(state.resources.size());
  for (size_t i = 0; i < state.resources.size(); ++i) {
    index.emplace(state.resources[i].address, i);
  }
  return index;
}

[[noreturn]] void no_such_resource(const State& state, const std::string& state_path,
                                   const std::string& address) {
  std::vector<std::string> addresses;
  addresses.reserve(state.resources.size());
  for (const auto& r : state.resources) {
    addresses.push_back(r.address);
  }
  throw Error(ErrorKind::input, fmt::format("{} has no resource {}{}", state_path, address,
                                            did_you_mean(address, addresses)));
}

// For each resource, the indexes of the resources whose parent link names it.
std::vector<std::vector<size_t>> children_of(const State& state,
                                             const std::unordered_map<std::string, size_t>& index) {
  std::vector<std::vector<size_t>> children(state.resources.size());
  for (size_t i = 0; i < state.resources.size(); ++i) {
    const auto& parent = state.resources[i].parent;
    if (parent.empty()) {
      continue;
    }
    auto it = index.find(parent);
    if (it != index.end() && it->second != i) {
      children[it->second].push_back(i);
    }
  }
  return children;
}

// `root` and everything under it, as a set of indexes (a state whose parent
// links loop still terminates).
std::vector<bool> subtree(size_t root, const std::vector<std::vector<size_t>>& children) {
  std::vector<bool> in(children.size(), false);
  std::vector<size_t> todo{root};
  in[root] = true;
  while (!todo.empty()) {
    size_t i = todo.back();
    todo.pop_back();
    for (size_t child : children[i]) {
      if (!in[child]) {
        in[child] = true;
        todo.push_back(child);
      }
    }
  }
  return in;
}

// Refuses a move that state mv does not do: FROM (whose address is
// `source`) missing, FROM and TO (`target`) the same, another kind, another
// parent, or TO taken.
void check_move(const State& state, const std::string& state_path,
                const std::unordered_map<std::string, size_t>& index, const Address& from,
                const Address& to, const std::string& source, const std::string& target) {
  if (!index.contains(source)) {
    no_such_resource(state, state_path, source);
  }
  if (source == target) {
    throw Error(ErrorKind::input,
                fmt::format("cannot move {} to itself: FROM and TO are the same address", source));
  }
  const Kind from_kind = from.segments.back().kind;
  const Kind to_kind = to.segments.back().kind;
  if (from_kind != to_kind) {
    throw Error(ErrorKind::input,
                fmt::format("cannot move {} to {}: a {} cannot become a {}; TO must be a {} too",
                            source, target, to_string(from_kind), to_string(to_kind),
                            to_string(from_kind)));
  }
  const std::string from_parent = from.parent().str();
  const std::string to_parent = to.parent().str();
  if (from_parent != to_parent) {
    throw Error(ErrorKind::input,
                fmt::format("cannot move {} to {}: that would change its parent from {} to {}\n"
                            "  state mv only renames: a {} stays under its parent, as it does in "
                            "the cloud; to rename the parent, move the parent, and what is under "
                            "it follows",
                            source, target, from_parent.empty() ? "(none)" : from_parent,
                            to_parent.empty() ? "(none)" : to_parent, to_string(from_kind)));
  }
  if (index.contains(target)) {
    throw Error(ErrorKind::input,
                fmt::format("cannot move {} to {}: the state already has a resource at {}; "
                            "remove it first (stove state rm) if it is no longer wanted",
                            source, target, target));
  }
}

// The new address of the resource at `root` (`source`, which becomes
// `target`) and of everything under it, in the state's order. Throws if a
// resource under it is not addressed under it, or would land on a taken
// address.
std::vector<MovedAddress> moves_under(const State& state, const std::string& state_path,
                                      const std::unordered_map<std::string, size_t>& index,
                                      size_t root, const std::string& source,
                                      const std::string& target) {
  auto under = subtree(root, children_of(state, index));
  std::vector<MovedAddress> moved;
  for (size_t i = 0; i < under.size(); ++i) {
    if (!under[i]) {
      continue;
    }
    const std::string& old_address = state.resources[i].address;
    bool is_root = i == root;
    if (!is_root && !(old_address.starts_with(source) && old_address.size() > source.size() &&
                      old_address[source.size()] == '.')) {
      throw Error(ErrorKind::state,
                  fmt::format("{}: resource {} names {} as its parent but its address is not "
                              "under it; the state is inconsistent, nothing was moved",
                              state_path, old_address, state.resources[i].parent));
    }
    std::string new_address = target;
    new_address.append(old_address, source.size());
    if (!is_root && index.contains(new_address)) {
      throw Error(ErrorKind::input,
                  fmt::format("cannot move {} to {}: {} would become {}, which the state already "
                              "has",
                              source, target, old_address, new_address));
    }
    moved.push_back({old_address, std::move(new_address)});
  }
  return moved;
}

// Renames every resource, parent link and dependency that `renamed` maps.
void apply_renames(State& state, const std::unordered_map<std::string, std::string>& renamed) {
  for (auto& r : state.resources) {
    if (auto it = renamed.find(r.address); it != renamed.end()) {
      r.address = it->second;
    }
    if (auto it = renamed.find(r.parent); it != renamed.end()) {
      r.parent = it->second;
    }
    for (auto& dependency : r.dependencies) {
      if (auto it = renamed.find(dependency); it != renamed.end()) {
        dependency = it->second;
      }
    }
  }
}

} // namespace

std::vector<std::string> remove_resources(State& state, const std::string& state_path,
                                          const std::vector<Address>& addresses, bool recursive) {
  auto index = index_by_address(state);
  std::vector<bool> named(state.resources.size(), false);
  std::vector<size_t> roots;
  for (const auto& address : addresses) {
    std::string wanted = address.str();
    auto it = index.find(wanted);
    if (it == index.end()) {
      no_such_resource(state, state_path, wanted);
    }
    if (!named[it->second]) {
      named[it->second] = true;
      roots.push_back(it->second);
    }
  }

  auto children = children_of(state, index);
  std::vector<bool> doomed = named;
  for (size_t root : roots) {
    auto under = subtree(root, children);
    std::vector<std::string> orphans;
    for (size_t i = 0; i < under.size(); ++i) {
      if (under[i] && !named[i]) {
        orphans.push_back(state.resources[i].address);
      }
      doomed[i] = doomed[i] || under[i];
    }
    if (!orphans.empty() && !recursive) {
      const std::string& parent = state.resources[root].address;
      std::string list;
      for (const auto& o : orphans) {
        list += fmt::format("\n    {}", o);
      }
      throw Error(ErrorKind::input,
                  fmt::format("cannot remove {} alone: {} resource(s) under it would be left "
                              "without their parent:{}\n  name them too, or pass --recursive to "
                              "remove {} and everything under it",
                              parent, orphans.size(), list, parent));
    }
  }

  std::vector<std::string> removed;
  std::vector<ResourceState> kept;
  kept.reserve(state.resources.size());
  for (size_t i = 0; i < state.resources.size(); ++i) {
    if (doomed[i]) {
      removed.push_back(std::move(state.resources[i].address));
    } else {
      kept.push_back(std::move(state.resources[i]));
    }
  }
  state.resources = std::move(kept);
  return removed;
}

std::vector<MovedAddress> move_resource(State& state, const std::string& state_path,
                                        const Address& from, const Address& to) {
  const std::string source = from.str();
  const std::string target = to.str();
  auto index = index_by_address(state);
  check_move(state, state_path, index, from, to, source, target);

  // The resource and everything under it, with their new addresses.
  std::vector<MovedAddress> moved =
      moves_under(state, state_path, index, index.at(source), source, target);
  std::unordered_map<std::string, std::string> renamed;
  for (const auto& m : moved) {
    renamed.emplace(m.from, m.to);
  }
  // FROM first, then the rest in the state's order.
  std::stable_partition(moved.begin(), moved.end(),
                        [&](const MovedAddress& m) { return m.from == source; });
  apply_renames(state, renamed);
  return moved;
}

} // namespace stove
