#pragma once

#include "model/config.hpp"
#include "parse/source.hpp"
#include "state/journal.hpp"
#include "state/state.hpp"

#include <string>

namespace stove {

// Everything a plan is made from.
struct Inputs {
  SourceFile source;
  Config config;
  Diagnostics diagnostics;  // problems in the infrastructure file
  std::string state_path;
  State state;          // with any journal of an interrupted apply folded in
  ReplayResult journal; // what that journal held
};

// The state file used for an infrastructure file when --state is not given:
// state/<stem>.json under the current directory, where <stem> is the file's
// name without its extension (playbooks/quickstart.yaml -> state/quickstart.json).
std::string default_state_path(const std::string& config_path);

// Reads the infrastructure file and the state side by side (they are
// independent, and each is large at scale). Problems in the file are left in
// `diagnostics` for the caller to print; an unreadable or invalid state
// throws stove::Error. The state is only read when the file is valid. A
// journal left by an interrupted apply is folded into the state in memory;
// the file is not written.
Inputs load_inputs(const std::string& config_path, const std::string& state_path);

} // namespace stove
