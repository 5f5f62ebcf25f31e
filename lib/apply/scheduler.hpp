#pragma once

// What may run next in a graph of operations, and what no longer can: the
// part of a walk that decides, with no threads, no clock and no provider
// (ninja's Plan, beside the Builder that runs commands). The engine walks a
// plan's operation graph with it, one operation per free worker
// (apply/engine.hpp); refresh walks the state's records with it level by
// level, a parent read before its children (apply/refresh.hpp).

#include "graph/dag.hpp"

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace stove {

enum class OpState : uint8_t { waiting, ready, running, done, failed, skipped };

class Scheduler {
public:
  // Every node of `dag` is an operation; an edge a -> b means b needs a
  // done first. Nodes with no predecessor are ready at once. `dag` must
  // outlive the scheduler.
  explicit Scheduler(const Dag& dag);

  // The operation that became ready first, now running; nullopt when none
  // is ready.
  std::optional<uint32_t> start_next();
  // Every operation ready now, in the order they became ready, now running.
  std::vector<uint32_t> start_all_ready();
  // `op` (running) is done: what waited only on it becomes ready.
  void succeeded(uint32_t op);
  // `op` (running) failed, or was found unable to go on: everything that
  // needs it, directly or through others, and has not started is skipped.
  // Returns those skipped, depth first from `op`'s successors in edge
  // order.
  std::vector<uint32_t> failed(uint32_t op);

  OpState state(uint32_t op) const { return m_state[op]; }
  bool has_ready() const { return !m_ready.empty(); }
  size_t running() const { return m_running; }
  // Operations that never started (waiting or ready), ascending: what an
  // interrupt cut off.
  std::vector<uint32_t> unstarted() const;

private:
  const Dag& m_dag;
  std::vector<OpState> m_state;
  std::vector<uint32_t> m_waiting_on; // predecessors not yet done
  std::deque<uint32_t> m_ready;
  size_t m_running = 0;
};

} // namespace stove
