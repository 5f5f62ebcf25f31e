#include "apply/scheduler.hpp"

namespace stove {

Scheduler::Scheduler(const Dag& dag)
  : m_dag(dag), m_state(dag.size(), OpState::waiting), m_waiting_on(dag.size(), 0) {
  for (size_t op = 0; op < dag.size(); ++op) {
    for (uint32_t next : dag.successors(op)) {
      ++m_waiting_on[next];
    }
  }
  for (uint32_t op = 0; op < dag.size(); ++op) {
    if (m_waiting_on[op] == 0) {
      m_state[op] = OpState::ready;
      m_ready.push_back(op);
    }
  }
}

std::optional<uint32_t> Scheduler::start_next() {
  if (m_ready.empty()) {
    return std::nullopt;
  }
  uint32_t op = m_ready.front();
  m_ready.pop_front();
  m_state[op] = OpState::running;
  ++m_running;
  return op;
}

std::vector<uint32_t> Scheduler::start_all_ready() {
  std::vector<uint32_t> started;
  while (auto op = start_next()) {
    started.push_back(*op);
  }
  return started;
}

void Scheduler::succeeded(uint32_t op) {
  m_state[op] = OpState::done;
  --m_running;
  for (uint32_t next : m_dag.successors(op)) {
    if (m_state[next] == OpState::waiting && --m_waiting_on[next] == 0) {
      m_state[next] = OpState::ready;
      m_ready.push_back(next);
    }
  }
}

std::vector<uint32_t> Scheduler::failed(uint32_t op) {
  m_state[op] = OpState::failed;
  --m_running;
  std::vector<uint32_t> skipped;
  const auto& first = m_dag.successors(op);
  std::vector<uint32_t> stack(first.begin(), first.end());
  while (!stack.empty()) {
    uint32_t next = stack.back();
    stack.pop_back();
    // Everything below a running operation waits on it (none can be ready
    // or started); one reached twice is skipped already.
    if (m_state[next] != OpState::waiting) {
      continue;
    }
    m_state[next] = OpState::skipped;
    skipped.push_back(next);
    for (uint32_t after : m_dag.successors(next)) {
      stack.push_back(after);
    }
  }
  return skipped;
}

std::vector<uint32_t> Scheduler::unstarted() const {
  std::vector<uint32_t> out;
  for (uint32_t op = 0; op < m_state.size(); ++op) {
    if (m_state[op] == OpState::waiting || m_state[op] == OpState::ready) {
      out.push_back(op);
    }
  }
  return out;
}

} // namespace stove
