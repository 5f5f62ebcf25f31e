#pragma once

// Internal to the state layer: what turns the JSON events of a state file
// into a State, for both readers in state/state_reader.cpp.

#include "state/json_reader.hpp"
#include "state/state.hpp"
#include "state/state_reader.hpp"

#include <memory>
#include <optional>

namespace stove {

// Receives the JSON events of a state file (from read_json or nlohmann's
// parser) and fills a State as they come; see make_state_builder.
class StateEvents : public JsonEvents {
public:
  // The text turned out not to be JSON: that comes before any other problem.
  virtual void syntax_problem(StateProblem problem) = 0;
  // The problem that makes the document unusable, in order of precedence;
  // nullopt when the State is complete.
  virtual std::optional<StateProblem> conclude() = 0;
};

// Fills `state`, which must outlive it. No document tree of the whole file
// is ever built: each resource becomes a ResourceState as soon as its
// fields arrive; only spec, observed and outputs are built as JSON.
// Problems are recorded, not thrown.
std::unique_ptr<StateEvents> make_state_builder(State& state);

} // namespace stove
