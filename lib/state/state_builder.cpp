#include "state/state_builder.hpp"

#include "stove/version.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace stove {

namespace {

using Json = nlohmann::json;

// The fields of one resource; the order is that of k_field_names.
enum class Field : uint8_t {
  address,
  kind,
  provider,
  remote_id,
  parent,
  spec,
  observed,
  status,
  dependencies,
  created_at,
  updated_at,
  unknown,  // not ours: ignored
  repeated, // already seen: an error, its value is skipped
};
constexpr std::array<std::string_view, 11> k_field_names = {
    "address",  "kind",   "provider",     "remote_id",  "parent",    "spec",
    "observed", "status", "dependencies", "created_at", "updated_at"};
constexpr std::array<Field, 4> k_required_fields = {Field::address, Field::kind, Field::spec,
                                                    Field::status};

// The top-level fields; the order is that of k_top_field_names.
enum class TopField : uint8_t {
  format_version,
  serial,
  lineage,
  stove_version,
  resources,
  outputs,
  unknown,
  repeated,
};
constexpr std::array<std::string_view, 6> k_top_field_names = {
    "format_version", "serial", "lineage", "stove_version", "resources", "outputs"};
constexpr std::array<TopField, 3> k_required_top_fields = {TopField::serial, TopField::lineage,
                                                           TopField::resources};

template <typename Enum, std::size_t N>
Enum classify(const std::array<std::string_view, N>& names, std::string_view name, Enum unknown) {
  for (std::size_t i = 0; i < N; ++i) {
    // The first byte settles most comparisons without a call to memcmp.
    if (names[i].size() == name.size() && names[i][0] == name[0] && names[i] == name) {
      return static_cast<Enum>(i);
    }
  }
  return unknown;
}

template <typename Enum>
unsigned bit(Enum e) {
  return 1u << static_cast<unsigned>(e);
}

std::string json_quoted(std::string_view text) {
  return Json(std::string(text)).dump();
}

// Receives the JSON events of a state file (from read_json or nlohmann's
// parser) and fills a State as they come, so that no document tree of the
// whole file is ever built: each resource becomes a
// ResourceState as soon as its fields arrive; only spec, observed and outputs
// are built as JSON. Problems are recorded, not thrown. The first one found
// in the document is kept, but format_version decides before anything else:
// reading goes on until it is known.
class StateBuilder final : public StateEvents {
public:
  explicit StateBuilder(State& state) : m_state(state) {}

  bool value(const JsonValue& v, uint64_t offset) override {
    step(offset);
    return on_value(v);
  }
  bool key(std::string_view name, uint64_t offset) override {
    step(offset);
    return on_key(name);
  }
  bool end(uint64_t offset) override {
    step(offset);
    return on_end();
  }
  // The text turned out not to be JSON: that comes before any other problem.
  void syntax_problem(StateProblem problem) override { m_syntax_problem = std::move(problem); }

  // The problem that makes the document unusable, in order of precedence.
  std::optional<StateProblem> conclude() override {
    if (m_syntax_problem) {
      return m_syntax_problem;
    }
    if (m_version_problem) {
      return m_version_problem;
    }
    if (!m_version_seen) {
      return StateProblem{{}, R"(missing required field "format_version")"};
    }
    if (m_problem) {
      return m_problem;
    }
    for (TopField field : k_required_top_fields) {
      if (!(m_top_seen & bit(field))) {
        return StateProblem{{},
                            fmt::format(R"(missing required field "{}")",
                                        k_top_field_names[static_cast<std::size_t>(field)])};
      }
    }
    if (auto duplicate = find_duplicate_address()) {
      return duplicate;
    }
    // Older formats would be upgraded here, one version at a time, up to
    // k_state_format_version. Version 1 is the first, so there are none yet.
    m_state.format_version = k_state_format_version;
    return std::nullopt;
  }

private:
  enum class Frame : uint8_t { top, resources, resource, dependencies };

  void step(uint64_t offset) {
    m_previous_offset = m_offset;
    m_offset = offset;
  }
  // Where the value of the current event starts.
  TextPosition value_position() const {
    return {TextPosition::Anchor::value_after, m_previous_offset};
  }
  // Where the key of the current event starts.
  TextPosition key_position() const { return {TextPosition::Anchor::key_ending, m_offset}; }

  // Keeps the first problem. Returns whether to read on: only while
  // format_version is still unknown, since it takes precedence.
  bool record(TextPosition where, std::string message) {
    if (!m_problem) {
      m_problem = StateProblem{where, std::move(message)};
    }
    return !m_version_seen;
  }
  // A problem in the current resource, reported when it ends and its address
  // is known.
  void resource_problem(TextPosition where, std::string message) {
    if (!m_resource_problem) {
      m_resource_problem = StateProblem{where, std::move(message)};
    }
  }
  void skip(const JsonValue& v) {
    if (v.is_container()) {
      m_skip_depth = 1;
    }
  }
  void build(Json& root, const JsonValue& v) {
    root = v.kind == JsonValue::Kind::object ? Json::object() : Json::array();
    m_build.push_back(&root);
  }

  bool on_value(const JsonValue& v) {
    if (m_skip_depth > 0) {
      if (v.is_container()) {
        ++m_skip_depth;
      }
      return true;
    }
    if (!m_build.empty()) {
      build_value(v);
      return true;
    }
    if (m_frames.empty()) {
      return document_value(v);
    }
    switch (m_frames.back()) {
    case Frame::top:
      return top_field_value(v);
    case Frame::resources:
      return resource_element(v);
    case Frame::resource:
      return resource_field_value(v);
    case Frame::dependencies:
      return dependency(v);
    }
    return true;
  }

  bool on_key(std::string_view name) {
    if (m_skip_depth > 0) {
      return true;
    }
    if (!m_build.empty()) {
      m_build_key = name;
      return true;
    }
    if (m_frames.back() == Frame::top) {
      return top_key(name);
    }
    resource_key(name);
    return true;
  }

  bool on_end() {
    if (m_skip_depth > 0) {
      --m_skip_depth;
      return true;
    }
    if (!m_build.empty()) {
      m_build.pop_back();
      return true;
    }
    Frame frame = m_frames.back();
    m_frames.pop_back();
    if (frame == Frame::resource) {
      return finish_resource();
    }
    return true;
  }

  void build_value(const JsonValue& v) {
    Json& parent = *m_build.back();
    Json* slot = nullptr;
    if (parent.is_array()) {
      auto& array = parent.get_ref<Json::array_t&>();
      array.emplace_back();
      slot = &array.back();
    } else {
      // Keys come sorted from stove's writer, so the end is the right hint.
      auto& object = parent.get_ref<Json::object_t&>();
      slot = &object.try_emplace(object.end(), m_build_key)->second;
    }
    switch (v.kind) {
    case JsonValue::Kind::null:
      *slot = nullptr;
      break;
    case JsonValue::Kind::boolean:
      *slot = v.boolean;
      break;
    case JsonValue::Kind::integer:
      *slot = v.integer;
      break;
    case JsonValue::Kind::unsigned_integer:
      *slot = v.unsigned_integer;
      break;
    case JsonValue::Kind::real:
      *slot = v.real;
      break;
    case JsonValue::Kind::string:
      *slot = std::string(v.string);
      break;
    case JsonValue::Kind::object:
    case JsonValue::Kind::array:
      build(*slot, v);
      break;
    }
  }

  bool document_value(const JsonValue& v) {
    if (v.kind != JsonValue::Kind::object) {
      m_version_problem = StateProblem{value_position(), "a state file must hold a JSON object"};
      return false;
    }
    m_frames.push_back(Frame::top);
    return true;
  }

  bool top_key(std::string_view name) {
    m_top_field = classify(k_top_field_names, name, TopField::unknown);
    if (m_top_field == TopField::unknown) {
      return true;
    }
    if (m_top_seen & bit(m_top_field)) {
      m_top_field = TopField::repeated;
      return record(key_position(), fmt::format(R"(field "{}" appears twice)", name));
    }
    m_top_seen |= bit(m_top_field);
    return true;
  }

  bool top_field_value(const JsonValue& v) {
    switch (m_top_field) {
    case TopField::format_version:
      return format_version(v);
    case TopField::serial:
      if (v.kind == JsonValue::Kind::unsigned_integer) {
        m_state.serial = v.unsigned_integer;
        return true;
      }
      skip(v);
      return record(value_position(), R"(field "serial" must be a non-negative integer)");
    case TopField::lineage:
      return top_string(v, m_state.lineage, "lineage");
    case TopField::stove_version:
      return top_string(v, m_state.stove_version, "stove_version");
    case TopField::resources:
      if (v.kind == JsonValue::Kind::array) {
        m_frames.push_back(Frame::resources);
        return true;
      }
      skip(v);
      return record(value_position(), R"(field "resources" must be an array)");
    case TopField::outputs:
      if (v.kind == JsonValue::Kind::object) {
        build(m_state.outputs, v);
        return true;
      }
      skip(v);
      return record(value_position(), R"(field "outputs" must be an object)");
    case TopField::unknown:
    case TopField::repeated:
      skip(v);
      return true;
    }
    return true;
  }

  bool top_string(const JsonValue& v, std::string& target, std::string_view name) {
    if (v.kind == JsonValue::Kind::string) {
      target = v.string;
      return true;
    }
    skip(v);
    return record(value_position(), fmt::format(R"(field "{}" must be a string)", name));
  }

  bool format_version(const JsonValue& v) {
    m_version_seen = true;
    if (v.kind != JsonValue::Kind::unsigned_integer || v.unsigned_integer < 1) {
      m_version_problem =
          StateProblem{value_position(), R"(field "format_version" must be a positive integer)"};
      return false;
    }
    if (v.unsigned_integer > static_cast<uint64_t>(k_state_format_version)) {
      m_version_problem = StateProblem{
          value_position(),
          fmt::format("state format_version {} is newer than this stove ({}) understands ({}); "
                      "upgrade stove",
                      v.unsigned_integer, k_version, k_state_format_version)};
      return false;
    }
    // A problem found before now was only waiting for the version.
    return !m_problem;
  }

  bool resource_element(const JsonValue& v) {
    std::size_t index = m_resource_count++;
    if (v.kind != JsonValue::Kind::object) {
      skip(v);
      return record(value_position(), fmt::format("resource {} must be an object", index));
    }
    m_state.resources.emplace_back();
    m_resource_index = index;
    m_resource_seen = 0;
    m_resource_problem.reset();
    m_resource_start = value_position();
    m_address_position = {};
    m_frames.push_back(Frame::resource);
    return true;
  }

  void resource_key(std::string_view name) {
    m_field = classify(k_field_names, name, Field::unknown);
    if (m_field == Field::unknown) {
      return;
    }
    if (m_resource_seen & bit(m_field)) {
      m_field = Field::repeated;
      resource_problem(key_position(), fmt::format(R"(field "{}" appears twice)", name));
      return;
    }
    m_resource_seen |= bit(m_field);
  }

  bool resource_field_value(const JsonValue& v) {
    ResourceState& resource = m_state.resources.back();
    switch (m_field) {
    case Field::address:
      if (resource_string(v, resource.address)) {
        m_address_position = value_position();
      }
      break;
    case Field::kind:
      resource_string(v, resource.kind);
      break;
    case Field::provider:
      resource_string(v, resource.provider);
      break;
    case Field::remote_id:
      resource_string(v, resource.remote_id);
      break;
    case Field::parent:
      resource_string(v, resource.parent);
      break;
    case Field::created_at:
      resource_string(v, resource.created_at);
      break;
    case Field::updated_at:
      resource_string(v, resource.updated_at);
      break;
    case Field::status:
      if (v.kind == JsonValue::Kind::string) {
        if (!parse_status(v.string, resource.status)) {
          resource_problem(value_position(),
                           fmt::format(R"(field "status" must be "processing", "completed" or )"
                                       R"("failed", not {})",
                                       json_quoted(v.string)));
        }
      } else {
        type_problem(v, "a string");
      }
      break;
    case Field::spec:
    case Field::observed:
      if (v.kind == JsonValue::Kind::object) {
        build(m_field == Field::spec ? resource.spec : resource.observed, v);
      } else {
        type_problem(v, "an object");
      }
      break;
    case Field::dependencies:
      if (v.kind == JsonValue::Kind::array) {
        m_frames.push_back(Frame::dependencies);
      } else {
        type_problem(v, "an array of strings");
      }
      break;
    case Field::unknown:
    case Field::repeated:
      skip(v);
      break;
    }
    return true;
  }

  bool resource_string(const JsonValue& v, std::string& target) {
    if (v.kind == JsonValue::Kind::string) {
      target = v.string;
      return true;
    }
    type_problem(v, "a string");
    return false;
  }

  void type_problem(const JsonValue& v, std::string_view expected) {
    skip(v);
    resource_problem(value_position(),
                     fmt::format(R"(field "{}" must be {})",
                                 k_field_names[static_cast<std::size_t>(m_field)], expected));
  }

  bool dependency(const JsonValue& v) {
    if (v.kind == JsonValue::Kind::string) {
      m_state.resources.back().dependencies.emplace_back(v.string);
    } else {
      skip(v);
      resource_problem(value_position(), R"(field "dependencies" must be an array of strings)");
    }
    return true;
  }

  bool finish_resource() {
    const ResourceState& resource = m_state.resources.back();
    if (!m_resource_problem) {
      for (Field field : k_required_fields) {
        if (!(m_resource_seen & bit(field))) {
          resource_problem(m_resource_start,
                           fmt::format(R"(missing required field "{}")",
                                       k_field_names[static_cast<std::size_t>(field)]));
          break;
        }
      }
    }
    if (!m_resource_problem && resource.address.empty()) {
      resource_problem(m_address_position, R"(field "address" must not be empty)");
    }
    if (m_resource_problem) {
      std::string which =
          resource.address.empty()
              ? fmt::format("resource {}", m_resource_index)
              : fmt::format("resource {} ({})", m_resource_index, json_quoted(resource.address));
      return record(m_resource_problem->position,
                    fmt::format("{}: {}", which, m_resource_problem->message));
    }
    m_address_offsets.push_back(m_address_position.offset);
    return true;
  }

  std::optional<StateProblem> find_duplicate_address() const {
    // An open-addressing table of resource indexes (plus one; 0 is empty):
    // one allocation, where a std::unordered_map makes one per resource.
    const auto& resources = m_state.resources;
    std::size_t capacity = 16;
    while (capacity < 2 * resources.size()) {
      capacity *= 2;
    }
    std::vector<std::size_t> table(capacity, 0);
    std::hash<std::string_view> hash;
    for (std::size_t i = 0; i < resources.size(); ++i) {
      std::string_view address = resources[i].address;
      std::size_t slot = hash(address) & (capacity - 1);
      for (; table[slot] != 0; slot = (slot + 1) & (capacity - 1)) {
        std::size_t other = table[slot] - 1;
        if (resources[other].address == address) {
          return StateProblem{
              {TextPosition::Anchor::value_after, m_address_offsets[i]},
              fmt::format("resource {} ({}): duplicate address, also used by resource {}", i,
                          json_quoted(address), other)};
        }
      }
      table[slot] = i + 1;
    }
    return std::nullopt;
  }

  State& m_state;

  uint64_t m_offset = 0;          // of the current event
  uint64_t m_previous_offset = 0; // of the event before it
  std::vector<Frame> m_frames;
  std::size_t m_skip_depth = 0; // inside a value being skipped
  std::vector<Json*> m_build;   // containers of a value being built
  std::string m_build_key;

  TopField m_top_field = TopField::unknown;
  unsigned m_top_seen = 0;
  bool m_version_seen = false;

  std::size_t m_resource_count = 0; // elements of "resources" so far
  std::size_t m_resource_index = 0;
  Field m_field = Field::unknown;
  unsigned m_resource_seen = 0;
  TextPosition m_resource_start;
  TextPosition m_address_position;
  std::optional<StateProblem> m_resource_problem;
  std::vector<uint64_t> m_address_offsets; // value_after offsets, by resource

  std::optional<StateProblem> m_syntax_problem;
  std::optional<StateProblem> m_version_problem;
  std::optional<StateProblem> m_problem;
};

} // namespace

std::unique_ptr<StateEvents> make_state_builder(State& state) {
  return std::make_unique<StateBuilder>(state);
}

} // namespace stove
