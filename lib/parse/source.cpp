#include "parse/source.hpp"

#include "util/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace stove {

namespace {

constexpr std::string_view k_bom = "\xEF\xBB\xBF";
constexpr char32_t k_invalid = 0xFFFFFFFF;

// Lines longer than this many code points are shown as a window of
// k_window code points around the column, the caret k_window_before
// code points from the window's start where possible.
constexpr size_t k_max_line_columns = 120;
constexpr size_t k_window = 100;
constexpr size_t k_window_before = 50;

constexpr std::string_view k_ansi_reset = "\x1b[0m";
constexpr std::string_view k_ansi_bold = "\x1b[1m";
constexpr std::string_view k_ansi_red = "\x1b[1;31m";
constexpr std::string_view k_ansi_magenta = "\x1b[1;35m";
constexpr std::string_view k_ansi_cyan = "\x1b[1;36m";
constexpr std::string_view k_ansi_green = "\x1b[1;32m";

// Decodes the code point at text[i] and advances i past it. Invalid or
// truncated UTF-8 yields k_invalid and advances one byte, so that every bad
// byte counts as one column.
char32_t decode(std::string_view text, size_t& i) {
  const auto b0 = static_cast<unsigned char>(text[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  size_t length = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    length = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    length = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    length = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    ++i;
    return k_invalid;
  }
  if (text.size() - i < length) {
    ++i;
    return k_invalid;
  }
  for (size_t k = 1; k < length; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return k_invalid;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return k_invalid;
  }
  i += length;
  return cp;
}

size_t count_code_points(std::string_view text) {
  size_t count = 0;
  for (size_t i = 0; i < text.size(); ++count) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
    } else {
      decode(text, i);
    }
  }
  return count;
}

// Whether a code point may be echoed to a terminal as it is. Control
// characters, invalid UTF-8 and bidirectional overrides (which can make a
// line read differently from what the parser saw) are not.
bool is_printable(char32_t cp) {
  if (cp == k_invalid)
    return false;
  if (cp < 0x20)
    return cp == '\t';
  if (cp == 0x7F || (cp >= 0x80 && cp < 0xA0))
    return false;
  if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069))
    return false;
  return cp != 0xFEFF;
}

// The length of the line break that ends just before `end`.
size_t break_length_before(std::string_view text, size_t end) {
  const auto last = static_cast<unsigned char>(text[end - 1]);
  switch (last) {
  case '\n':
    return end >= 2 && text[end - 2] == '\r' ? 2 : 1;
  case '\r':
    return 1;
  case 0x85:
    return 2; // U+0085 as C2 85
  default:
    return 3; // U+2028 or U+2029 as E2 80 A8/A9
  }
}

std::string_view severity_word(Severity severity) {
  switch (severity) {
  case Severity::error:
    return "error:";
  case Severity::warning:
    return "warning:";
  case Severity::note:
    return "note:";
  }
  return "error:";
}

std::string_view severity_color(Severity severity) {
  switch (severity) {
  case Severity::error:
    return k_ansi_red;
  case Severity::warning:
    return k_ansi_magenta;
  case Severity::note:
    return k_ansi_cyan;
  }
  return k_ansi_red;
}

// Appends the line, cut to a window around the column if long, and a caret
// line under the column.
void append_excerpt(std::string& out, std::string_view line, uint32_t column, bool color) {
  const size_t length = count_code_points(line);
  const size_t caret = std::min<size_t>(std::max<uint32_t>(column, 1) - 1, length);
  size_t first = 0;
  size_t last = length;
  if (length > k_max_line_columns) {
    first = caret > k_window_before ? caret - k_window_before : 0;
    last = std::min(length, first + k_window);
    first = last > k_window ? std::min(first, last - k_window) : 0;
  }

  std::string caret_line;
  if (first > 0) {
    out += "...";
    caret_line += "   ";
  }
  size_t i = 0;
  for (size_t index = 0; index < first; ++index)
    decode(line, i);
  for (size_t index = first; index < last; ++index) {
    const size_t begin = i;
    const char32_t cp = decode(line, i);
    if (is_printable(cp)) {
      out.append(line.substr(begin, i - begin));
    } else {
      out += '?';
    }
    if (index < caret)
      caret_line += cp == '\t' ? '\t' : ' ';
  }
  if (last < length)
    out += "...";
  out += '\n';

  out += caret_line;
  if (color)
    out += k_ansi_green;
  out += '^';
  if (color)
    out += k_ansi_reset;
  out += '\n';
}

} // namespace

namespace detail {

LineIndex& LineIndex::operator=(const LineIndex& other) {
  if (this != &other) {
    m_starts.clear();
    m_data = nullptr;
    m_size = 0;
  }
  return *this;
}

LineIndex& LineIndex::operator=(LineIndex&& other) noexcept {
  if (this != &other) {
    m_starts = std::move(other.m_starts);
    m_data = other.m_data;
    m_size = other.m_size;
    other.m_starts.clear();
    other.m_data = nullptr;
    other.m_size = 0;
  }
  return *this;
}

const std::vector<size_t>& LineIndex::starts(std::string_view text) const {
  if (!m_starts.empty() && m_data == text.data() && m_size == text.size())
    return m_starts;

  m_starts.clear();
  m_data = text.data();
  m_size = text.size();
  const size_t size = text.size();
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  size_t i = text.starts_with(k_bom) ? k_bom.size() : 0;
  m_starts.push_back(i);
  while (i < size) {
    const unsigned char c = bytes[i];
    if (c == '\n') {
      m_starts.push_back(++i);
    } else if (c == '\r') {
      i += i + 1 < size && bytes[i + 1] == '\n' ? 2 : 1;
      m_starts.push_back(i);
    } else if (c == 0xC2 && i + 1 < size && bytes[i + 1] == 0x85) {
      m_starts.push_back(i += 2);
    } else if (c == 0xE2 && i + 2 < size && bytes[i + 1] == 0x80 &&
               (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9)) {
      m_starts.push_back(i += 3);
    } else {
      ++i;
    }
  }
  return m_starts;
}

} // namespace detail

SourceFile SourceFile::read(const std::string& path) {
  const auto fail = [&path](int error) {
    return Error(ErrorKind::io, fmt::format("{}: cannot read: {}", path, std::strerror(error)));
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw fail(errno);

  SourceFile file;
  file.path = path;
  struct stat info {};
  if (::fstat(fd, &info) == 0 && info.st_size > 0) {
    file.text.reserve(static_cast<size_t>(info.st_size));
  }
  char buffer[65536];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0)
      break;
    if (n < 0) {
      if (errno == EINTR)
        continue;
      const int error = errno;
      ::close(fd);
      throw fail(error);
    }
    file.text.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return file;
}

std::string_view SourceFile::line_text(uint32_t line) const {
  const auto& starts = m_lines.starts(text);
  if (line == 0 || line > starts.size())
    return {};
  const size_t begin = starts[line - 1];
  size_t end = text.size();
  if (line < starts.size()) {
    end = starts[line];
    end -= break_length_before(text, end);
  }
  return std::string_view(text).substr(begin, end - begin);
}

uint32_t SourceFile::line_count() const {
  const auto& starts = m_lines.starts(text);
  size_t count = starts.size();
  if (starts.back() == text.size())
    --count;
  return static_cast<uint32_t>(std::min<size_t>(count, std::numeric_limits<uint32_t>::max()));
}

Mark SourceFile::mark_at(size_t offset) const {
  const auto& starts = m_lines.starts(text);
  offset = std::min(offset, text.size());
  auto it = std::upper_bound(starts.begin(), starts.end(), offset);
  if (it != starts.begin())
    --it;
  const size_t line = static_cast<size_t>(it - starts.begin()) + 1;
  const size_t begin = std::min(*it, offset);
  const size_t column = count_code_points(std::string_view(text).substr(begin, offset - begin)) + 1;
  constexpr size_t k_max = std::numeric_limits<uint32_t>::max();
  return Mark{static_cast<uint32_t>(std::min(line, k_max)),
              static_cast<uint32_t>(std::min(column, k_max))};
}

void Diagnostics::error(Mark mark, std::string message) {
  m_items.push_back(Diagnostic{Severity::error, mark, std::move(message)});
  ++m_errors;
}

void Diagnostics::warning(Mark mark, std::string message) {
  m_items.push_back(Diagnostic{Severity::warning, mark, std::move(message)});
}

void Diagnostics::sort() {
  std::stable_sort(m_items.begin(), m_items.end(),
                   [](const Diagnostic& a, const Diagnostic& b) { return a.mark < b.mark; });
}

std::string render_diagnostic(const SourceFile& source, const Diagnostic& diagnostic, bool color) {
  const Mark mark = diagnostic.mark;
  std::string out;
  if (color)
    out += k_ansi_bold;
  out += source.path;
  if (mark.known())
    out += fmt::format(":{}:{}", mark.line, mark.column);
  out += ':';
  if (color)
    out += k_ansi_reset;
  out += ' ';
  if (color)
    out += severity_color(diagnostic.severity);
  out += severity_word(diagnostic.severity);
  if (color)
    out += k_ansi_reset;
  out += ' ';
  out += diagnostic.message;
  out += '\n';
  if (mark.known() && mark.line <= source.line_count()) {
    append_excerpt(out, source.line_text(mark.line), mark.column, color);
  }
  return out;
}

std::string render_diagnostics(const SourceFile& source, const Diagnostics& diagnostics,
                               bool color) {
  std::string out;
  for (const auto& diagnostic : diagnostics.all()) {
    out += render_diagnostic(source, diagnostic, color);
  }
  return out;
}

} // namespace stove
