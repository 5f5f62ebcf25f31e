#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace stove {

// A directed graph over nodes 0..n-1. An edge from -> to means `from` must
// come before `to`.
class Dag {
public:
  explicit Dag(size_t node_count = 0) : m_out(node_count), m_in_degree(node_count, 0) {}

  size_t add_node();
  void add_edge(size_t from, size_t to);
  size_t size() const { return m_out.size(); }
  const std::vector<uint32_t>& successors(size_t node) const { return m_out[node]; }

  // Every node, each after all of its predecessors. Ties are broken by node
  // number, so the order is deterministic and follows insertion where the
  // edges allow. Returns false (and a partial order) if there is a cycle.
  bool topological_order(std::vector<uint32_t>& order) const;

  // One cycle for each strongly connected component that has one (including
  // a node with an edge to itself), as the node path [a, b, ..., a]. Cycles
  // are listed in order of their smallest node. Iterative: safe on long chains.
  std::vector<std::vector<uint32_t>> find_cycles() const;

private:
  std::vector<std::vector<uint32_t>> m_out;
  std::vector<uint32_t> m_in_degree;
};

} // namespace stove
