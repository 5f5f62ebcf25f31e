#pragma once

// Internal to the state layer: a fast, strict, streaming JSON event reader.
// nlohmann::json's lexer reads a few tens of MB/s, too slow for large state
// files; this reader does the common case several times faster and leaves
// every error to nlohmann, whose messages users see.
//
// Why not a library: Debian 12's RapidJSON (1.1.0) was tried and measured
// 50% slower here, and its full-precision number parsing reads out of
// bounds on crafted input. simdjson (libsimdjson-dev) was not tried; it
// needs the whole file in one padded buffer. Tests compare this reader with
// nlohmann's event by event.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stove {

// One JSON value as an event reports it: a scalar, or the start of an object
// or an array (whose members follow as further events, closed by end()).
struct JsonValue {
  enum class Kind : uint8_t {
    null,
    boolean,
    integer,
    unsigned_integer,
    real,
    string,
    object,
    array
  };
  Kind kind = Kind::null;
  bool boolean = false;
  int64_t integer = 0;           // negative integers
  uint64_t unsigned_integer = 0; // non-negative integers
  double real = 0;               // numbers with a fraction or exponent, or too big
  std::string_view string;       // valid only during the event

  bool is_container() const { return kind == Kind::object || kind == Kind::array; }
};

// Receives a JSON text's events in document order, as nlohmann's SAX
// interface would deliver them. `offset` is the byte offset just past the
// token that caused the event: past the closing quote of a key or string,
// past '{', '[', '}' or ']', past a literal; for a number it may be one byte
// more. Returning false stops reading.
class JsonEvents {
public:
  virtual ~JsonEvents() = default;
  virtual bool value(const JsonValue& value, uint64_t offset) = 0;
  virtual bool key(std::string_view name, uint64_t offset) = 0;
  virtual bool end(uint64_t offset) = 0; // of an object or an array
};

// The bytes read_json reads: text in memory, or a file descriptor read in
// blocks (so that memory stays small whatever the file's size).
class JsonInput {
public:
  explicit JsonInput(std::string_view text);
  explicit JsonInput(int fd); // not owned
  JsonInput(const JsonInput&) = delete;
  JsonInput& operator=(const JsonInput&) = delete;

  // The errno of a failed read(2), or 0. A failed read looks like the end.
  int read_error() const { return m_read_error; }

private:
  friend class JsonReader;

  // Makes more bytes available: drops those before `keep`, moves the rest to
  // the front, and reads after them. False at the end of the input.
  bool refill(std::size_t keep);

  const char* m_data = nullptr;
  std::size_t m_size = 0;
  uint64_t m_base = 0; // the offset of m_data[0] in the input
  int m_fd = -1;
  int m_read_error = 0;
  bool m_eof = false;
  std::vector<char> m_buffer;
};

enum class JsonReadResult {
  complete, // the whole text was read and is valid JSON
  stopped,  // an event handler asked to stop
  invalid,  // not JSON, or a number only a full parser converts faithfully
};

// Reads one JSON text (RFC 8259, exactly what nlohmann::json::parse accepts,
// a UTF-8 byte order mark included) from `input` and reports it to `events`.
// Gives no reason for `invalid`: a caller wanting one parses the text again
// with nlohmann.
JsonReadResult read_json(JsonInput& input, JsonEvents& events);

} // namespace stove
