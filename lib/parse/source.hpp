#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stove {

// A position in a source file. Lines and columns count from 1; columns count
// characters (UTF-8 code points), not bytes. A zero line means "no position".
struct Mark {
  uint32_t line = 0;
  uint32_t column = 0;

  bool known() const { return line != 0; }
  friend bool operator==(const Mark&, const Mark&) = default;
  friend auto operator<=>(const Mark&, const Mark&) = default;
};

// A file's name, as the user typed it, and its whole text.
struct SourceFile {
  std::string path;
  std::string text;

  // Reads the file. Throws stove::Error(io) naming the path on failure.
  static SourceFile read(const std::string& path);

  // The text of line `line` (1-based) without its line break; empty if the
  // line does not exist.
  std::string_view line_text(uint32_t line) const;
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
