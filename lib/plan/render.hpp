#pragma once

#include "plan/drift.hpp"
#include "plan/plan.hpp"

#include <string>

namespace stove {

struct RenderOptions {
  bool color = false;  // ANSI colours; the caller decides (TTY, NO_COLOR, --no-color)
};

// The plan as an engineer reads it, in the shape terraform users know:
// a "# ADDRESS will be created" header and +, ~, - and -/+ markers per
// resource, attribute changes as `before -> after`, and a closing
// `Plan: N to add, N to change, N to destroy.` line.
std::string render_plan(const Plan& plan, const RenderOptions& options);

// What a refresh found, for the top of `stove plan` and for `stove drift`:
// under "Objects have changed outside of Stove", each drifted object with
// its changed attributes as `state -> real`, each deleted one, and then the
// objects found inside managed parents that no record names. Empty when
// there is nothing to say.
std::string render_drift(const DriftReport& report, const RenderOptions& options);

// A value as it appears in the plan: strings quoted, lists and maps inline.
std::string render_value(const nlohmann::json& value);

} // namespace stove
