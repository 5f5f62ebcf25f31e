#include "state/state_reader.hpp"

#include "state/state_builder.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <memory>
#include <utility>

namespace stove {

namespace {

using Json = nlohmann::json;

// Where nlohmann's parser is in the text, for positions: an input iterator
// whose copies share one cursor.
struct TextCursor {
  const char* begin = nullptr;
  const char* current = nullptr;
  const char* end = nullptr;
};

class CursorIterator {
public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = char;

  CursorIterator() = default; // the end
  explicit CursorIterator(TextCursor* cursor) : m_cursor(cursor) {}

  char operator*() const { return *m_cursor->current; }
  CursorIterator& operator++() {
    ++m_cursor->current;
    return *this;
  }
  CursorIterator operator++(int) {
    CursorIterator before = *this;
    ++m_cursor->current;
    return before;
  }
  friend bool operator==(const CursorIterator& a, const CursorIterator& b) {
    return a.done() == b.done();
  }

private:
  bool done() const { return m_cursor == nullptr || m_cursor->current == m_cursor->end; }

  TextCursor* m_cursor = nullptr;
};

// nlohmann's message without "[json.exception.parse_error.101] parse error
// at line 1, column 5: ", whose position counts bytes.
std::string parser_message(const Json::exception& e) {
  std::string message = e.what();
  if (message.starts_with("[json.exception.")) {
    auto end = message.find("] ");
    if (end != std::string::npos) {
      message.erase(0, end + 2);
    }
  }
  if (message.starts_with("parse error")) {
    auto colon = message.find(": ");
    if (colon != std::string::npos) {
      message.erase(0, colon + 2);
    }
  }
  return message;
}

// Drives a state builder from nlohmann's SAX parser over text in memory, taking
// positions from the parser's cursor.
class NlohmannEvents {
public:
  NlohmannEvents(TextCursor& cursor, StateEvents& builder)
      : m_cursor(cursor), m_builder(builder) {}

  bool null() { return value(JsonValue{}); }
  bool boolean(bool b) {
    JsonValue v;
    v.kind = JsonValue::Kind::boolean;
    v.boolean = b;
    return value(v);
  }
  bool number_integer(Json::number_integer_t i) {
    JsonValue v;
    v.kind = JsonValue::Kind::integer;
    v.integer = i;
    return value(v);
  }
  bool number_unsigned(Json::number_unsigned_t u) {
    JsonValue v;
    v.kind = JsonValue::Kind::unsigned_integer;
    v.unsigned_integer = u;
    return value(v);
  }
  bool number_float(Json::number_float_t d, const Json::string_t&) {
    JsonValue v;
    v.kind = JsonValue::Kind::real;
    v.real = d;
    return value(v);
  }
  bool string(Json::string_t& s) {
    JsonValue v;
    v.kind = JsonValue::Kind::string;
    v.string = s;
    return value(v);
  }
  bool binary(Json::binary_t&) { return true; } // JSON text has none
  bool start_object(std::size_t) {
    JsonValue v;
    v.kind = JsonValue::Kind::object;
    return value(v);
  }
  bool start_array(std::size_t) {
    JsonValue v;
    v.kind = JsonValue::Kind::array;
    return value(v);
  }
  bool end_object() { return m_builder.end(offset()); }
  bool end_array() { return m_builder.end(offset()); }
  bool key(Json::string_t& name) { return m_builder.key(name, offset()); }
  bool parse_error(std::size_t position, const std::string&, const Json::exception& e) {
    // `position` counts the bytes read, the offending one included.
    TextPosition where{TextPosition::Anchor::at, position > 0 ? position - 1 : 0};
    m_builder.syntax_problem(StateProblem{where, "invalid JSON: " + parser_message(e), true});
    return false;
  }

private:
  uint64_t offset() const { return static_cast<uint64_t>(m_cursor.current - m_cursor.begin); }
  bool value(const JsonValue& v) { return m_builder.value(v, offset()); }

  TextCursor& m_cursor;
  StateEvents& m_builder;
};

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// The byte offset `position` designates in `text`.
std::size_t resolve(std::string_view text, const TextPosition& position) {
  std::size_t size = text.size();
  std::size_t i = static_cast<std::size_t>(std::min<uint64_t>(position.offset, size));
  switch (position.anchor) {
  case TextPosition::Anchor::none:
  case TextPosition::Anchor::at:
    return i;
  case TextPosition::Anchor::value_after:
    if (i == 0 && text.starts_with("\xEF\xBB\xBF")) {
      i = 3;
    }
    while (i < size && is_blank(text[i])) {
      ++i;
    }
    if (i < size && (text[i] == ',' || text[i] == ':')) {
      ++i;
      while (i < size && is_blank(text[i])) {
        ++i;
      }
    }
    return i;
  case TextPosition::Anchor::key_ending:
    // Inside a JSON string every quote is escaped, so the opening quote is
    // the nearest one before the closing quote not preceded by an odd number
    // of backslashes.
    for (std::size_t k = i >= 1 ? i - 1 : 0; k > 0; --k) {
      std::size_t j = k - 1; // from the byte before the closing quote down to 0
      if (text[j] != '"') {
        continue;
      }
      std::size_t backslashes = 0;
      while (backslashes < j && text[j - 1 - backslashes] == '\\') {
        ++backslashes;
      }
      if (backslashes % 2 == 0) {
        return j;
      }
    }
    return 0;
  }
  return i;
}

} // namespace

FastReadOutcome read_state_fast(JsonInput& input, State& out) {
  std::unique_ptr<StateEvents> builder = make_state_builder(out);
  if (read_json(input, *builder) == JsonReadResult::invalid) {
    return FastReadOutcome{false, std::nullopt};
  }
  return FastReadOutcome{true, builder->conclude()};
}

std::optional<StateProblem> read_state_text(std::string_view text, State& out) {
  std::unique_ptr<StateEvents> builder = make_state_builder(out);
  TextCursor cursor{text.data(), text.data(), text.data() + text.size()};
  NlohmannEvents events(cursor, *builder);
  // The outcome is in `builder`, which may stop the parser when it has seen
  // enough.
  Json::sax_parse(CursorIterator(&cursor), CursorIterator(), &events);
  return builder->conclude();
}

std::string format_problem(const std::string& path, const StateProblem& problem,
                           std::string_view text) {
  if (problem.syntax && std::all_of(text.begin(), text.end(), is_blank)) {
    return fmt::format("{}: error: state file is empty", path);
  }
  if (problem.position.anchor == TextPosition::Anchor::none) {
    return fmt::format("{}: error: {}", path, problem.message);
  }
  std::size_t offset = resolve(text, problem.position);
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  std::size_t column = 1;
  for (std::size_t i = line_start; i < offset; ++i) {
    // Count code points: every byte but UTF-8 continuation bytes.
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++column;
    }
  }
  return fmt::format("{}:{}:{}: error: {}", path, line, column, problem.message);
}

} // namespace stove
