#pragma once

// Internal to the state layer: the streaming reader behind load_state and
// parse_state (state/statefile.hpp).

#include "state/json_reader.hpp"
#include "state/state.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stove {

// A position recorded as a byte offset while streaming; turned into a line
// and column only when a problem is reported, from the text.
struct TextPosition {
  enum class Anchor : uint8_t {
    none,        // no position
    at,          // the byte at `offset`
    value_after, // the value that follows `offset`, past blanks and one ',' or ':'
    key_ending,  // the string (an object key) whose closing quote ends at `offset`
  };
  Anchor anchor = Anchor::none;
  uint64_t offset = 0;
};

struct StateProblem {
  TextPosition position;
  std::string message; // without the "PATH:LINE:COL: error: " prefix
  bool syntax = false; // the text is not JSON at all
};

// The outcome of read_state_fast.
struct FastReadOutcome {
  // False when the input is not JSON that read_json understands: the caller
  // must then read the whole text with read_state_text, which says why.
  bool understood = true;
  std::optional<StateProblem> problem; // the problem that makes the state unusable
};

// Reads state JSON from `input` into `out` with read_json (state/json_reader.hpp).
// On a problem, or when not understood, `out` is partly filled and meaningless.
FastReadOutcome read_state_fast(JsonInput& input, State& out);

// Reads state JSON from `text` into `out` with nlohmann's parser: slower, but
// its messages describe malformed JSON. Gives the same result as
// read_state_fast on any text read_state_fast understands.
std::optional<StateProblem> read_state_text(std::string_view text, State& out);

// Formats `problem` in `text` (the whole file) as "PATH:LINE:COL: error:
// MESSAGE", or "PATH: error: MESSAGE" when it has no position.
std::string format_problem(const std::string& path, const StateProblem& problem,
                           std::string_view text);

} // namespace stove
