#pragma once

// Internal to the state layer: the streaming reader behind load_state and
// parse_state (state/statefile.hpp).

#include "state/state.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stove {

// Bytes for the JSON parser, from memory or from a file descriptor read in
// blocks. Counts the bytes handed out, so that parser events can be mapped
// back to positions in the text.
class ByteSource {
public:
  explicit ByteSource(std::string_view text);
  explicit ByteSource(int fd); // not owned

  bool at_end() { return m_pos == m_size && !refill(); }
  char peek() const { return m_data[m_pos]; }
  void advance() { ++m_pos; }
  uint64_t offset() const { return m_base + m_pos; }
  // The errno of a failed read(2), or 0. A failed read looks like the end.
  int read_error() const { return m_read_error; }

private:
  bool refill();

  const char* m_data = nullptr;
  std::size_t m_size = 0;
  std::size_t m_pos = 0;
  uint64_t m_base = 0; // offset of m_data[0]
  int m_fd = -1;
  int m_read_error = 0;
  bool m_eof = false;
  std::vector<char> m_buffer;
};

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

// Reads state JSON from `source` into `out`. Returns the problem that makes
// the text unusable, if any; `out` is then partly filled and meaningless.
std::optional<StateProblem> read_state(ByteSource& source, State& out);

// Formats `problem` as "PATH:LINE:COL: error: MESSAGE", or "PATH: error:
// MESSAGE" when its position is unknown or `text` (the whole file) is not at
// hand.
std::string format_problem(const std::string& path, const StateProblem& problem,
                           const std::optional<std::string_view>& text);

} // namespace stove
