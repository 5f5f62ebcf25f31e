#include "parse/document.hpp"
#include "unit/parse/mark_string.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

using stove::Diagnostics;
using stove::DocumentLimits;
using stove::Mark;
using stove::Node;
using stove::NodeType;
using stove::SourceFile;

namespace {

struct Parsed {
  SourceFile source;
  Diagnostics diagnostics;
  Node node;

  // Every diagnostic as rendered, without color.
  std::string errors() const { return stove::render_diagnostics(source, diagnostics, false); }
  // Only the first lines of each diagnostic: "path:line:col: error: message".
  std::string messages() const {
    std::string out;
    for (const auto& d : diagnostics.all()) {
      out += std::to_string(d.mark.line) + ":" + std::to_string(d.mark.column) + ": " + d.message +
             "\n";
    }
    return out;
  }
};

Parsed parse(std::string text, std::string path = "t.yaml", const DocumentLimits& limits = {}) {
  Parsed parsed{SourceFile{std::move(path), std::move(text)}, {}, {}};
  parsed.node = stove::parse_document(parsed.source, parsed.diagnostics, limits);
  return parsed;
}

// Parses `value: TEXT` and returns the value node, requiring no errors.
Node scalar(const std::string& text) {
  Parsed parsed = parse("value: " + text + "\n");
  INFO(text);
  REQUIRE(parsed.messages() == "");
  REQUIRE(parsed.node.type == NodeType::mapping);
  REQUIRE(parsed.node.mapping_size() == 1);
  return parsed.node.value_at(0);
}

std::string nested_lists(int depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

} // namespace

TEST_SUITE("describe") {

  TEST_CASE("names every node type as a user reads it") {
    CHECK(stove::describe(NodeType::null) == "null");
    CHECK(stove::describe(NodeType::boolean) == "a boolean");
    CHECK(stove::describe(NodeType::integer) == "an integer");
    CHECK(stove::describe(NodeType::real) == "a number");
    CHECK(stove::describe(NodeType::string) == "a string");
    CHECK(stove::describe(NodeType::sequence) == "a list");
    CHECK(stove::describe(NodeType::mapping) == "a mapping");
  }

} // TEST_SUITE

TEST_SUITE("Node") {

  TEST_CASE("find returns the value under a key, or nullptr") {
    const Parsed parsed = parse("name: web\nmemory: 1024\n");
    REQUIRE(parsed.messages() == "");
    const Node* memory = parsed.node.find("memory");
    REQUIRE(memory != nullptr);
    CHECK(memory->value.integer == 1024);
    CHECK(parsed.node.find("name")->text == "web");
    CHECK(parsed.node.find("missing") == nullptr);
    CHECK(parsed.node.find("web") == nullptr);
    CHECK(parsed.node.key_at(1).text == "memory");
    CHECK(parse("[a, b]").node.find("a") == nullptr);
  }

} // TEST_SUITE

TEST_SUITE("parse_document") {

  TEST_CASE("builds the tree with the 1-based position of every node") {
    const Parsed parsed = parse("name: web\n"
                                "machines:\n"
                                "  - name: a\n"
                                "    memory: 1024\n"
                                "    tags: [x, \"y\"]\n"
                                "  -\n");
    REQUIRE(parsed.messages() == "");
    const Node& root = parsed.node;
    CHECK(root.type == NodeType::mapping);
    CHECK(root.mark == Mark{1, 1});
    REQUIRE(root.mapping_size() == 2);
    CHECK(root.key_at(0).type == NodeType::string);
    CHECK(root.key_at(0).text == "name");
    CHECK(root.key_at(0).mark == Mark{1, 1});
    CHECK(root.value_at(0).text == "web");
    CHECK(root.value_at(0).mark == Mark{1, 7});
    CHECK(root.key_at(1).mark == Mark{2, 1});

    const Node& machines = root.value_at(1);
    CHECK(machines.type == NodeType::sequence);
    CHECK(machines.mark == Mark{3, 3});
    REQUIRE(machines.children.size() == 2);
    const Node& first = machines.children[0];
    CHECK(first.type == NodeType::mapping);
    CHECK(first.mark == Mark{3, 5});
    CHECK(first.key_at(1).mark == Mark{4, 5});
    CHECK(first.value_at(1).type == NodeType::integer);
    CHECK(first.value_at(1).mark == Mark{4, 13});
    const Node& tags = first.value_at(2);
    CHECK(tags.type == NodeType::sequence);
    CHECK(tags.mark == Mark{5, 11});
    REQUIRE(tags.children.size() == 2);
    CHECK(tags.children[0].mark == Mark{5, 12});
    CHECK(tags.children[1].mark == Mark{5, 15});
    CHECK(tags.children[1].text == "y");
    CHECK(machines.children[1].type == NodeType::null);
    CHECK(machines.children[1].mark == Mark{6, 4});
  }

  TEST_CASE("columns count code points, not bytes") {
    const Parsed parsed = parse("n\xC3\xA4me: caf\xC3\xA9\nx: [\xE2\x82\xAC, y]\n");
    REQUIRE(parsed.messages() == "");
    CHECK(parsed.node.value_at(0).mark == Mark{1, 7});
    CHECK(parsed.node.value_at(1).children[1].mark == Mark{2, 8});
  }

  TEST_CASE("plain scalars resolve by the YAML 1.2 core schema") {
    struct Row {
      const char* text;
      NodeType type;
    };
    const Row rows[] = {
        {"~", NodeType::null},        {"null", NodeType::null},
        {"Null", NodeType::null},     {"NULL", NodeType::null},
        {"", NodeType::null},         {"nULL", NodeType::string},
        {"true", NodeType::boolean},  {"True", NodeType::boolean},
        {"TRUE", NodeType::boolean},  {"false", NodeType::boolean},
        {"False", NodeType::boolean}, {"FALSE", NodeType::boolean},
        {"tRUE", NodeType::string},   {"yes", NodeType::string},
        {"no", NodeType::string},     {"NO", NodeType::string},
        {"on", NodeType::string},     {"off", NodeType::string},
        {"y", NodeType::string},      {"0", NodeType::integer},
        {"-17", NodeType::integer},   {"+17", NodeType::integer},
        {"012", NodeType::integer},   {"0x1F", NodeType::integer},
        {"0o17", NodeType::integer},  {"0X1F", NodeType::string},
        {"0o18", NodeType::string},   {"0x", NodeType::string},
        {"-0x1F", NodeType::string},  {"012abc", NodeType::string},
        {"1_000", NodeType::string},  {"1e3", NodeType::real},
        {"1.5", NodeType::real},      {"-1.5E-3", NodeType::real},
        {".5", NodeType::real},       {"1.", NodeType::real},
        {"+.5e+2", NodeType::real},   {".inf", NodeType::real},
        {"-.Inf", NodeType::real},    {"+.INF", NodeType::real},
        {".nan", NodeType::real},     {".NaN", NodeType::real},
        {".NAN", NodeType::real},     {"-.nan", NodeType::string},
        {".", NodeType::string},      {"1e", NodeType::string},
        {"e3", NodeType::string},     {"1.2.3", NodeType::string},
        {"0.1.2", NodeType::string},  {"infinity", NodeType::string},
        {"web-1", NodeType::string},  {"10.0.0.1", NodeType::string},
    };
    for (const Row& row : rows) {
      INFO("scalar: '" << row.text << "'");
      const Node node = scalar(row.text);
      CHECK(node.type == row.type);
      CHECK(node.text == row.text);
    }
  }

  TEST_CASE("resolved scalars carry their values") {
    CHECK(scalar("true").value.boolean);
    CHECK_FALSE(scalar("FALSE").value.boolean);
    CHECK(scalar("-17").value.integer == -17);
    CHECK(scalar("+17").value.integer == 17);
    CHECK(scalar("012").value.integer == 12);
    CHECK(scalar("0x1F").value.integer == 31);
    CHECK(scalar("0xff").value.integer == 255);
    CHECK(scalar("0o17").value.integer == 15);
    CHECK(scalar("9223372036854775807").value.integer == std::numeric_limits<int64_t>::max());
    CHECK(scalar("-9223372036854775808").value.integer == std::numeric_limits<int64_t>::min());
    CHECK(scalar("0x7FFFFFFFFFFFFFFF").value.integer == std::numeric_limits<int64_t>::max());
    CHECK(scalar("1e3").value.real == 1000.0);
    CHECK(scalar("-1.5E-3").value.real == -0.0015);
    CHECK(scalar(".5").value.real == 0.5);
    CHECK(scalar("1.").value.real == 1.0);
    CHECK(scalar("1.e2").value.real == 100.0);
    CHECK(scalar("+.5e+2").value.real == 50.0);
    CHECK(scalar(".inf").value.real == std::numeric_limits<double>::infinity());
    CHECK(scalar("-.Inf").value.real == -std::numeric_limits<double>::infinity());
    CHECK(std::isnan(scalar(".nan").value.real));
    CHECK(scalar("1e-400").value.real == 0.0);
    CHECK(scalar("4.9e-324").value.real > 0.0);
  }

  TEST_CASE("quoted, literal and folded scalars are always strings") {
    const Parsed parsed = parse("a: \"true\"\n"
                                "b: 'no'\n"
                                "c: \"1\"\n"
                                "d: ''\n"
                                "e: |\n"
                                "  12\n"
                                "f: >-\n"
                                "  null\n"
                                "g: \"~\"\n");
    REQUIRE(parsed.messages() == "");
    const char* texts[] = {"true", "no", "1", "", "12\n", "null", "~"};
    for (size_t i = 0; i < parsed.node.mapping_size(); ++i) {
      INFO("key " << parsed.node.key_at(i).text);
      CHECK(parsed.node.value_at(i).type == NodeType::string);
      CHECK(parsed.node.value_at(i).text == texts[i]);
    }
  }

  TEST_CASE("core tags force or check the type of a scalar") {
    const Parsed parsed = parse("a: !!str 12\n"
                                "b: !!int \"12\"\n"
                                "c: !!float 1\n"
                                "d: !!bool \"true\"\n"
                                "e: !!null ''\n"
                                "f: !<tag:yaml.org,2002:str> true\n"
                                "g: ! 12\n"
                                "h: !!seq [1]\n"
                                "i: !!map {k: v}\n");
    REQUIRE(parsed.messages() == "");
    const Node& root = parsed.node;
    CHECK(root.find("a")->type == NodeType::string);
    CHECK(root.find("a")->text == "12");
    CHECK(root.find("b")->type == NodeType::integer);
    CHECK(root.find("b")->value.integer == 12);
    CHECK(root.find("c")->type == NodeType::real);
    CHECK(root.find("c")->value.real == 1.0);
    CHECK(root.find("d")->type == NodeType::boolean);
    CHECK(root.find("e")->type == NodeType::null);
    CHECK(root.find("f")->type == NodeType::string);
    CHECK(root.find("g")->type == NodeType::string);
    CHECK(root.find("h")->type == NodeType::sequence);
    CHECK(root.find("i")->type == NodeType::mapping);
  }

  TEST_CASE("a core tag that does not match its value is an error") {
    const Parsed parsed = parse("a: !!int abc\n"
                                "b: !!float 0x1F\n"
                                "c: !!bool yes\n"
                                "d: !!null 0\n"
                                "e: !!int 1.5\n"
                                "f: !!seq x\n"
                                "g: !!map [1]\n"
                                "h: !!str {k: v}\n");
    CHECK(parsed.messages() == "1:4: \"abc\" is not a valid !!int\n"
                               "2:4: \"0x1F\" is not a valid !!float\n"
                               "3:4: \"yes\" is not a valid !!bool\n"
                               "4:4: \"0\" is not a valid !!null\n"
                               "5:4: \"1.5\" is not a valid !!int\n"
                               "6:4: tag !!seq cannot be used on a scalar value\n"
                               "7:4: tag !!map cannot be used on a list\n"
                               "8:4: tag !!str cannot be used on a mapping\n");
  }

  TEST_CASE("any other tag is unsupported") {
    const Parsed parsed = parse("a: !foo x\n"
                                "b: !!binary aGVsbG8=\n"
                                "c: !ref [1]\n"
                                "d: !<tag:example.com,2024:thing> {}\n");
    CHECK(parsed.messages() == "1:4: unsupported tag \"!foo\"\n"
                               "2:4: unsupported tag \"!!binary\"\n"
                               "3:4: unsupported tag \"!ref\"\n"
                               "4:4: unsupported tag \"tag:example.com,2024:thing\"\n");
  }

  TEST_CASE("an integer that does not fit 64 bits is an error at its position") {
    const Parsed parsed = parse("a: 99999999999999999999999\n"
                                "b: [9223372036854775808, -9223372036854775809]\n"
                                "c: 0x8000000000000000\n"
                                "d: 0o1777777777777777777777\n");
    CHECK(
        parsed.errors() ==
        "t.yaml:1:4: error: integer 99999999999999999999999 is out of range (integers must fit in "
        "64 bits)\n"
        "a: 99999999999999999999999\n"
        "   ^\n"
        "t.yaml:2:5: error: integer 9223372036854775808 is out of range (integers must fit in 64 "
        "bits)\n"
        "b: [9223372036854775808, -9223372036854775809]\n"
        "    ^\n"
        "t.yaml:2:26: error: integer -9223372036854775809 is out of range (integers must fit in 64 "
        "bits)\n"
        "b: [9223372036854775808, -9223372036854775809]\n"
        "                         ^\n"
        "t.yaml:3:4: error: integer 0x8000000000000000 is out of range (integers must fit in 64 "
        "bits)\n"
        "c: 0x8000000000000000\n"
        "   ^\n"
        "t.yaml:4:4: error: integer 0o1777777777777777777777 is out of range (integers must fit in "
        "64 bits)\n"
        "d: 0o1777777777777777777777\n"
        "   ^\n");
  }

  TEST_CASE("a number too large for a double is an error, and a tiny one rounds to zero") {
    const Parsed parsed = parse("a: 1e400\nb: -1.5E+309\nc: 1e-400\nd: 0.00001e-330\n");
    CHECK(parsed.messages() == "1:4: number 1e400 is out of range\n"
                               "2:4: number -1.5E+309 is out of range\n");
    CHECK(parsed.node.find("c")->type == NodeType::real);
    CHECK(parsed.node.find("c")->value.real == 0.0);
    CHECK(parsed.node.find("d")->value.real == 0.0);
  }

  TEST_CASE("a very long number is cut in its message") {
    const std::string digits(200, '9');
    const Parsed parsed = parse("a: " + digits + "\n");
    CHECK(parsed.messages() == "1:4: integer " + digits.substr(0, 60) +
                                   "... is out of range (integers must fit in 64 bits)\n");
  }

  TEST_CASE("parsing goes on after an error so that every error is reported") {
    const Parsed parsed = parse("a: 1e400\nb: !foo x\na: 3\nc: 99999999999999999999\n");
    CHECK(parsed.diagnostics.error_count() == 4);
    CHECK(parsed.node.mapping_size() == 4);
  }

  TEST_CASE("scalar keys of any type become string keys with their text") {
    const Parsed parsed = parse("1: x\ntrue: y\n~: z\n0x10: w\n1e400: v\n!!str 5: u\n");
    REQUIRE(parsed.messages() == "");
    const Node& root = parsed.node;
    REQUIRE(root.mapping_size() == 6);
    const char* keys[] = {"1", "true", "~", "0x10", "1e400", "5"};
    for (size_t i = 0; i < root.mapping_size(); ++i) {
      CHECK(root.key_at(i).type == NodeType::string);
      CHECK(root.key_at(i).text == keys[i]);
    }
    CHECK(root.find("true")->text == "y");
  }

  TEST_CASE("a list or mapping as a key is an error") {
    const Parsed parsed = parse("? [a]\n: 1\n{x: 1}: 2\nok: 3\n");
    CHECK(parsed.messages() == "1:3: mapping keys must be plain strings, not a list\n"
                               "3:1: mapping keys must be plain strings, not a mapping\n");
    CHECK(parsed.node.find("ok")->value.integer == 3);
  }

  TEST_CASE("a duplicate key is an error at the second one") {
    const Parsed parsed = parse("machines:\n"
                                "  - type: machine\n"
                                "    name: a\n"
                                "    memory: 1\n"
                                "    name: b\n"
                                "\"machines\": []\n");
    CHECK(parsed.errors() ==
          "t.yaml:5:5: error: duplicate key \"name\" (first defined at line 3)\n"
          "    name: b\n"
          "    ^\n"
          "t.yaml:6:1: error: duplicate key \"machines\" (first defined at line 1)\n"
          "\"machines\": []\n"
          "^\n");
  }

  TEST_CASE("keys that differ only in type are still duplicates") {
    const Parsed parsed = parse("1: a\n\"1\": b\n");
    CHECK(parsed.messages() == "2:1: duplicate key \"1\" (first defined at line 1)\n");
  }

  TEST_CASE("duplicate keys are found in large mappings too") {
    std::string text;
    for (int i = 0; i < 100; ++i)
      text += "key" + std::to_string(i) + ": " + std::to_string(i) + "\n";
    text += "key7: again\nkey99: again\nkey100: new\n";
    const Parsed parsed = parse(text);
    CHECK(parsed.messages() == "101:1: duplicate key \"key7\" (first defined at line 8)\n"
                               "102:1: duplicate key \"key99\" (first defined at line 100)\n");
    CHECK(parsed.node.mapping_size() == 103);
  }

  TEST_CASE("a duplicate among the first keys of a large mapping is reported once") {
    std::string text = "a: 1\na: 2\n";
    for (int i = 0; i < 30; ++i)
      text += "k" + std::to_string(i) + ": x\n";
    text += "a: 3\n";
    const Parsed parsed = parse(text);
    CHECK(parsed.messages() == "2:1: duplicate key \"a\" (first defined at line 1)\n"
                               "33:1: duplicate key \"a\" (first defined at line 1)\n");
  }

  TEST_CASE("keys in a duplicate message are escaped") {
    const Parsed parsed = parse("\"a\\tb\\e\\x9b\\\"\": 1\n\"a\\tb\\e\\x9b\\\"\": 2\n");
    CHECK(parsed.messages() ==
          "2:1: duplicate key \"a\\tb\\x1B\\u009B\\\"\" (first defined at line 1)\n");
  }

  TEST_CASE("a mapping with 100000 keys and a list of 50000 entries parse") {
    // Scanning every earlier key for duplicates would make this take minutes.
    std::string map_text;
    std::string list_text;
    for (int i = 0; i < 100000; ++i) {
      map_text += "r" + std::to_string(i) + ": 1\n";
      if (i < 50000)
        list_text += "- {name: resource" + std::to_string(i) + ", size: 1}\n";
    }
    map_text += "r99999: 2\n";
    const Parsed map = parse(map_text);
    const Parsed list = parse(list_text);
    CHECK(map.messages() == "100001:1: duplicate key \"r99999\" (first defined at line 100000)\n");
    CHECK(list.messages() == "");
    CHECK(map.node.mapping_size() == 100001);
    CHECK(list.node.children.size() == 50000);
    CHECK(list.node.children[49999].find("name")->text == "resource49999");
  }

  TEST_CASE("merge keys are ordinary keys") {
    const Parsed parsed = parse("base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n");
    REQUIRE(parsed.messages() == "");
    const Node* derived = parsed.node.find("derived");
    REQUIRE(derived != nullptr);
    REQUIRE(derived->mapping_size() == 2);
    CHECK(derived->key_at(0).text == "<<");
    CHECK(derived->value_at(0).type == NodeType::mapping);
    CHECK(derived->find("x") == nullptr);
  }

  TEST_CASE("an alias is a copy of its anchored node with the original positions") {
    const Parsed parsed = parse("defaults: &d\n"
                                "  memory: 1024\n"
                                "  tags: [a, b]\n"
                                "machines:\n"
                                "  - *d\n"
                                "  - name: &n web\n"
                                "    again: *n\n"
                                "  - *d\n");
    REQUIRE(parsed.messages() == "");
    const Node& machines = *parsed.node.find("machines");
    REQUIRE(machines.children.size() == 3);
    for (size_t i : {size_t{0}, size_t{2}}) {
      const Node& copy = machines.children[i];
      CHECK(copy.type == NodeType::mapping);
      CHECK(copy.mark == Mark{1, 11}); // a collection starts at its anchor
      CHECK(copy.find("memory")->value.integer == 1024);
      CHECK(copy.find("tags")->children[1].text == "b");
      CHECK(copy.find("tags")->children[1].mark == Mark{3, 13});
    }
    CHECK(machines.children[1].find("again")->text == "web");
    CHECK(machines.children[1].find("again")->mark == Mark{6, 11});
  }

  TEST_CASE("an anchor whose parent has ended can still be aliased") {
    const Parsed parsed = parse("a:\n"
                                "  b:\n"
                                "    c: &deep {x: [1, 2]}\n"
                                "  d: [&s scalar, &l [3]]\n"
                                "e: [*deep, *s, *l]\n");
    REQUIRE(parsed.messages() == "");
    const Node& e = *parsed.node.find("e");
    REQUIRE(e.children.size() == 3);
    CHECK(e.children[0].find("x")->children[1].value.integer == 2);
    CHECK(e.children[1].text == "scalar");
    CHECK(e.children[2].children[0].value.integer == 3);
  }

  TEST_CASE("an alias refers to the latest definition of its anchor") {
    const Parsed parsed = parse("- &a first\n- *a\n- &a [second]\n- *a\n");
    REQUIRE(parsed.messages() == "");
    CHECK(parsed.node.children[1].text == "first");
    CHECK(parsed.node.children[3].type == NodeType::sequence);
    CHECK(parsed.node.children[3].children[0].text == "second");
  }

  TEST_CASE("an alias can be a key") {
    const Parsed parsed = parse("k: &k name\n*k : value\n");
    REQUIRE(parsed.messages() == "");
    CHECK(parsed.node.find("name")->text == "value");
  }

  TEST_CASE("an anchor inside a rejected key stays usable") {
    const Parsed parsed = parse("? [&a x]\n: 1\nb: *a\n");
    CHECK(parsed.messages() == "1:3: mapping keys must be plain strings, not a list\n");
    CHECK(parsed.node.find("b")->text == "x");
  }

  TEST_CASE("an alias to an undefined anchor is an error") {
    const Parsed parsed = parse("a: [1, *nope]\nb: *later\nc: &later 1\n");
    CHECK(parsed.messages() == "1:8: alias \"*nope\" refers to an undefined anchor\n"
                               "2:4: alias \"*later\" refers to an undefined anchor\n");
  }

  TEST_CASE("an alias inside its own anchored node is an error") {
    const Parsed parsed = parse("a: &x\n  b: [1, *x]\n");
    CHECK(parsed.messages() ==
          "2:10: alias \"*x\" refers to a node that contains it (a recursive alias)\n");
  }

  TEST_CASE("a billion laughs alias bomb stops with one error") {
    const std::string bomb =
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
        "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
        "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
        "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
        "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
    const auto start = std::chrono::steady_clock::now();
    const Parsed parsed = parse(bomb);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // b to f copy 672,588 nodes in all; g's first alias would pass 1,000,000.
    CHECK(parsed.errors() ==
          "t.yaml:7:8: error: alias expansion exceeds 1000000 nodes (a \"billion laughs\" alias "
          "bomb?)\n"
          "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
          "       ^\n");
    CHECK(seconds < 10);
  }

  TEST_CASE("the alias budget counts every copied node in the document") {
    // Each alias of `a` copies 4 nodes: the list and its 3 elements.
    const std::string text = "a: &a [1, 2, 3]\nb: [*a, *a]\nc: *a\n";
    DocumentLimits limits;
    limits.max_alias_nodes = 12;
    CHECK(parse(text, "t.yaml", limits).messages() == "");
    limits.max_alias_nodes = 11;
    CHECK(parse(text, "t.yaml", limits).messages() ==
          "3:4: alias expansion exceeds 11 nodes (a \"billion laughs\" alias bomb?)\n");
    limits.max_alias_nodes = 7;
    CHECK(parse(text, "t.yaml", limits).messages() ==
          "2:9: alias expansion exceeds 7 nodes (a \"billion laughs\" alias bomb?)\n");
  }

  TEST_CASE("nesting up to the limit is accepted") {
    const Parsed parsed = parse(nested_lists(64));
    CHECK(parsed.messages() == "");
    int depth = 1;
    for (const Node* node = &parsed.node; !node->children.empty(); node = &node->children[0])
      ++depth;
    CHECK(depth == 64);
  }

  TEST_CASE("nesting past the limit is one error at the collection that crosses it") {
    const Parsed parsed = parse(nested_lists(65));
    CHECK(parsed.messages() == "1:65: nesting is deeper than 64 levels\n");
  }

  TEST_CASE("100000 opening brackets give one error and no crash") {
    const Parsed parsed = parse(std::string(100000, '['));
    CHECK(parsed.messages() == "1:65: nesting is deeper than 64 levels\n");
    CHECK(parsed.errors() == "t.yaml:1:65: error: nesting is deeper than 64 levels\n..." +
                                 std::string(100, '[') + "...\n" + std::string(53, ' ') + "^\n");
  }

  TEST_CASE("deep block nesting is limited too") {
    std::string mappings;
    for (size_t i = 0; i < 70; ++i)
      mappings += std::string(i, ' ') + "k:\n";
    CHECK(parse(mappings).messages() == "65:65: nesting is deeper than 64 levels\n");
    std::string sequences;
    for (int i = 0; i < 100; ++i)
      sequences += "- ";
    CHECK(parse(sequences + "x\n").messages() == "1:129: nesting is deeper than 64 levels\n");
  }

  TEST_CASE("the depth limit counts the nesting that aliases bring in") {
    const std::string deep = nested_lists(40);
    const Parsed ok = parse("a: &a " + deep + "\nb: " + nested_lists(23).insert(23, "*a") + "\n");
    CHECK(ok.messages() == "");
    const Parsed parsed =
        parse("a: &a " + deep + "\nb: " + nested_lists(24).insert(24, "*a") + "\n");
    CHECK(parsed.messages() == "2:28: nesting is deeper than 64 levels\n");
  }

  TEST_CASE("the depth limit can be changed") {
    DocumentLimits limits;
    limits.max_depth = 3;
    CHECK(parse("[[[]]]", "t.yaml", limits).messages() == "");
    CHECK(parse("a: {b: [[]]}", "t.yaml", limits).messages() ==
          "1:9: nesting is deeper than 3 levels\n");
  }

  TEST_CASE("JSON parses as YAML flow syntax") {
    const Parsed parsed = parse(
        "[{\"location_id\": 1, \"type\": \"cloud_space\", \"name\": \"My VDC\", \"machines\": "
        "[{\"image_id\": 12, \"type\": \"machine\", \"name\": \"drupal\", \"memory\": 1024, "
        "\"vcpus\": 1, "
        "\"disk_boot_size\": 10}]}, {\"type\": \"s3\", \"name\": \"my_bucket\"}]",
        "infra.json");
    REQUIRE(parsed.messages() == "");
    const Node& root = parsed.node;
    REQUIRE(root.type == NodeType::sequence);
    REQUIRE(root.children.size() == 2);
    const Node& space = root.children[0];
    CHECK(space.mark == Mark{1, 2});
    CHECK(space.find("location_id")->value.integer == 1);
    CHECK(space.find("name")->text == "My VDC");
    const Node& machine = space.find("machines")->children[0];
    CHECK(machine.find("name")->text == "drupal");
    CHECK(machine.find("memory")->type == NodeType::integer);
    CHECK(machine.find("memory")->value.integer == 1024);
    CHECK(machine.find("disk_boot_size")->mark == Mark{1, 175});
    CHECK(root.children[1].find("type")->text == "s3");
    CHECK(root.children[1].find("name")->mark == Mark{1, 205});
  }

  TEST_CASE("JSON without spaces, with escapes and with every value type parses") {
    const Parsed parsed = parse(
        "{\"a\":1,\"b\":\"x\\/y\\u00e9\\n\",\"c\":[true,false,null,-1.5e3,0],\"d\":{}}", "x.json");
    REQUIRE(parsed.messages() == "");
    const Node& root = parsed.node;
    CHECK(root.find("a")->value.integer == 1);
    CHECK(root.find("b")->text == "x/y\xC3\xA9\n");
    const Node& c = *root.find("c");
    CHECK(c.children[0].type == NodeType::boolean);
    CHECK(c.children[2].type == NodeType::null);
    CHECK(c.children[3].value.real == -1500.0);
    CHECK(root.find("d")->type == NodeType::mapping);
  }

  TEST_CASE("raw tabs between JSON tokens are accepted in .json files and keep positions") {
    const std::string text = "{\n\t\"a\":\t1,\n\t\"b\": [\t\"x\"\t]\n}\n";
    for (const char* path : {"infra.json", "INFRA.JSON", "dir.d/x.Json"}) {
      INFO(path);
      const Parsed parsed = parse(text, path);
      REQUIRE(parsed.messages() == "");
      CHECK(parsed.node.find("a")->mark == Mark{2, 7});
      CHECK(parsed.node.find("b")->children[0].mark == Mark{3, 9});
      CHECK(parsed.source.text == text);
    }
  }

  TEST_CASE("a JSON syntax error is reported at its position") {
    const Parsed parsed = parse("{\"a\": 1,\n \"b\" 2}", "x.json");
    CHECK(parsed.diagnostics.error_count() == 1);
    CHECK(parsed.diagnostics.all()[0].mark == Mark{2, 6});
    CHECK(parsed.messages() == "2:6: YAML syntax error: did not find expected ',' or '}' while "
                               "parsing a flow mapping that "
                               "started at line 1\n");
  }

  TEST_CASE("a syntax error is reported readably with libyaml's position") {
    const Parsed parsed = parse("a: 1\nb\nc: 2\n");
    CHECK(
        parsed.errors() ==
        "t.yaml:3:1: error: YAML syntax error: could not find expected ':' while scanning a simple "
        "key that started at line 2\n"
        "c: 2\n"
        "^\n");
  }

  TEST_CASE("a syntax error on one line names no other line") {
    const Parsed parsed = parse("a: [1, 2\n");
    CHECK(parsed.messages() ==
          "2:1: YAML syntax error: did not find expected ',' or ']' while parsing a flow sequence "
          "that started at line 1\n");
    const Parsed colon = parse("a: b: c\n");
    CHECK(colon.messages() ==
          "1:5: YAML syntax error: mapping values are not allowed in this context\n");
  }

  TEST_CASE("an unterminated quote at the end of the file shows no source line") {
    const Parsed parsed = parse("a: \"abc\n");
    CHECK(parsed.errors() ==
          "t.yaml:2:1: error: YAML syntax error: found unexpected end of stream while scanning a "
          "quoted scalar that started at line 1\n");
  }

  TEST_CASE("a tab used for indentation gets a plain explanation") {
    const Parsed parsed = parse("a:\n\tb: 1\n");
    CHECK(parsed.errors() ==
          "t.yaml:2:1: error: YAML syntax error: found character that cannot start any token while "
          "scanning for the next token (YAML does not allow tabs for indentation)\n"
          "\tb: 1\n"
          "^\n");
  }

  TEST_CASE("a NUL byte is an error at its position") {
    const Parsed parsed = parse(std::string("a: 1\nb: x\0y\n", 12));
    CHECK(parsed.errors() ==
          "t.yaml:2:5: error: invalid character U+0000: control characters are not allowed\n"
          "b: x?y\n"
          "    ^\n");
  }

  TEST_CASE("invalid UTF-8 is an error at its position") {
    const Parsed parsed = parse("a: 1\nb: caf\xC3\xA9 \xFF\n");
    CHECK(
        parsed.errors() ==
        "t.yaml:2:9: error: the text is not valid UTF-8: invalid leading UTF-8 octet (byte 0xFF)\n"
        "b: caf\xC3\xA9 ?\n"
        "        ^\n");
    CHECK(parse("a: \xC3").messages() ==
          "1:4: the text is not valid UTF-8: incomplete UTF-8 octet sequence\n");
  }

  TEST_CASE("a UTF-16 file is rejected with one clear error") {
    const Parsed parsed = parse(std::string("\xFF\xFE"
                                            "a\0:\0 \0"
                                            "1\0\n\0",
                                            12));
    CHECK(parsed.errors() == "t.yaml: error: the file is encoded as UTF-16; save it as UTF-8\n");
    CHECK(parse(std::string("\xFE\xFF\0a", 4)).diagnostics.error_count() == 1);
  }

  TEST_CASE("a UTF-8 byte order mark is skipped without shifting columns") {
    const Parsed parsed = parse("\xEF\xBB\xBF"
                                "a: [1, x]\n");
    REQUIRE(parsed.messages() == "");
    CHECK(parsed.node.key_at(0).mark == Mark{1, 1});
    CHECK(parsed.node.value_at(0).children[1].mark == Mark{1, 8});
  }

  TEST_CASE("random binary garbage gives clean errors and never crashes") {
    std::mt19937 random(12345);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<int> length(0, 400);
    int rejected = 0;
    for (int round = 0; round < 500; ++round) {
      std::string text;
      const int n = length(random);
      for (int i = 0; i < n; ++i)
        text += static_cast<char>(byte(random));
      if (round % 3 == 0 && !text.empty())
        text[text.size() / 2] = '\0';
      const Parsed parsed = parse(text, round % 2 == 0 ? "g.yaml" : "g.json");
      if (parsed.diagnostics.has_errors())
        ++rejected;
      for (const auto& d : parsed.diagnostics.all()) {
        CHECK(d.mark.line <= parsed.source.line_count() + 1);
      }
      const std::string rendered = parsed.errors();
      for (char c : rendered) {
        CHECK((c == '\n' || c == '\t' || static_cast<unsigned char>(c) >= 0x20));
      }
    }
    CHECK(rejected > 400);
  }

  TEST_CASE("YAML-like garbage with control structure characters never crashes") {
    std::mt19937 random(777);
    const std::string alphabet = "[]{}:,-?&*!|>'\"#%@` \t\n\rab01.~\\";
    std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
    for (int round = 0; round < 2000; ++round) {
      std::string text;
      for (int i = 0; i < 60; ++i)
        text += alphabet[pick(random)];
      const Parsed parsed = parse(text);
      (void)parsed.errors();
    }
  }

  TEST_CASE("an empty file is a null node at line 1 without errors") {
    for (const char* text : {"", "# only a comment\n", "\n\n   \n", "# a\n# b"}) {
      INFO("text: " << text);
      const Parsed parsed = parse(text);
      CHECK(parsed.messages() == "");
      CHECK(parsed.node.type == NodeType::null);
      CHECK(parsed.node.mark == Mark{1, 1});
    }
  }

  TEST_CASE("an explicit empty document is a null node") {
    const Parsed parsed = parse("---\n");
    CHECK(parsed.messages() == "");
    CHECK(parsed.node.type == NodeType::null);
  }

  TEST_CASE("a second document is an error at its start") {
    const Parsed parsed = parse("a: 1\n---\nb: 2\n");
    CHECK(parsed.errors() == "t.yaml:2:1: error: only one YAML document is allowed per file\n"
                             "---\n"
                             "^\n");
    const Parsed explicit_first = parse("--- [1]\n--- [2]\n");
    CHECK(explicit_first.messages() == "2:1: only one YAML document is allowed per file\n");
  }

  TEST_CASE("a document end marker alone is fine") {
    const Parsed parsed = parse("---\na: 1\n...\n");
    CHECK(parsed.messages() == "");
    CHECK(parsed.node.find("a")->value.integer == 1);
  }

  TEST_CASE("a root scalar is a document") {
    const Parsed parsed = parse("hello\n");
    CHECK(parsed.messages() == "");
    CHECK(parsed.node.type == NodeType::string);
    CHECK(parsed.node.text == "hello");
    CHECK(parsed.node.mark == Mark{1, 1});
  }

  TEST_CASE("Windows line endings keep line numbers and columns") {
    const Parsed parsed = parse("a: 1\r\nb:\r\n  - x\r\nc: 1\r\nc: 2\r\n");
    CHECK(parsed.node.find("b")->children[0].mark == Mark{3, 5});
    CHECK(parsed.errors() == "t.yaml:5:1: error: duplicate key \"c\" (first defined at line 4)\n"
                             "c: 2\n"
                             "^\n");
  }

} // TEST_SUITE
