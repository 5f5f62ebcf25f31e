#include "parse/document_builder.hpp"

#include "parse/scalar.hpp"

#include <fmt/format.h>
#include <yaml.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace stove::detail {

namespace {

// Mappings with more keys than this check for duplicates with a hash set;
// smaller ones scan, which is faster for them.
constexpr size_t k_linear_key_limit = 16;

class YamlParser {
public:
  YamlParser() {
    if (yaml_parser_initialize(&m_parser) == 0)
      throw std::bad_alloc();
  }
  ~YamlParser() { yaml_parser_delete(&m_parser); }
  YamlParser(const YamlParser&) = delete;
  YamlParser& operator=(const YamlParser&) = delete;

  yaml_parser_t* get() { return &m_parser; }

private:
  yaml_parser_t m_parser;
};

class YamlEvent {
public:
  YamlEvent() = default;
  ~YamlEvent() { clear(); }
  YamlEvent(const YamlEvent&) = delete;
  YamlEvent& operator=(const YamlEvent&) = delete;

  // Parses the next event; false on a libyaml error.
  bool next(yaml_parser_t* parser) {
    clear();
    m_live = yaml_parser_parse(parser, &m_event) != 0;
    return m_live;
  }
  const yaml_event_t& get() const { return m_event; }

private:
  void clear() {
    if (m_live)
      yaml_event_delete(&m_event);
    m_live = false;
  }

  yaml_event_t m_event{};
  bool m_live = false;
};

Mark to_mark(const yaml_mark_t& mark) {
  constexpr size_t k_max = std::numeric_limits<uint32_t>::max() - 1;
  return Mark{static_cast<uint32_t>(std::min(mark.line, k_max) + 1),
              static_cast<uint32_t>(std::min(mark.column, k_max) + 1)};
}

std::string_view to_view(const yaml_char_t* text) {
  return text == nullptr ? std::string_view{}
                         : std::string_view(reinterpret_cast<const char*>(text));
}

struct KeyHash {
  const std::vector<Node>* nodes;
  size_t operator()(size_t index) const {
    return std::hash<std::string_view>{}((*nodes)[index].text);
  }
};

struct KeyEqual {
  const std::vector<Node>* nodes;
  bool operator()(size_t a, size_t b) const { return (*nodes)[a].text == (*nodes)[b].text; }
};

// Keys of a large mapping, by their index in the pending nodes.
using KeyIndex = std::unordered_set<size_t, KeyHash, KeyEqual>;

// Builds the node tree from libyaml events, with explicit stacks.
//
// Children of every open collection wait, in order, on one shared stack of
// pending nodes; when a collection ends they move into an exactly sized
// vector. Each anchored node is found again through its index on that stack
// and, once its parent has ended, through its address in the parent's final
// children (the children's buffer never moves again, even when the parent
// node itself is moved). So anchors cost nothing until an alias copies them.
class Builder {
public:
  Builder(const SourceFile& source, Diagnostics& diagnostics, const DocumentLimits& limits)
      : m_source(source), m_diagnostics(diagnostics), m_limits(limits) {}

  Node run(std::string_view text);

private:
  struct Frame {
    Node node;           // type and mark; children come at the end
    size_t start = 0;    // index of the first child in m_pending
    uint32_t height = 0; // tallest child
    uint64_t count = 1;  // nodes in the subtree so far
    std::string anchor;
    std::unique_ptr<KeyIndex> keys; // only for large mappings
  };

  struct Anchor {
    enum class State { building, pending, placed };
    State state = State::building;
    size_t index = 0;           // in m_pending, while pending
    const Node* node = nullptr; // once placed
    uint32_t height = 0;
    uint64_t count = 0;
  };

  // An anchored node waiting in m_pending at `index`.
  struct PendingAnchor {
    Anchor* anchor;
    size_t index;
  };

  void on_scalar(const yaml_event_t& event);
  void on_collection_start(const yaml_event_t& event, NodeType type);
  void on_collection_end();
  void on_alias(const yaml_event_t& event);
  Node& new_slot();
  void placed(bool key, uint32_t height, uint64_t count, std::string_view anchor);
  void check_duplicate_key(Frame& frame, size_t key);
  void report_libyaml_error(const yaml_parser_t& parser);
  bool expecting_key() const {
    return !m_frames.empty() && m_frames.back().node.type == NodeType::mapping &&
           (m_pending.size() - m_frames.back().start) % 2 == 0;
  }
  void error(Mark mark, std::string message) { m_diagnostics.error(mark, std::move(message)); }
  void fatal(Mark mark, std::string message) {
    error(mark, std::move(message));
    m_stop = true;
  }

  const SourceFile& m_source;
  Diagnostics& m_diagnostics;
  const DocumentLimits& m_limits;

  std::vector<Frame> m_frames;
  std::vector<Node> m_pending;
  std::unordered_map<std::string, Anchor> m_anchors;
  std::vector<PendingAnchor> m_pending_anchors; // by increasing index
  std::vector<Node> m_rejected;                 // collections used as keys
  uint64_t m_copied = 0;                        // nodes copied by aliases
  unsigned m_documents = 0;
  bool m_stop = false;
  bool m_have_root = false;
  Node m_root;
};

Node Builder::run(std::string_view text) {
  YamlParser parser;
  yaml_parser_set_input_string(parser.get(), reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());
  m_pending.reserve(256);
  m_frames.reserve(std::min<uint32_t>(m_limits.max_depth, 64) + 1);

  YamlEvent event;
  bool done = false;
  while (!done && !m_stop) {
    if (!event.next(parser.get())) {
      report_libyaml_error(*parser.get());
      break;
    }
    const yaml_event_t& e = event.get();
    switch (e.type) {
    case YAML_DOCUMENT_START_EVENT:
      if (m_documents++ > 0) {
        fatal(to_mark(e.start_mark), "only one YAML document is allowed per file");
      }
      break;
    case YAML_SCALAR_EVENT:
      on_scalar(e);
      break;
    case YAML_SEQUENCE_START_EVENT:
      on_collection_start(e, NodeType::sequence);
      break;
    case YAML_MAPPING_START_EVENT:
      on_collection_start(e, NodeType::mapping);
      break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
      on_collection_end();
      break;
    case YAML_ALIAS_EVENT:
      on_alias(e);
      break;
    case YAML_STREAM_END_EVENT:
    case YAML_NO_EVENT:
      done = true;
      break;
    case YAML_STREAM_START_EVENT:
    case YAML_DOCUMENT_END_EVENT:
      break;
    }
  }

  if (!m_have_root) {
    Node empty;
    empty.mark = Mark{1, 1};
    return empty;
  }
  return std::move(m_root);
}

void Builder::report_libyaml_error(const yaml_parser_t& parser) {
  const std::string_view problem = parser.problem != nullptr ? parser.problem : "unknown error";
  switch (parser.error) {
  case YAML_MEMORY_ERROR:
    error(Mark{}, "out of memory while parsing");
    return;
  case YAML_READER_ERROR: {
    // Reader errors carry a byte offset rather than a mark.
    const Mark mark = m_source.mark_at(parser.problem_offset);
    if (problem.find("UTF-8") != std::string_view::npos) {
      std::string message = fmt::format("the text is not valid UTF-8: {}", problem);
      if (parser.problem_value >= 0)
        message += fmt::format(" (byte 0x{:02X})", parser.problem_value);
      error(mark, std::move(message));
    } else if (parser.problem_value < 0) {
      error(mark, fmt::format("cannot read the text: {}", problem));
    } else {
      error(mark, fmt::format("invalid character U+{:04X}: {}", parser.problem_value, problem));
    }
    return;
  }
  case YAML_SCANNER_ERROR:
  case YAML_PARSER_ERROR: {
    const Mark mark = to_mark(parser.problem_mark);
    std::string message = fmt::format("YAML syntax error: {}", problem);
    if (parser.context != nullptr) {
      message += ' ';
      message += parser.context;
      const Mark context = to_mark(parser.context_mark);
      if (context.line != mark.line)
        message += fmt::format(" that started at line {}", context.line);
    }
    // The usual cause of this one deserves a plain word.
    const std::string_view line = m_source.line_text(mark.line);
    const size_t column = mark.column - 1; // a byte index too while the prefix is blank
    if (problem == "found character that cannot start any token" && column < line.size() &&
        line[column] == '\t' &&
        line.substr(0, column).find_first_not_of(" \t") == std::string_view::npos) {
      message += " (YAML does not allow tabs for indentation)";
    }
    error(mark, std::move(message));
    return;
  }
  default:
    error(to_mark(parser.problem_mark), fmt::format("YAML error: {}", problem));
    return;
  }
}

void Builder::on_scalar(const yaml_event_t& event) {
  const auto& scalar = event.data.scalar;
  const bool key = expecting_key();
  Node& node = new_slot();
  node.mark = to_mark(event.start_mark);
  node.text.assign(reinterpret_cast<const char*>(scalar.value), scalar.length);
  const std::string_view tag_text = to_view(scalar.tag);
  const Tag tag = classify_tag(tag_text);
  if (tag == Tag::none && (key || scalar.style != YAML_PLAIN_SCALAR_STYLE)) {
    // Quoted and block scalars are strings; so are untagged keys, which
    // need no resolution.
    node.type = NodeType::string;
  } else {
    resolve_scalar(node, tag, tag_text, m_diagnostics);
  }
  placed(key, 0, 1, to_view(scalar.anchor));
}


void Builder::on_collection_start(const yaml_event_t& event, NodeType type) {
  const Mark mark = to_mark(event.start_mark);
  if (m_frames.size() >= m_limits.max_depth) {
    fatal(mark, fmt::format("nesting is deeper than {} levels", m_limits.max_depth));
    return;
  }
  const bool sequence = type == NodeType::sequence;
  const std::string_view tag_text =
      to_view(sequence ? event.data.sequence_start.tag : event.data.mapping_start.tag);
  const Tag tag = classify_tag(tag_text);
  if (tag == Tag::unsupported) {
    error(mark, fmt::format("unsupported tag {}", in_quotes(display_tag(tag_text))));
  } else if (tag != Tag::none && tag != (sequence ? Tag::seq : Tag::map)) {
    error(mark, fmt::format("tag {} cannot be used on {}", display_tag(tag_text), describe(type)));
  }

  Frame& frame = m_frames.emplace_back();
  frame.node.type = type;
  frame.node.mark = mark;
  frame.start = m_pending.size();
  const std::string_view anchor =
      to_view(sequence ? event.data.sequence_start.anchor : event.data.mapping_start.anchor);
  if (!anchor.empty()) {
    frame.anchor = anchor;
    // Defined from its start, so an alias inside it is recursive.
    m_anchors[frame.anchor] = Anchor{};
  }
}

void Builder::on_collection_end() {
  if (m_frames.empty())
    return; // libyaml does not allow this
  Frame& frame = m_frames.back();
  const size_t start = frame.start;
  Node node = std::move(frame.node);
  const auto first = m_pending.begin() + static_cast<std::ptrdiff_t>(start);
  node.children.assign(std::make_move_iterator(first), std::make_move_iterator(m_pending.end()));
  m_pending.erase(first, m_pending.end());

  while (!m_pending_anchors.empty() && m_pending_anchors.back().index >= start) {
    const PendingAnchor moved = m_pending_anchors.back();
    m_pending_anchors.pop_back();
    Anchor& anchor = *moved.anchor;
    // Skip anchors that a later definition has taken over.
    if (anchor.state == Anchor::State::pending && anchor.index == moved.index) {
      anchor.state = Anchor::State::placed;
      anchor.node = &node.children[moved.index - start];
    }
  }
  const uint32_t height = frame.height + 1;
  const uint64_t count = frame.count;
  const std::string anchor = std::move(frame.anchor);
  m_frames.pop_back();

  const bool key = expecting_key();
  new_slot() = std::move(node);
  placed(key, height, count, anchor);
}

void Builder::on_alias(const yaml_event_t& event) {
  const Mark mark = to_mark(event.start_mark);
  const std::string_view name = to_view(event.data.alias.anchor);
  const auto found = m_anchors.find(std::string(name));
  const bool key = expecting_key();
  if (found == m_anchors.end() || found->second.state == Anchor::State::building) {
    error(mark, found == m_anchors.end()
                    ? fmt::format("alias \"*{}\" refers to an undefined anchor", name)
                    : fmt::format("alias \"*{}\" refers to a node that contains it (a recursive "
                                  "alias)",
                                  name));
    new_slot().mark = mark;
    placed(key, 0, 1, {});
    return;
  }
  const Anchor& anchor = found->second;
  if (m_frames.size() + anchor.height > m_limits.max_depth) {
    fatal(mark, fmt::format("nesting is deeper than {} levels", m_limits.max_depth));
    return;
  }
  if (anchor.count > m_limits.max_alias_nodes - std::min(m_copied, m_limits.max_alias_nodes)) {
    fatal(mark, fmt::format("alias expansion exceeds {} nodes (a \"billion laughs\" alias bomb?)",
                            m_limits.max_alias_nodes));
    return;
  }
  m_copied += anchor.count;
  // Copy before making the slot, which may move the pending nodes. The copy
  // recurses, but only as deep as the depth check above allows.
  Node copy = anchor.state == Anchor::State::pending ? m_pending[anchor.index] : *anchor.node;
  new_slot() = std::move(copy);
  placed(key, anchor.height, anchor.count, {});
}

// The place for the next node: the end of the pending nodes, or the root.
Node& Builder::new_slot() {
  if (m_frames.empty()) {
    m_have_root = true;
    return m_root;
  }
  return m_pending.emplace_back();
}

// Files the node just put in new_slot(): as a key if `key` (which the caller
// found before making the slot), in its parent's totals, under its anchor.
void Builder::placed(bool key, uint32_t height, uint64_t count, std::string_view anchor) {
  if (m_frames.empty())
    return;
  Frame& frame = m_frames.back();
  const size_t index = m_pending.size() - 1;
  Node& node = m_pending[index];
  if (key) {
    if (!node.is_scalar()) {
      error(node.mark,
            fmt::format("mapping keys must be plain strings, not {}", describe(node.type)));
      // Keep keys and values alternating; a null key is never a duplicate.
      // The rejected node stays alive: anchors may point into it.
      const Mark mark = node.mark;
      m_rejected.push_back(std::move(node));
      m_pending[index] = Node{};
      m_pending[index].mark = mark;
      height = 0;
      count = 1;
    } else {
      node.type = NodeType::string;
      node.value = {};
    }
    check_duplicate_key(frame, index);
  }
  frame.height = std::max(frame.height, height);
  frame.count += count;

  if (!anchor.empty()) {
    Anchor& entry = m_anchors[std::string(anchor)];
    entry = Anchor{Anchor::State::pending, index, nullptr, height, count};
    m_pending_anchors.push_back(PendingAnchor{&entry, index});
  }
}

void Builder::check_duplicate_key(Frame& frame, size_t key) {
  const Node& node = m_pending[key];
  if (node.type != NodeType::string)
    return;
  const auto report = [&](size_t first) {
    error(node.mark, fmt::format("duplicate key {} (first defined at line {})", in_quotes(node.text),
                                 m_pending[first].mark.line));
  };
  if (frame.keys) {
    const auto [it, inserted] = frame.keys->insert(key);
    if (!inserted)
      report(*it);
    return;
  }
  for (size_t i = frame.start; i < key; i += 2) {
    if (m_pending[i].type == NodeType::string && m_pending[i].text == node.text) {
      report(i);
      break;
    }
  }
  if ((key - frame.start) / 2 + 1 > k_linear_key_limit) {
    frame.keys = std::make_unique<KeyIndex>(64, KeyHash{&m_pending}, KeyEqual{&m_pending});
    for (size_t i = frame.start; i <= key; i += 2) {
      if (m_pending[i].type == NodeType::string)
        frame.keys->insert(i);
    }
  }
}
} // namespace

Node build_document(const SourceFile& source, std::string_view text, Diagnostics& diagnostics,
                    const DocumentLimits& limits) {
  Builder builder(source, diagnostics, limits);
  return builder.run(text);
}

} // namespace stove::detail
