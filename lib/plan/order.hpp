#pragma once

#include "graph/dag.hpp"
#include "plan/plan.hpp"

#include <cstdint>
#include <vector>

namespace stove {

// A plan's changes become operations: a destroy (for destroy and the first
// half of replace) and an apply (create, update, the second half of replace,
// and no-op, which apply skips).
enum class Phase : uint8_t { destroy, apply };

struct Operation {
  uint32_t change = 0;  // index into the plan's changes
  Phase phase = Phase::apply;
};

// The operations and the edges between them: a resource is created or
// updated after what it depends on; it is destroyed before what it depended
// on; a replaced resource is destroyed before it is created again. Built from
// the plan alone, so apply follows the plan and never a fresh diff.
struct OperationGraph {
  std::vector<Operation> operations;
  Dag dag;
};

OperationGraph build_operation_graph(const std::vector<ResourceChange>& changes);

} // namespace stove
