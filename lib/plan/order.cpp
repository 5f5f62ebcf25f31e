#include "plan/order.hpp"

#include <string_view>
#include <unordered_map>

namespace stove {

namespace {

bool has_destroy(Action a) { return a == Action::destroy || a == Action::replace; }
bool has_apply(Action a) { return a != Action::destroy; }

} // namespace

OperationGraph build_operation_graph(const std::vector<ResourceChange>& changes) {
  constexpr uint32_t k_none = UINT32_MAX;
  OperationGraph graph;
  std::vector<uint32_t> apply_op(changes.size(), k_none), destroy_op(changes.size(), k_none);
  for (uint32_t i = 0; i < changes.size(); ++i) {
    if (has_destroy(changes[i].action)) {
      destroy_op[i] = static_cast<uint32_t>(graph.operations.size());
      graph.operations.push_back({i, Phase::destroy});
    }
    if (has_apply(changes[i].action)) {
      apply_op[i] = static_cast<uint32_t>(graph.operations.size());
      graph.operations.push_back({i, Phase::apply});
    }
  }
  graph.dag = Dag(graph.operations.size());

  // Wanted addresses, and the addresses the state knew them by.
  std::unordered_map<std::string_view, uint32_t> wanted, prior;
  wanted.reserve(changes.size());
  prior.reserve(changes.size());
  for (uint32_t i = 0; i < changes.size(); ++i) {
    const auto& c = changes[i];
    if (c.action != Action::destroy) {
      wanted.emplace(c.address, i);
    }
    if (c.action != Action::create) {
      prior.emplace(c.previous_address.empty() ? c.address : c.previous_address, i);
    }
  }

  for (uint32_t i = 0; i < changes.size(); ++i) {
    const auto& c = changes[i];
    if (apply_op[i] != k_none) {
      for (const auto& dep : c.dependencies) {
        auto it = wanted.find(dep);
        if (it != wanted.end() && apply_op[it->second] != k_none) {
          graph.dag.add_edge(apply_op[it->second], apply_op[i]);
        }
      }
    }
    if (destroy_op[i] != k_none) {
      for (const auto& dep : c.prior_dependencies) {
        auto it = prior.find(dep);
        if (it != prior.end() && destroy_op[it->second] != k_none) {
          graph.dag.add_edge(destroy_op[i], destroy_op[it->second]);
        }
      }
      if (apply_op[i] != k_none) {
        graph.dag.add_edge(destroy_op[i], apply_op[i]);
      }
    }
  }
  return graph;
}

} // namespace stove
