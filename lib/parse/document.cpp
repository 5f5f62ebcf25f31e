#include "parse/document.hpp"

#include "parse/document_builder.hpp"

#include <algorithm>
#include <string>

namespace stove {

namespace {

bool ends_with_json(std::string_view path) {
  constexpr std::string_view k_suffix = ".json";
  if (path.size() < k_suffix.size())
    return false;
  const std::string_view tail = path.substr(path.size() - k_suffix.size());
  return std::equal(tail.begin(), tail.end(), k_suffix.begin(), [](char a, char b) {
    return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
  });
}

} // namespace

std::string_view describe(NodeType type) {
  switch (type) {
  case NodeType::null:
    return "null";
  case NodeType::boolean:
    return "a boolean";
  case NodeType::integer:
    return "an integer";
  case NodeType::real:
    return "a number";
  case NodeType::string:
    return "a string";
  case NodeType::sequence:
    return "a list";
  case NodeType::mapping:
    return "a mapping";
  }
  return "unknown";
}

const Node* Node::find(std::string_view key) const {
  if (type != NodeType::mapping)
    return nullptr;
  for (size_t i = 0; i + 1 < children.size(); i += 2) {
    if (children[i].text == key)
      return &children[i + 1];
  }
  return nullptr;
}

Node parse_document(const SourceFile& source, Diagnostics& diagnostics,
                    const DocumentLimits& limits) {
  std::string_view text = source.text;
  if (text.starts_with("\xFF\xFE") || text.starts_with("\xFE\xFF")) {
    // libyaml would decode these; positions and echoed lines assume UTF-8.
    diagnostics.error(Mark{}, "the file is encoded as UTF-16; save it as UTF-8");
    return Node{};
  }
  // JSON allows raw tabs between tokens, YAML flow syntax does not always;
  // JSON strings cannot hold raw tabs, so this only touches whitespace.
  std::string detabbed;
  if (ends_with_json(source.path) && text.find('\t') != std::string_view::npos) {
    detabbed = source.text;
    std::replace(detabbed.begin(), detabbed.end(), '\t', ' ');
    text = detabbed;
  }
  return detail::build_document(source, text, diagnostics, limits);
}

} // namespace stove
