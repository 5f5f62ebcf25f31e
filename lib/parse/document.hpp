#pragma once

#include "parse/source.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stove {

enum class NodeType : uint8_t { null, boolean, integer, real, string, sequence, mapping };

// The name of a node type as a user reads it: "a string", "a list", ...
std::string_view describe(NodeType type);

// One node of a parsed YAML or JSON document, with the position it came from.
// Scalars are resolved by the YAML 1.2 core schema: only plain (unquoted)
// scalars can be null, booleans (true/True/TRUE/false/False/FALSE) or
// numbers; quoted scalars are always strings, so `no` and "1" stay strings.
struct Node {
  NodeType type = NodeType::null;
  Mark mark;
  // For strings: the value. For other scalars: the text as written, for
  // error messages.
  std::string text;
  union {
    bool boolean;
    int64_t integer;
    double real;
  } value{};
  // A sequence's elements; a mapping's keys and values, alternating
  // (key, value, key, value...). Keys are always string nodes.
  std::vector<Node> children;

  bool is_scalar() const { return type != NodeType::sequence && type != NodeType::mapping; }
  size_t mapping_size() const { return children.size() / 2; }
  const Node& key_at(size_t i) const { return children[2 * i]; }
  const Node& value_at(size_t i) const { return children[2 * i + 1]; }
  // The value stored under `key` in a mapping, or nullptr.
  const Node* find(std::string_view key) const;
};

struct DocumentLimits {
  uint32_t max_depth = 64;              // nesting of sequences and mappings
  uint64_t max_alias_nodes = 1000000;   // nodes copied by alias expansion, in all
};

// Parses YAML 1.2 or JSON text (JSON is read as YAML flow syntax; raw tabs,
// which JSON allows between tokens, are accepted). Every problem is added to
// `diagnostics` with its position; the returned node is then unusable. Never
// throws on bad input and never recurses on the input's nesting. An empty
// document, or one holding only comments, yields a null node at line 1.
// Only the first document of a stream is read; a second is an error.
Node parse_document(const SourceFile& source, Diagnostics& diagnostics,
                    const DocumentLimits& limits = {});

} // namespace stove
