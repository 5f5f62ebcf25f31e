#include "state/json_reader.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

using nlohmann::json;
using stove::JsonInput;
using stove::JsonReadResult;
using stove::JsonValue;
using stove::test::TempDir;

namespace {

std::string describe_real(double d) {
  return fmt::format("real {:.17g}", d);
}

std::string describe_string(std::string_view s) {
  return json(std::string(s)).dump();
}

// Every event read_json reports, as text; keys and strings with the offset
// just past them, which must be exact.
struct Recorder : stove::JsonEvents {
  std::vector<std::string> events;
  bool value(const JsonValue& v, uint64_t offset) override {
    switch (v.kind) {
    case JsonValue::Kind::null:
      events.push_back("null");
      break;
    case JsonValue::Kind::boolean:
      events.push_back(v.boolean ? "true" : "false");
      break;
    case JsonValue::Kind::integer:
      events.push_back(fmt::format("integer {}", v.integer));
      break;
    case JsonValue::Kind::unsigned_integer:
      events.push_back(fmt::format("unsigned {}", v.unsigned_integer));
      break;
    case JsonValue::Kind::real:
      events.push_back(describe_real(v.real));
      break;
    case JsonValue::Kind::string:
      events.push_back(fmt::format("string {} @{}", describe_string(v.string), offset));
      break;
    case JsonValue::Kind::object:
      events.push_back(fmt::format("object @{}", offset));
      break;
    case JsonValue::Kind::array:
      events.push_back(fmt::format("array @{}", offset));
      break;
    }
    return true;
  }
  bool key(std::string_view name, uint64_t offset) override {
    events.push_back(fmt::format("key {} @{}", describe_string(name), offset));
    return true;
  }
  bool end(uint64_t offset) override {
    events.push_back(fmt::format("end @{}", offset));
    return true;
  }
};

// The same events from nlohmann's SAX parser, with offsets computed from the
// text (nlohmann gives none).
struct NlohmannRecorder {
  std::string_view text;
  std::vector<std::string> events;
  std::size_t cursor = 0; // where to look for the next token

  // The offset just past the next occurrence of `c`, a structural character.
  std::size_t past(char c) {
    cursor = text.find(c, cursor) + 1;
    return cursor;
  }
  // The offset just past the next string token.
  std::size_t past_string() {
    std::size_t i = text.find('"', cursor) + 1;
    while (text[i] != '"') {
      i += text[i] == '\\' ? 2 : 1;
    }
    cursor = i + 1;
    return cursor;
  }

  bool null() {
    events.push_back("null");
    return true;
  }
  bool boolean(bool b) {
    events.push_back(b ? "true" : "false");
    return true;
  }
  bool number_integer(json::number_integer_t i) {
    events.push_back(fmt::format("integer {}", i));
    return true;
  }
  bool number_unsigned(json::number_unsigned_t u) {
    events.push_back(fmt::format("unsigned {}", u));
    return true;
  }
  bool number_float(json::number_float_t d, const std::string&) {
    events.push_back(describe_real(d));
    return true;
  }
  bool string(std::string& s) {
    events.push_back(fmt::format("string {} @{}", describe_string(s), past_string()));
    return true;
  }
  bool binary(json::binary_t&) { return true; }
  bool start_object(std::size_t) {
    events.push_back(fmt::format("object @{}", past('{')));
    return true;
  }
  bool key(std::string& name) {
    events.push_back(fmt::format("key {} @{}", describe_string(name), past_string()));
    return true;
  }
  bool end_object() {
    events.push_back(fmt::format("end @{}", past('}')));
    return true;
  }
  bool start_array(std::size_t) {
    events.push_back(fmt::format("array @{}", past('[')));
    return true;
  }
  bool end_array() {
    events.push_back(fmt::format("end @{}", past(']')));
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const json::exception&) { return false; }
};

struct Outcome {
  JsonReadResult result;
  std::vector<std::string> events;
};

Outcome read_text(const std::string& text) {
  JsonInput input{std::string_view(text)};
  Recorder recorder;
  JsonReadResult result = stove::read_json(input, recorder);
  return {result, recorder.events};
}

std::vector<std::string> nlohmann_events(const std::string& text) {
  NlohmannRecorder recorder{text, {}, 0};
  REQUIRE(json::sax_parse(text, &recorder));
  return recorder.events;
}

// Checks that read_json and nlohmann agree on `text`.
void check_agreement(const std::string& text) {
  CAPTURE(text);
  Outcome ours = read_text(text);
  if (!json::accept(text)) {
    CHECK(ours.result == JsonReadResult::invalid);
    return;
  }
  if (ours.result == JsonReadResult::invalid) {
    // Allowed only for numbers too small for a double, which nlohmann rounds
    // and read_json leaves to it.
    CHECK(text.find_first_of("eE") != std::string::npos);
    return;
  }
  CHECK(ours.result == JsonReadResult::complete);
  CHECK(ours.events == nlohmann_events(text));
}

const std::vector<std::string> k_valid = {
    "null",
    " true ",
    "\xEF\xBB\xBF{\"bom\": 1}",
    "false",
    "0",
    "-0",
    "12",
    "-12",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "-9223372036854775809",
    "1.5",
    "-0.0",
    "1e3",
    "1E+3",
    "2.5e-3",
    "123456789012345678901234567890",
    "4.9e-324",
    "1.7976931348623157e308",
    "\"\"",
    "\"plain\"",
    R"("esc \" \\ \/ \b \f \n \r \t")",
    R"("\u0041\u00e9\u2713\ud83d\ude00\u0000")",
    "\"raw caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x98\x80 \x7F\"",
    "[]",
    "{}",
    "[1, [2, [3, []]], {}]",
    R"({"a": {"b": {"c": [true, false, null]}}, "": "", "a": 2})",
    "\t\r\n [ 1 ,\n 2 ] \n",
    R"({"key with \"quotes\"": "value", "k": [-1.25e+10, 0.5]})",
};

const std::vector<std::string> k_invalid = {
    "",
    "   ",
    "\xEF\xBB",
    "\xEF\xBB\xBE{}",
    "nul",
    "truex",
    "True",
    "01",
    "-",
    "1.",
    ".5",
    "+1",
    "1e",
    "1e+",
    "0x10",
    "1e999",
    "-1e999",
    "NaN",
    "Infinity",
    "\"unterminated",
    "\"bad escape \\x\"",
    "\"\\u12\"",
    "\"\\u12G4\"",
    "\"\\ud83d\"",
    "\"\\ud83d\\u0041\"",
    "\"\\ude00\"",
    "\"raw\ncontrol\"",
    "\"\t\"",
    "\"\xC3\"",
    "\"\xC0\x80\"",
    "\"\xED\xA0\x80\"",
    "\"\xF4\x90\x80\x80\"",
    "\"\xFF\"",
    "[1, 2",
    "[1, 2,]",
    "[1 2]",
    "{\"a\" 1}",
    "{\"a\": 1,}",
    "{1: 2}",
    "{\"a\": }",
    "{'a': 1}",
    "[1]]",
    "{} {}",
    "[] x",
    "// comment\n{}",
    "{\"a\": 1 /* c */}",
};

} // namespace

TEST_SUITE("read_json") {

  TEST_CASE("it reads valid JSON exactly as nlohmann does") {
    for (const auto& text : k_valid) {
      CAPTURE(text);
      Outcome ours = read_text(text);
      CHECK(ours.result == JsonReadResult::complete);
      CHECK(ours.events == nlohmann_events(text));
    }
  }

  TEST_CASE("it refuses what nlohmann refuses") {
    for (const auto& text : k_invalid) {
      CAPTURE(text);
      CHECK_FALSE(json::accept(text));
      CHECK(read_text(text).result == JsonReadResult::invalid);
    }
  }

  TEST_CASE("it leaves numbers too small for a double to nlohmann") {
    CHECK(json::accept("1e-400"));
    CHECK(read_text("1e-400").result == JsonReadResult::invalid);
  }

  TEST_CASE("it agrees with nlohmann on mangled documents") {
    std::string base = R"({
  "format_version": 1,
  "resources": [
    {"address": "cloud_space[\"a\"]", "spec": {"n": -12, "r": 1.5e3, "u": "caf\u00e9 \u2713"},
     "list": [true, false, null, "", "\ud83d\ude00"], "raw": "h)"
                       "\xC3\xA9"
                       R"("}
  ]
})";
    check_agreement(base);
    const std::string alphabet = "{}[]:,\"\\ \n0123456789-+.eEtrufalsn\x80\xC3\xE2\xF0u";
    std::mt19937 random(20261122);
    for (int round = 0; round < 3000; ++round) {
      std::string text = base;
      int edits = 1 + static_cast<int>(random() % 3);
      for (int e = 0; e < edits; ++e) {
        std::size_t at = random() % (text.size() + 1);
        char c = alphabet[random() % alphabet.size()];
        switch (random() % 3) {
        case 0:
          text.insert(at, 1, c);
          break;
        case 1:
          if (at < text.size())
            text.erase(at, 1);
          break;
        default:
          if (at < text.size())
            text[at] = c;
        }
      }
      check_agreement(text);
    }
  }

  TEST_CASE("it stops when a handler asks it to") {
    struct StopAtKey : stove::JsonEvents {
      int events = 0;
      bool value(const JsonValue&, uint64_t) override { return ++events, true; }
      bool key(std::string_view name, uint64_t) override { return ++events, name != "stop"; }
      bool end(uint64_t) override { return ++events, true; }
    } handler;
    std::string text = R"({"a": 1, "stop": 2, "b": [}})";
    JsonInput input{std::string_view(text)};
    CHECK(stove::read_json(input, handler) == JsonReadResult::stopped);
    CHECK(handler.events == 4);
  }

  TEST_CASE("reading a file in blocks gives the events of reading it whole") {
    // Tokens of every kind straddle block boundaries, and one string is longer
    // than a block.
    std::string text = "[\n";
    for (int i = 0; i < 40000; ++i) {
      text += fmt::format(R"(  {{"k{}": "v\"{}\u00e9 caf)"
                          "\xC3\xA9"
                          R"(", "n": [{}, -{}.5e-1, true, null]}},)"
                          "\n",
                          i, i, i, i);
    }
    text += "  \"" + std::string(700000, 'x') + "\\n\"\n]\n";
    REQUIRE(text.size() > 4 * 256 * 1024);
    TempDir dir;
    auto path = dir.write("big.json", text);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    JsonInput input(fd);
    Recorder recorder;
    JsonReadResult result = stove::read_json(input, recorder);
    ::close(fd);
    CHECK(input.read_error() == 0);
    CHECK(result == JsonReadResult::complete);
    Outcome whole = read_text(text);
    CHECK(whole.result == JsonReadResult::complete);
    CHECK(recorder.events.size() == whole.events.size());
    CHECK(recorder.events == whole.events);
  }

  TEST_CASE("a failed read is reported") {
    TempDir dir;
    int fd = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    JsonInput input(fd);
    Recorder recorder;
    CHECK(stove::read_json(input, recorder) == JsonReadResult::invalid);
    CHECK(input.read_error() == EISDIR);
    ::close(fd);
  }

} // TEST_SUITE
