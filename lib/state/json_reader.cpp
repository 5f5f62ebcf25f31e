#include "state/json_reader.hpp"

#include "util/utf8.hpp"

#include <array>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <system_error>
#include <unistd.h>

namespace stove {

namespace {

constexpr std::size_t k_block_size = 256 * 1024;

// Bytes a string holds as they are: printable ASCII but '"' and '\'.
constexpr std::array<bool, 256> k_plain = [] {
  std::array<bool, 256> table{};
  for (int c = 0x20; c < 0x80; ++c) {
    table[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  }
  return table;
}();

// Eight bytes at `p`, the first in the lowest byte.
uint64_t load8(const char* p) {
  uint64_t word;
  std::memcpy(&word, p, sizeof word);
  if constexpr (std::endian::native == std::endian::big) {
    word = __builtin_bswap64(word);
  }
  return word;
}

constexpr uint64_t k_ones = 0x0101010101010101ull;
constexpr uint64_t k_highs = 0x8080808080808080ull;

// Marks (with its high bit) each byte of `word` that a string cannot hold as
// it is: '"', '\', a control character or a non-ASCII byte. Marks above the
// lowest may be spurious; the lowest is exact.
uint64_t special_bytes(uint64_t word) {
  auto zero_bytes = [](uint64_t w) { return (w - k_ones) & ~w & k_highs; };
  uint64_t quote = zero_bytes(word ^ (k_ones * '"'));
  uint64_t backslash = zero_bytes(word ^ (k_ones * '\\'));
  uint64_t control = (word - k_ones * 0x20) & ~word & k_highs;
  return quote | backslash | control | (word & k_highs);
}

bool is_blank(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

bool is_digit(int c) {
  return c >= '0' && c <= '9';
}

// The value of four hex digits, or -1.
long hex4(const char* text) {
  long value = 0;
  for (int i = 0; i < 4; ++i) {
    char c = text[i];
    int digit = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
    if (digit < 0) {
      return -1;
    }
    value = value * 16 + digit;
  }
  return value;
}

void append_utf8(std::string& out, unsigned long code_point) {
  auto byte = [&](unsigned long b) { out.push_back(static_cast<char>(b)); };
  if (code_point < 0x80) {
    byte(code_point);
  } else if (code_point < 0x800) {
    byte(0xC0 | (code_point >> 6));
    byte(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    byte(0xE0 | (code_point >> 12));
    byte(0x80 | ((code_point >> 6) & 0x3F));
    byte(0x80 | (code_point & 0x3F));
  } else {
    byte(0xF0 | (code_point >> 18));
    byte(0x80 | ((code_point >> 12) & 0x3F));
    byte(0x80 | ((code_point >> 6) & 0x3F));
    byte(0x80 | (code_point & 0x3F));
  }
}

} // namespace

JsonInput::JsonInput(std::string_view text)
    : m_data(text.data()), m_size(text.size()), m_eof(true) {}

JsonInput::JsonInput(int fd) : m_fd(fd), m_buffer(k_block_size) {
  m_data = m_buffer.data();
}

bool JsonInput::refill(std::size_t keep) {
  if (m_eof) {
    return false;
  }
  std::size_t kept = m_size - keep;
  if (keep > 0 && kept > 0) {
    std::memmove(m_buffer.data(), m_buffer.data() + keep, kept);
  }
  m_base += keep;
  m_size = kept;
  if (m_size == m_buffer.size()) {
    m_buffer.resize(2 * m_buffer.size()); // a single token fills the buffer
  }
  m_data = m_buffer.data();
  while (true) {
    ssize_t got = ::read(m_fd, m_buffer.data() + m_size, m_buffer.size() - m_size);
    if (got > 0) {
      m_size += static_cast<std::size_t>(got);
      return true;
    }
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got < 0) {
      m_read_error = errno;
    }
    m_eof = true;
    return false;
  }
}

// The reader behind read_json: a loop over tokens with an explicit stack of
// open containers, so that nesting costs no recursion.
class JsonReader {
public:
  JsonReader(JsonInput& input, JsonEvents& events) : m_input(input), m_events(events) {}

  JsonReadResult run() {
    if (peek() == 0xEF) {
      m_token = m_pos;
      if (!have(3) || std::memcmp(data() + m_pos, "\xEF\xBB\xBF", 3) != 0) {
        return JsonReadResult::invalid;
      }
      m_pos += 3;
    }
    int c = next_token();
    while (true) {
      Step step = value(c);
      if (step == Step::opened) {
        c = next_token();
        continue;
      }
      if (step != Step::ok) {
        return result(step);
      }
      // After a value: close containers until a member follows.
      while (true) {
        c = next_token();
        if (m_stack.empty()) {
          return c == -1 ? JsonReadResult::complete : JsonReadResult::invalid;
        }
        char open = m_stack.back();
        if (c == ',') {
          ++m_pos;
          c = next_token();
          if (open == '{') {
            if (c != '"') {
              return JsonReadResult::invalid;
            }
            if (Step s = key(); s != Step::ok) {
              return result(s);
            }
            c = next_token();
          }
          break;
        }
        if (c != (open == '{' ? '}' : ']')) {
          return JsonReadResult::invalid;
        }
        ++m_pos;
        m_stack.pop_back();
        if (!m_events.end(offset())) {
          return JsonReadResult::stopped;
        }
      }
    }
  }

private:
  enum class Step {
    ok,      // a value was read and reported
    opened,  // a container was opened; a value comes next
    stop,    // the handler asked to stop
    invalid, // not JSON
  };

  static JsonReadResult result(Step step) {
    return step == Step::stop ? JsonReadResult::stopped : JsonReadResult::invalid;
  }

  const char* data() const { return m_input.m_data; }
  std::size_t size() const { return m_input.m_size; }
  uint64_t offset() const { return m_input.m_base + m_pos; }

  // Reads more input, keeping the bytes of the current token (from m_token).
  bool more() {
    std::size_t keep = m_token;
    if (!m_input.refill(keep)) {
      return false;
    }
    m_pos -= keep;
    m_token -= keep;
    m_run -= keep;
    return true;
  }

  // The byte at m_pos, or -1 at the end.
  int peek() {
    if (m_pos == size() && !more()) {
      return -1;
    }
    return static_cast<unsigned char>(data()[m_pos]);
  }

  // Whether `n` bytes from m_pos are at hand.
  bool have(std::size_t n) {
    while (size() - m_pos < n) {
      if (!more()) {
        return false;
      }
    }
    return true;
  }

  // Skips blanks; the byte that follows them, or -1 at the end.
  int next_token() {
    while (true) {
      // A local position lets the compiler keep it in a register.
      const char* d = data();
      std::size_t n = size();
      std::size_t pos = m_pos;
      while (pos < n && is_blank(d[pos])) {
        ++pos;
        // Indentation comes in runs of spaces.
        while (pos + 8 <= n && load8(d + pos) == k_ones * ' ') {
          pos += 8;
        }
      }
      m_pos = pos;
      m_token = m_run = m_pos;
      if (m_pos < n) {
        return static_cast<unsigned char>(d[m_pos]);
      }
      if (!more()) {
        return -1;
      }
    }
  }

  Step report(const JsonValue& v) { return m_events.value(v, offset()) ? Step::ok : Step::stop; }

  // The value that starts with `c`, at m_pos.
  Step value(int c) {
    JsonValue v;
    switch (c) {
    case '{':
    case '[': {
      bool object = c == '{';
      ++m_pos;
      v.kind = object ? JsonValue::Kind::object : JsonValue::Kind::array;
      if (!m_events.value(v, offset())) {
        return Step::stop;
      }
      int next = next_token();
      if (next == (object ? '}' : ']')) {
        ++m_pos;
        return m_events.end(offset()) ? Step::ok : Step::stop;
      }
      m_stack.push_back(static_cast<char>(c));
      if (!object) {
        return Step::opened;
      }
      if (next != '"') {
        return Step::invalid;
      }
      Step step = key();
      return step == Step::ok ? Step::opened : step;
    }
    case '"': {
      Step step = string(v.string);
      if (step != Step::ok) {
        return step;
      }
      v.kind = JsonValue::Kind::string;
      return report(v);
    }
    case 't':
      v.kind = JsonValue::Kind::boolean;
      v.boolean = true;
      return literal("true", v);
    case 'f':
      v.kind = JsonValue::Kind::boolean;
      return literal("false", v);
    case 'n':
      return literal("null", v);
    default:
      if (c == '-' || is_digit(c)) {
        return number(v);
      }
      return Step::invalid;
    }
  }

  // A key at m_pos (a '"'), reported, and the ':' after it.
  Step key() {
    std::string_view name;
    Step step = string(name);
    if (step != Step::ok) {
      return step;
    }
    if (!m_events.key(name, offset())) {
      return Step::stop;
    }
    if (next_token() != ':') {
      return Step::invalid;
    }
    ++m_pos;
    return Step::ok;
  }

  Step literal(std::string_view word, const JsonValue& v) {
    m_token = m_pos;
    if (!have(word.size()) || std::memcmp(data() + m_pos, word.data(), word.size()) != 0) {
      return Step::invalid;
    }
    m_pos += word.size();
    return report(v);
  }

  // A string at m_pos (a '"'). `out` points into the input, or into
  // m_scratch when escapes had to be decoded.
  Step string(std::string_view& out) {
    m_token = m_pos;
    ++m_pos;
    m_run = m_pos; // the start of the bytes not yet copied to m_scratch
    bool escaped = false;
    m_scratch.clear();
    while (true) {
      const char* d = data();
      std::size_t n = size();
      std::size_t pos = m_pos;
      while (pos + 8 <= n) {
        uint64_t special = special_bytes(load8(d + pos));
        if (special != 0) {
          pos += static_cast<std::size_t>(std::countr_zero(special)) / 8;
          break;
        }
        pos += 8;
      }
      while (pos < n && k_plain[static_cast<unsigned char>(d[pos])]) {
        ++pos;
      }
      m_pos = pos;
      if (m_pos == n) {
        if (!more()) {
          return Step::invalid;
        }
        continue;
      }
      auto c = static_cast<unsigned char>(d[m_pos]);
      if (c == '"') {
        break;
      }
      if (c == '\\') {
        m_scratch.append(d + m_run, m_pos - m_run);
        escaped = true;
        if (!escape()) {
          return Step::invalid;
        }
        m_run = m_pos;
        continue;
      }
      if (c < 0x20) {
        return Step::invalid;
      }
      have(4); // a sequence cut by the end of the input is invalid anyway
      std::size_t length = utf8_sequence_length(std::string_view(data(), size()), m_pos);
      if (length == 0) {
        return Step::invalid;
      }
      m_pos += length;
    }
    if (escaped) {
      m_scratch.append(data() + m_run, m_pos - m_run);
      out = m_scratch;
    } else {
      out = std::string_view(data() + m_token + 1, m_pos - m_token - 1);
    }
    ++m_pos;
    return Step::ok;
  }

  // Decodes the escape at m_pos (a '\') into m_scratch.
  bool escape() {
    if (!have(2)) {
      return false;
    }
    char c = data()[m_pos + 1];
    m_pos += 2;
    switch (c) {
    case '"':
      m_scratch.push_back('"');
      return true;
    case '\\':
      m_scratch.push_back('\\');
      return true;
    case '/':
      m_scratch.push_back('/');
      return true;
    case 'b':
      m_scratch.push_back('\b');
      return true;
    case 'f':
      m_scratch.push_back('\f');
      return true;
    case 'n':
      m_scratch.push_back('\n');
      return true;
    case 'r':
      m_scratch.push_back('\r');
      return true;
    case 't':
      m_scratch.push_back('\t');
      return true;
    case 'u':
      break;
    default:
      return false;
    }
    if (!have(4)) {
      return false;
    }
    long code_point = hex4(data() + m_pos);
    m_pos += 4;
    if (code_point < 0 || (code_point >= 0xDC00 && code_point <= 0xDFFF)) {
      return false;
    }
    if (code_point >= 0xD800 && code_point <= 0xDBFF) {
      // A high surrogate must be followed by an escaped low one.
      if (!have(6) || data()[m_pos] != '\\' || data()[m_pos + 1] != 'u') {
        return false;
      }
      long low = hex4(data() + m_pos + 2);
      if (low < 0xDC00 || low > 0xDFFF) {
        return false;
      }
      m_pos += 6;
      code_point = 0x10000 + ((code_point - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(m_scratch, static_cast<unsigned long>(code_point));
    return true;
  }

  Step number(JsonValue& v) {
    m_token = m_pos;
    bool negative = false;
    bool real = false;
    int c = peek();
    if (c == '-') {
      negative = true;
      ++m_pos;
      c = peek();
    }
    if (c == '0') {
      ++m_pos;
      c = peek();
    } else if (is_digit(c)) {
      do {
        ++m_pos;
        c = peek();
      } while (is_digit(c));
    } else {
      return Step::invalid;
    }
    if (c == '.') {
      ++m_pos;
      if (!is_digit(peek())) {
        return Step::invalid;
      }
      do {
        ++m_pos;
      } while (is_digit(peek()));
      c = peek();
      real = true;
    }
    if (c == 'e' || c == 'E') {
      ++m_pos;
      c = peek();
      if (c == '+' || c == '-') {
        ++m_pos;
      }
      if (!is_digit(peek())) {
        return Step::invalid;
      }
      do {
        ++m_pos;
      } while (is_digit(peek()));
      real = true;
    }
    const char* begin = data() + m_token;
    const char* end = data() + m_pos;
    if (!real) {
      // As nlohmann does: an integer too big for its type becomes a double.
      uint64_t magnitude = 0;
      bool overflow = false;
      for (const char* p = begin + (negative ? 1 : 0); p < end; ++p) {
        auto digit = static_cast<uint64_t>(*p - '0');
        if (magnitude > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
          overflow = true;
          break;
        }
        magnitude = magnitude * 10 + digit;
      }
      constexpr uint64_t k_int_min_magnitude =
          static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1;
      if (!overflow && !negative) {
        v.kind = JsonValue::Kind::unsigned_integer;
        v.unsigned_integer = magnitude;
        return report(v);
      }
      if (!overflow && magnitude <= k_int_min_magnitude) {
        v.kind = JsonValue::Kind::integer;
        v.integer = magnitude == k_int_min_magnitude ? std::numeric_limits<int64_t>::min()
                                                     : -static_cast<int64_t>(magnitude);
        return report(v);
      }
    }
    double number = 0;
    auto [stop, error] = std::from_chars(begin, end, number);
    if (error != std::errc() || stop != end || !std::isfinite(number)) {
      // Out of range: nlohmann refuses an overflow, accepts an underflow.
      return Step::invalid;
    }
    v.kind = JsonValue::Kind::real;
    v.real = number;
    return report(v);
  }

  JsonInput& m_input;
  JsonEvents& m_events;
  std::size_t m_pos = 0;   // the next byte to read
  std::size_t m_token = 0; // the start of the current token, kept on refills
  std::size_t m_run = 0;   // in a string: the start of bytes not yet in m_scratch
  std::string m_scratch;
  std::vector<char> m_stack; // '{' or '[' for each open container
};

JsonReadResult read_json(JsonInput& input, JsonEvents& events) {
  JsonReader reader(input, events);
  return reader.run();
}

} // namespace stove
