#pragma once

#include "state/state.hpp"

#include <string>

namespace stove {

// Reads a state file. A missing file gives an empty State with exists=false.
// Malformed JSON, a missing or mistyped field, or a format_version newer than
// k_state_format_version throws stove::Error(ErrorKind::state) whose message
// starts with "PATH:LINE:COL: " where a position is known, or "PATH: ".
// Streams the resources array, so memory stays near the size of the result.
State load_state(const std::string& path);

// Parses state JSON already in memory; `path` is only used in messages.
State parse_state(const std::string& path, const std::string& text);

// Serialises to the documented JSON format (see state/README.md).
std::string serialize_state(const State& state);

// Writes `state` to `path`: bumps state.serial, assigns a lineage when it has
// none, stamps stove_version. Keeps the file it replaces as PATH.backup, and
// writes atomically (see state/atomic_file.hpp). Creates missing parent
// directories. The caller must hold the state lock (state/lock.hpp).
void write_state(const std::string& path, State& state);

// A new random (version 4) UUID, lowercase, 36 characters.
std::string new_uuid();

// The current time as RFC 3339 UTC with seconds, e.g. 2026-11-22T02:26:15Z.
std::string now_rfc3339();

} // namespace stove
