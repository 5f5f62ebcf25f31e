#pragma once

#include "model/mark.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stove {

namespace detail {

// Where each line of a text starts, built on first use. Copies start empty, so
// that copying a SourceFile stays cheap; the index is rebuilt when the text it
// was built for is replaced. Not safe for concurrent first use.
class LineIndex {
public:
  LineIndex() = default;
  LineIndex(const LineIndex&) {}
  LineIndex(LineIndex&& other) noexcept { *this = std::move(other); }
  LineIndex& operator=(const LineIndex& other);
  LineIndex& operator=(LineIndex&& other) noexcept;
  ~LineIndex() = default;

  // Byte offsets of the line starts of `text`: never empty.
  const std::vector<size_t>& starts(std::string_view text) const;

private:
  mutable std::vector<size_t> m_starts;
  mutable const char* m_data = nullptr;
  mutable size_t m_size = 0;
};

} // namespace detail

// A file's name, as the user typed it, and its whole text.
//
// Lines end at "\n", "\r\n" or a lone "\r", and also at U+0085, U+2028 and
// U+2029, as the YAML parser counts them, so that its marks point at the right
// line. A UTF-8 byte order mark is not part of line 1.
struct SourceFile {
  std::string path;
  std::string text;
  // Cache for the line functions; not part of the value. It assumes that
  // `text` does not change once they were called (it only notices a new size
  // or buffer): to change the text, assign a whole new SourceFile.
  detail::LineIndex m_lines = {};

  // Reads the file. Throws stove::Error(io) naming the path on failure.
  static SourceFile read(const std::string& path);

  // The text of line `line` (1-based) without its line break; empty if the
  // line does not exist.
  std::string_view line_text(uint32_t line) const;

  // How many lines there are. A final line break does not start another
  // line, so an empty text has none.
  uint32_t line_count() const;

  // The position of byte `offset` of `text` (clamped to the text). Columns
  // count code points; each byte of invalid UTF-8 counts as one.
  Mark mark_at(size_t offset) const;
};

enum class Severity { error, warning, note };

struct Diagnostic {
  Severity severity = Severity::error;
  Mark mark;
  std::string message;
};

// Collects every problem found in one source so that all of them can be
// reported at once.
class Diagnostics {
public:
  void error(Mark mark, std::string message);
  void warning(Mark mark, std::string message);

  bool has_errors() const { return m_errors > 0; }
  size_t error_count() const { return m_errors; }
  const std::vector<Diagnostic>& all() const { return m_items; }

  // Sorts by position (stable for equal positions), so that output reads top
  // to bottom however the checks ran.
  void sort();

private:
  std::vector<Diagnostic> m_items;
  size_t m_errors = 0;
};

// Renders `file:line:col: error: message`, then the offending line and a caret
// under the column. Long lines are cut to a window around the column.
std::string render_diagnostic(const SourceFile& source, const Diagnostic& diagnostic,
                              bool color);

// Renders every diagnostic in order.
std::string render_diagnostics(const SourceFile& source, const Diagnostics& diagnostics,
                               bool color);

} // namespace stove
