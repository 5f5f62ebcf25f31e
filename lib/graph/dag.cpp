#include "graph/dag.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <queue>

namespace stove {

size_t Dag::add_node() {
  m_out.emplace_back();
  m_in_degree.push_back(0);
  return m_out.size() - 1;
}

void Dag::add_edge(size_t from, size_t to) {
  m_out[from].push_back(static_cast<uint32_t>(to));
  ++m_in_degree[to];
}

bool Dag::topological_order(std::vector<uint32_t>& order) const {
  order.clear();
  order.reserve(m_out.size());
  std::vector<uint32_t> in_degree = m_in_degree;
  std::priority_queue<uint32_t, std::vector<uint32_t>, std::greater<>> ready;
  for (uint32_t n = 0; n < m_out.size(); ++n) {
    if (in_degree[n] == 0) {
      ready.push(n);
    }
  }
  while (!ready.empty()) {
    uint32_t n = ready.top();
    ready.pop();
    order.push_back(n);
    for (uint32_t next : m_out[n]) {
      if (--in_degree[next] == 0) {
        ready.push(next);
      }
    }
  }
  return order.size() == m_out.size();
}

namespace {

using Edges = std::vector<std::vector<uint32_t>>;

constexpr uint32_t k_unvisited = UINT32_MAX;

// The strongly connected components of the graph (Tarjan's algorithm,
// with an explicit call stack): `component` gets each node's component
// number, and the result lists the members of those that hold a cycle.
std::vector<std::vector<uint32_t>> cyclic_components(const Edges& out,
                                                     std::vector<uint32_t>& component) {
  const uint32_t n = static_cast<uint32_t>(out.size());
  std::vector<uint32_t> index(n, k_unvisited), low(n, 0);
  component.assign(n, k_unvisited);
  std::vector<bool> on_stack(n, false);
  std::vector<uint32_t> stack;
  std::vector<std::pair<uint32_t, size_t>> call;  // (node, next successor position)
  uint32_t next_index = 0;
  uint32_t component_count = 0;
  std::vector<std::vector<uint32_t>> components;

  for (uint32_t root = 0; root < n; ++root) {
    if (index[root] != k_unvisited) {
      continue;
    }
    call.emplace_back(root, 0);
    index[root] = low[root] = next_index++;
    stack.push_back(root);
    on_stack[root] = true;
    while (!call.empty()) {
      auto& [v, pos] = call.back();
      if (pos < out[v].size()) {
        uint32_t w = out[v][pos++];
        if (index[w] == k_unvisited) {
          index[w] = low[w] = next_index++;
          stack.push_back(w);
          on_stack[w] = true;
          call.emplace_back(w, 0);
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      uint32_t done = v;
      call.pop_back();
      if (!call.empty()) {
        low[call.back().first] = std::min(low[call.back().first], low[done]);
      }
      if (low[done] == index[done]) {
        std::vector<uint32_t> members;
        uint32_t w = 0;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[w] = false;
          component[w] = component_count;
          members.push_back(w);
        } while (w != done);
        ++component_count;
        bool self_loop = std::find(out[done].begin(), out[done].end(), done) != out[done].end();
        if (members.size() > 1 || self_loop) {
          components.push_back(std::move(members));
        }
      }
    }
  }
  return components;
}

// The shortest cycle through the smallest of `members` (one component with
// a cycle), as the path [start, ..., start].
std::vector<uint32_t> shortest_cycle(const Edges& out, const std::vector<uint32_t>& component,
                                     const std::vector<uint32_t>& members) {
  uint32_t start = *std::min_element(members.begin(), members.end());
  uint32_t comp = component[start];
  // Shortest path from start back to start inside the component.
  std::vector<uint32_t> came_from(out.size(), k_unvisited);
  std::queue<uint32_t> queue;
  queue.push(start);
  bool found = false;
  uint32_t last = start;
  while (!queue.empty() && !found) {
    uint32_t v = queue.front();
    queue.pop();
    std::vector<uint32_t> next = out[v];
    std::sort(next.begin(), next.end());
    for (uint32_t w : next) {
      if (component[w] != comp) {
        continue;
      }
      if (w == start) {
        found = true;
        last = v;
        break;
      }
      if (came_from[w] == k_unvisited) {
        came_from[w] = v;
        queue.push(w);
      }
    }
  }
  std::vector<uint32_t> path{start};
  for (uint32_t v = last; v != start; v = came_from[v]) {
    path.push_back(v);
  }
  std::reverse(path.begin() + 1, path.end());
  path.push_back(start);
  return path;
}

} // namespace

std::vector<std::vector<uint32_t>> Dag::find_cycles() const {
  std::vector<uint32_t> component;
  std::vector<std::vector<uint32_t>> cycles;
  for (const auto& members : cyclic_components(m_out, component)) {
    cycles.push_back(shortest_cycle(m_out, component, members));
  }
  std::sort(cycles.begin(), cycles.end(),
            [](const auto& a, const auto& b) { return a.front() < b.front(); });
  return cycles;
}

} // namespace stove
