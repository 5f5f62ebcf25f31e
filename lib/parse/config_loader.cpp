#include "parse/config_loader.hpp"

#include "graph/dag.hpp"
#include "model/address.hpp"
#include "model/bacula_name.hpp"
#include "model/bucket_name.hpp"
#include "model/bucket_region.hpp"
#include "parse/bacula_schedule.hpp"
#include "util/suggest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_set>

namespace stove {

namespace {

// Names the entry a message is about ("machine \"drupal\""), formatted only
// when a message is actually produced.
struct Owner {
  Kind kind;
  const Node* name = nullptr;
};

} // namespace
} // namespace stove

template <>
struct fmt::formatter<stove::Owner> : fmt::formatter<std::string_view> {
  auto format(const stove::Owner& owner, fmt::format_context& ctx) const {
    std::string text(stove::to_string(owner.kind));
    if (owner.name != nullptr && owner.name->type == stove::NodeType::string) {
      text += " " + nlohmann::json(owner.name->text).dump(-1, ' ', false,
                                                         nlohmann::json::error_handler_t::replace);
    }
    return fmt::formatter<std::string_view>::format(text, ctx);
  }
};

namespace stove {

namespace {

using nlohmann::json;

std::string in_quotes(std::string_view s) { return json(std::string(s)).dump(); }

std::string kind_names() {
  std::string out;
  for (const auto& k : all_kinds()) {
    out += out.empty() ? "" : ", ";
    out += k.name;
  }
  out += " (or the aliases";
  bool first = true;
  for (const auto& k : all_kinds()) {
    for (auto alias : k.aliases) {
      out += first ? " " : ", ";
      out += alias;
      first = false;
    }
  }
  return out + ")";
}

std::vector<std::string_view> all_kind_words() {
  std::vector<std::string_view> words;
  for (const auto& k : all_kinds()) {
    words.push_back(k.name);
    for (auto alias : k.aliases) {
      words.push_back(alias);
    }
  }
  return words;
}

// A name or key must be printable on one line.
std::string check_label(std::string_view text) {
  if (text.empty()) {
    return "cannot be empty";
  }
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      return "cannot contain control characters";
    }
  }
  return {};
}

std::string got(const Node& node) {
  std::string out(describe(node.type));
  if (node.is_scalar() && node.type != NodeType::null) {
    std::string text = node.text.size() > 40 ? node.text.substr(0, 40) + "..." : node.text;
    out += " (" + in_quotes(text) + ")";
  }
  return out;
}

class Loader {
public:
  Loader(const SourceFile& source, Diagnostics& diagnostics)
    : m_source(source), m_diag(diagnostics) {
    m_config.path = source.path;
  }

  Config run(Node& root) {
    switch (root.type) {
    case NodeType::sequence:
      load_top_level(root);
      break;
    case NodeType::mapping:
      load_root_mapping(root);
      break;
    case NodeType::null:
      m_diag.error(root.mark, "the file is empty: expected a list of resources, or a mapping "
                              "with providers: and resources:");
      return std::move(m_config);
    default:
      m_diag.error(root.mark, "expected a list of resources, or a mapping with providers: and "
                              "resources:, got " + got(root));
      return std::move(m_config);
    }
    if (m_config.providers.empty()) {
      m_config.implicit_sandbox = true;
      m_config.providers.push_back(implicit_sandbox_provider());
    }
    resolve();
    return std::move(m_config);
  }

private:
  // What resolution needs to remember about an entry, beside the model.
  // It holds copies, not pointers into the document: each top-level entry's
  // nodes are freed as soon as the entry is loaded.
  struct Pending {
    bool has_parent = false;     // placed with a top-level `parent:`
    Mark parent_mark;
    bool has_provider = false;   // `provider:` given
    Mark provider_mark;
    std::string provider;
    bool valid = true;           // false: address unknown, skip resolution
  };

  // A bucket name's problems under both rule sets: which apply depends on
  // the provider, known only once providers are resolved.
  struct BucketNameFindings {
    uint32_t resource = 0;
    std::optional<Diagnostic> current;
    std::optional<Diagnostic> legacy;
  };

  // Where byte `offset` of string scalar `v` is in the file: exact when the
  // scalar sits on one line as written (plain, or quoted without escapes
  // before the offset), else the scalar's start.
  Mark value_mark(const Node& v, size_t offset) const {
    if (offset == 0 || !v.mark.known()) {
      return v.mark;
    }
    std::string_view line = m_source.line_text(v.mark.line);
    // The scalar's first byte: skip column - 1 code points.
    size_t at = 0;
    for (uint32_t col = 1; col < v.mark.column && at < line.size(); ++col) {
      ++at;
      while (at < line.size() && (static_cast<unsigned char>(line[at]) & 0xC0) == 0x80) {
        ++at;
      }
    }
    uint32_t shift = 0;
    if (at < line.size() && (line[at] == '"' || line[at] == '\'')) {
      ++at;
      shift = 1;
    }
    std::string_view prefix = std::string_view(v.text).substr(0, offset);
    if (line.substr(at, prefix.size()) != prefix) {
      return v.mark;
    }
    uint32_t points = 0;
    for (unsigned char c : prefix) {
      points += (c & 0xC0) != 0x80 ? 1 : 0;
    }
    return Mark{v.mark.line, v.mark.column + shift + points};
  }

  void load_root_mapping(Node& root) {
    static constexpr std::string_view k_keys[] = {"providers", "resources"};
    Node* resources = nullptr;
    for (size_t i = 0; i < root.mapping_size(); ++i) {
      const Node& key = root.key_at(i);
      Node& value = root.children[2 * i + 1];
      if (key.text == "providers") {
        load_providers(value);
      } else if (key.text == "resources") {
        resources = &value;
      } else {
        m_diag.error(key.mark, fmt::format("unknown top-level key {}{}; expected providers: "
                                           "and resources:",
                                           in_quotes(key.text), did_you_mean(key.text, k_keys)));
      }
    }
    if (resources == nullptr) {
      m_diag.error(root.mark, "missing \"resources\": the list of resources to manage");
      return;
    }
    if (resources->type == NodeType::null) {
      return;
    }
    if (resources->type != NodeType::sequence) {
      m_diag.error(resources->mark, "\"resources\" must be a list, got " + got(*resources));
      return;
    }
    load_top_level(*resources);
  }

  // Loads the top-level entries, freeing each one's nodes once it is loaded:
  // at 100k resources the document tree is the largest thing in memory.
  void load_top_level(Node& list) {
    for (Node& entry : list.children) {
      load_entry(entry, std::nullopt, -1, "");
      entry = Node();
    }
  }

  void load_providers(const Node& node) {
    if (node.type == NodeType::null) {
      return;
    }
    if (node.type != NodeType::mapping) {
      m_diag.error(node.mark, "\"providers\" must be a mapping of provider names to their "
                              "settings, got " + got(node));
      return;
    }
    for (size_t i = 0; i < node.mapping_size(); ++i) {
      load_provider(node.key_at(i), node.value_at(i));
    }
  }

  void load_provider(const Node& key, const Node& value) {
    const std::string& name = key.text;
    bool name_ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '-';
    });
    if (!name_ok) {
      m_diag.error(key.mark, fmt::format("provider name {} may only use letters, digits, '_' "
                                         "and '-'", in_quotes(name)));
    }
    if (value.type != NodeType::mapping) {
      m_diag.error(value.mark, fmt::format("provider {} must be a mapping with type: and "
                                           "endpoint:, got {}", in_quotes(name), got(value)));
      return;
    }
    ProviderConfig provider;
    provider.name = name;
    provider.mark = key.mark;
    const Node* type_node = value.find("type");
    if (type_node == nullptr) {
      m_diag.error(key.mark, fmt::format("provider {} is missing \"type\"", in_quotes(name)));
      return;
    }
    std::vector<std::string_view> type_names;
    for (const auto& t : all_provider_types()) {
      type_names.push_back(t.type);
    }
    const ProviderTypeSchema* schema =
        type_node->type == NodeType::string ? find_provider_type(type_node->text) : nullptr;
    if (schema == nullptr) {
      m_diag.error(type_node->mark,
                   fmt::format("unknown provider type {}{} (types: {})", in_quotes(type_node->text),
                               did_you_mean(type_node->text, type_names),
                               fmt::join(type_names, ", ")));
      return;
    }
    provider.type = std::string(schema->type);

    std::vector<std::string_view> known{"type", "endpoint"};
    for (const auto& s : schema->settings) {
      known.push_back(s.name);
    }
    for (size_t i = 0; i < value.mapping_size(); ++i) {
      const Node& k = value.key_at(i);
      const Node& v = value.value_at(i);
      if (k.text == "type") {
        continue;
      }
      if (k.text == "endpoint") {
        if (v.type != NodeType::string) {
          m_diag.error(v.mark, "\"endpoint\" must be a string (a URL, or \"sandbox\"), got " +
                                   got(v));
        } else if (v.text == "sandbox" || v.text.starts_with("sandbox:") ||
                   v.text.starts_with("http://") || v.text.starts_with("https://")) {
          provider.endpoint = v.text;
        } else {
          m_diag.error(v.mark, fmt::format("endpoint {} must be an http:// or https:// URL, "
                                           "\"sandbox\" or \"sandbox:DIR\"",
                                           in_quotes(v.text)));
        }
        continue;
      }
      const ProviderSetting* setting = schema->setting(k.text);
      if (setting == nullptr) {
        if (looks_like_secret(k.text)) {
          m_diag.error(k.mark,
                       fmt::format("{} would put a credential in the file in clear; set "
                                   "{}_env: VARIABLE and export VARIABLE instead",
                                   in_quotes(k.text), k.text));
        } else {
          m_diag.error(k.mark, fmt::format("unknown setting {} for a {} provider{}",
                                           in_quotes(k.text), schema->type,
                                           did_you_mean(k.text, known)));
        }
        continue;
      }
      if (setting->type == FieldType::integer) {
        if (v.type != NodeType::integer) {
          m_diag.error(v.mark, fmt::format("{} must be an integer, got {}", in_quotes(k.text),
                                           got(v)));
          continue;
        }
        provider.settings[std::string(k.text)] = v.value.integer;
      } else {
        if (v.type != NodeType::string) {
          m_diag.error(v.mark, fmt::format("{} must be a string, got {}", in_quotes(k.text),
                                           got(v)));
          continue;
        }
        if (k.text.ends_with("_env") && !is_env_name(v.text)) {
          m_diag.error(v.mark, fmt::format("{} must name an environment variable (letters, "
                                           "digits and '_'), got {}",
                                           in_quotes(k.text), in_quotes(v.text)));
          continue;
        }
        if (setting->check != nullptr) {
          if (std::string problem = setting->check(v.text); !problem.empty()) {
            m_diag.error(v.mark, fmt::format("{} {}, got {}", in_quotes(k.text), problem,
                                             in_quotes(v.text)));
            continue;
          }
        }
        provider.settings[std::string(k.text)] = v.text;
      }
    }
    if (schema->endpoint_required && provider.endpoint.empty() && value.find("endpoint") == nullptr) {
      m_diag.error(key.mark, fmt::format("provider {} is missing \"endpoint\"", in_quotes(name)));
    }
    if (provider.endpoint.empty() && !schema->endpoint_required) {
      provider.endpoint = "sandbox";
    }
    for (const auto& s : schema->settings) {
      if (provider.settings.contains(std::string(s.name))) {
        continue;
      }
      if (s.required) {
        m_diag.error(key.mark, fmt::format("provider {} is missing {}", in_quotes(name),
                                           in_quotes(s.name)));
      } else if (!s.default_value.is_null()) {
        provider.settings[std::string(s.name)] = s.default_value;
      }
    }
    if (auto problem = check_provider_region(provider)) {
      const Node* at =
          value.find("region") != nullptr ? value.find("region") : value.find("endpoint");
      m_diag.error(at != nullptr ? at->mark : key.mark, *problem);
    }
    for (const auto& existing : m_config.providers) {
      if (existing.name == provider.name) {
        // The parser already reports duplicate keys; nothing more to say.
        return;
      }
    }
    m_config.providers.push_back(std::move(provider));
  }

  static bool is_env_name(std::string_view s) {
    if (s.empty() || (s[0] >= '0' && s[0] <= '9')) {
      return false;
    }
    return std::all_of(s.begin(), s.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_';
    });
  }

  void load_list(const Node& list, std::optional<Kind> implied, int32_t parent,
                 std::string_view list_key) {
    if (list.type == NodeType::null) {
      return;
    }
    if (list.type != NodeType::sequence) {
      m_diag.error(list.mark, fmt::format("{} must be a list, got {}",
                                          list_key.empty() ? "the file" : in_quotes(list_key),
                                          got(list)));
      return;
    }
    for (const Node& entry : list.children) {
      load_entry(entry, implied, parent, list_key);
    }
  }

  static std::string owner(const Resource& r) {
    auto name = r.attrs.find("name");
    if (name != r.attrs.end() && name->is_string()) {
      return fmt::format("{} {}", to_string(r.kind), in_quotes(name->get_ref<const std::string&>()));
    }
    return std::string(to_string(r.kind));
  }

  void load_entry(const Node& entry, std::optional<Kind> implied, int32_t parent,
                  std::string_view list_key) {
    if (entry.type != NodeType::mapping) {
      m_diag.error(entry.mark, "expected a resource (a mapping with type: and name:), got " +
                                   got(entry));
      return;
    }
    // The kind first: it decides which fields are valid.
    std::optional<Kind> kind = implied;
    if (const Node* type_node = entry.find("type")) {
      std::optional<Kind> declared =
          type_node->type == NodeType::string ? find_kind(type_node->text) : std::nullopt;
      if (!declared) {
        auto words = all_kind_words();
        m_diag.error(type_node->mark,
                     fmt::format("unknown resource type {}{} (types: {})",
                                 in_quotes(type_node->text), did_you_mean(type_node->text, words),
                                 kind_names()));
        return;
      }
      if (implied && *declared != *implied) {
        m_diag.error(type_node->mark,
                     fmt::format("{} holds {} entries, not {}", in_quotes(list_key),
                                 to_string(*implied), to_string(*declared)));
        return;
      }
      kind = declared;
    } else if (!kind) {
      m_diag.error(entry.mark, "missing \"type\": one of " + kind_names());
      return;
    }
    const KindSchema& schema = schema_of(*kind);

    Resource resource;
    resource.kind = *kind;
    resource.mark = entry.mark;
    resource.parent = parent;
    resource.attrs = json::object();
    Pending pending;
    const Node* name_node = entry.find("name");
    const Node* parent_node = nullptr;
    const Owner who{*kind, name_node};
    std::vector<const Node*> children;
    const Node* key_node = nullptr;

    for (size_t i = 0; i < entry.mapping_size(); ++i) {
      const Node& k = entry.key_at(i);
      const Node& v = entry.value_at(i);
      const std::string& field_name = k.text;
      if (field_name == "type") {
        continue;
      }
      if (const FieldSchema* field = schema.field(field_name)) {
        if (!read_field(*field, v, who, resource.attrs)) {
          pending.valid = false;
          resource.attrs[field_name] = nullptr;  // present, but wrong: no "missing" error
        }
      } else if (field_name == "key") {
        if (v.type != NodeType::string) {
          m_diag.error(v.mark, fmt::format("{}: \"key\" must be a string, got {}", who, got(v)));
        } else if (auto problem = check_label(v.text); !problem.empty()) {
          m_diag.error(v.mark, fmt::format("{}: \"key\" {}", who, problem));
        } else {
          key_node = &v;
        }
      } else if (field_name == "provider") {
        if (v.type != NodeType::string) {
          m_diag.error(v.mark, fmt::format("{}: \"provider\" must be a provider name, got {}",
                                           who, got(v)));
        } else {
          pending.has_provider = true;
          pending.provider_mark = v.mark;
          pending.provider = v.text;
        }
      } else if (field_name == "parent") {
        parent_node = &v;
      } else if (field_name == "depends_on") {
        read_depends_on(v, who, resource);
      } else if (field_name == "lifecycle") {
        read_lifecycle(v, schema, who, resource.lifecycle);
      } else if (std::find(schema.child_keys.begin(), schema.child_keys.end(), field_name) !=
                 schema.child_keys.end()) {
        children.push_back(&v);
      } else {
        std::vector<std::string_view> candidates;
        for (const auto& f : schema.fields) {
          candidates.push_back(f.name);
        }
        for (auto m : meta_keys()) {
          candidates.push_back(m);
        }
        for (auto c : schema.child_keys) {
          candidates.push_back(c);
        }
        m_diag.error(k.mark, fmt::format("unknown field {} in {}{}", in_quotes(field_name), who,
                                         did_you_mean(field_name, candidates)));
      }
    }

    for (const auto& field : schema.fields) {
      std::string name(field.name);
      if (resource.attrs.contains(name)) {
        continue;
      }
      if (field.required) {
        m_diag.error(entry.mark, fmt::format("{} is missing required field {}", who,
                                             in_quotes(field.name)));
        pending.valid = false;
      } else {
        resource.attrs[name] = field.default_value;
      }
    }

    // Where it sits: nested under its parent, or placed with `parent:`.
    std::string parent_address;
    if (parent_node != nullptr) {
      if (parent >= 0 || implied) {
        m_diag.error(parent_node->mark,
                     fmt::format("{} is nested under its parent already; \"parent\" is only "
                                 "for top-level entries", who));
      } else if (!schema.parent) {
        m_diag.error(parent_node->mark,
                     fmt::format("a {} has no parent; remove \"parent\"", schema.name));
      } else {
        parent_address = read_parent(*parent_node, schema, who);
        pending.has_parent = true;
        pending.parent_mark = parent_node->mark;
        if (parent_address.empty()) {
          pending.valid = false;
        }
      }
    } else if (parent >= 0) {
      parent_address = m_config.resources[static_cast<size_t>(parent)].address;
      if (!m_pending[static_cast<size_t>(parent)].valid) {
        pending.valid = false;
      }
    } else if (schema.parent) {
      m_diag.error(entry.mark,
                   fmt::format("{} must sit inside a {}: nest it under the {}'s {}: list, or "
                               "set parent: {}[\"...\"]",
                               who, to_string(*schema.parent), to_string(*schema.parent),
                               schema_of(*schema.parent).child_keys.front(),
                               to_string(*schema.parent)));
      pending.valid = false;
    }

    if (key_node != nullptr) {
      resource.key = key_node->text;
    } else if (auto name = resource.attrs.find("name");
               name != resource.attrs.end() && name->is_string()) {
      resource.key = name->get<std::string>();
    } else {
      pending.valid = false;
    }
    resource.parent_address = parent_address;

    auto index = static_cast<int32_t>(m_config.resources.size());
    if (pending.valid) {
      resource.address = parent_address;
      if (!resource.address.empty()) {
        resource.address += '.';
      }
      append_segment(resource.address, resource.kind, resource.key);
      auto [it, inserted] = m_config.index.emplace(resource.address, static_cast<uint32_t>(index));
      if (!inserted) {
        const Resource& first = m_config.resources[it->second];
        const Node* at = key_node != nullptr ? key_node : name_node;
        m_diag.error(at != nullptr ? at->mark : entry.mark,
                     fmt::format("duplicate resource {} (first defined at line {}); names must "
                                 "be unique within their parent, or set key: to tell them apart",
                                 resource.address, first.mark.line));
        pending.valid = false;
      }
    }
    check_names(schema, entry, resource.attrs, who, static_cast<uint32_t>(index));
    m_config.resources.push_back(std::move(resource));
    m_pending.push_back(pending);

    for (const Node* list : children) {
      load_list(*list, schema.child, index, find_child_key(entry, list));
    }
  }

  // Records the problems of the entry's bucket-name fields under both S3
  // rule sets; check_bucket_names() reports the ones its provider applies.
  // A bucket's region is recorded for check_bucket_regions().
  void check_names(const KindSchema& schema, const Node& entry, const json& attrs,
                   const Owner& who, uint32_t index) {
    for (const auto& field : schema.fields) {
      if (field.syntax != Syntax::bucket_name) {
        continue;
      }
      const Node* v = entry.find(field.name);
      auto read = attrs.find(std::string(field.name));
      if (v == nullptr || read == attrs.end() || !read->is_string()) {  // reported already
        continue;
      }
      BucketNameFindings findings;
      findings.resource = index;
      auto diagnostic = [&](const std::optional<BucketNameProblem>& problem) {
        std::optional<Diagnostic> d;
        if (problem) {
          d = Diagnostic{Severity::error, value_mark(*v, problem->offset),
                         fmt::format("{}: bucket name {} {}", who, in_quotes(v->text),
                                     problem->message)};
        }
        return d;
      };
      findings.current = diagnostic(check_bucket_name(v->text, BucketNameRules::current));
      findings.legacy = diagnostic(check_bucket_name(v->text, BucketNameRules::legacy));
      if (findings.current || findings.legacy) {
        m_bucket_names.push_back(std::move(findings));
      }
    }
    if (schema.kind == Kind::bucket) {
      const Node* region = entry.find("region");
      if (region != nullptr && region->type == NodeType::string && !region->text.empty()) {
        m_bucket_regions.push_back({index, region->mark, fmt::format("{}", who)});
      }
    }
  }

  // Bucket regions that cannot work with their provider
  // (model/bucket_region.hpp).
  void check_bucket_regions() {
    for (const auto& found : m_bucket_regions) {
      const Resource& r = m_config.resources[found.resource];
      const ProviderConfig* provider = m_config.provider(r.provider);
      auto region = r.attrs.find("region");
      if (provider == nullptr || region == r.attrs.end() || !region->is_string()) {
        continue; // already reported
      }
      if (auto problem = check_bucket_region(*provider, r.name(), region->get<std::string>())) {
        m_diag.error(found.mark, fmt::format("{}: {}", found.who, *problem));
      }
    }
  }

  // The sandbox takes legacy us-east-1 names (the design's `my_bucket`);
  // every other provider type gets S3's current rules.
  void check_bucket_names() {
    for (auto& findings : m_bucket_names) {
      const Resource& r = m_config.resources[findings.resource];
      const ProviderConfig* provider = m_config.provider(r.provider);
      if (provider == nullptr) {
        continue;  // already reported
      }
      const bool legacy = provider->type == "sandbox";
      auto& found = legacy ? findings.legacy : findings.current;
      if (!found) {
        continue;
      }
      m_diag.error(found->mark, std::move(found->message));
    }
  }

  static std::string_view find_child_key(const Node& entry, const Node* value) {
    for (size_t i = 0; i < entry.mapping_size(); ++i) {
      if (&entry.value_at(i) == value) {
        return entry.key_at(i).text;
      }
    }
    return {};
  }

  std::string read_parent(const Node& v, const KindSchema& schema, const Owner& who) {
    if (v.type != NodeType::string) {
      m_diag.error(v.mark, fmt::format("{}: \"parent\" must be an address such as {}[\"NAME\"], "
                                       "got {}", who, to_string(*schema.parent), got(v)));
      return {};
    }
    AddressError problem;
    auto address = parse_address(v.text, &problem);
    if (!address) {
      m_diag.error(v.mark, fmt::format("{}: bad parent address {}: {}", who, in_quotes(v.text),
                                       problem.message));
      return {};
    }
    if (address->segments.back().kind != *schema.parent) {
      m_diag.error(v.mark, fmt::format("{}: parent must be a {}, not a {}", who,
                                       to_string(*schema.parent),
                                       to_string(address->segments.back().kind)));
      return {};
    }
    return address->str();
  }

  void read_depends_on(const Node& v, const Owner& who, Resource& resource) {
    if (v.type == NodeType::null) {
      return;
    }
    if (v.type != NodeType::sequence) {
      m_diag.error(v.mark, fmt::format("{}: \"depends_on\" must be a list of addresses, got {}",
                                       who, got(v)));
      return;
    }
    for (const Node& item : v.children) {
      if (item.type != NodeType::string) {
        m_diag.error(item.mark, fmt::format("{}: each depends_on entry must be an address "
                                            "string, got {}", who, got(item)));
        continue;
      }
      AddressError problem;
      auto address = parse_address(item.text, &problem);
      if (!address) {
        m_diag.error(item.mark, fmt::format("{}: bad address {} in depends_on: {}", who,
                                            in_quotes(item.text), problem.message));
        continue;
      }
      resource.depends_on.push_back(address->str());
      resource.depends_on_marks.push_back(item.mark);
    }
  }

  void read_lifecycle(const Node& v, const KindSchema& schema, const Owner& who,
                      Lifecycle& lifecycle) {
    if (v.type == NodeType::null) {
      return;
    }
    if (v.type != NodeType::mapping) {
      m_diag.error(v.mark, fmt::format("{}: \"lifecycle\" must be a mapping with "
                                       "prevent_destroy: and ignore_changes:, got {}",
                                       who, got(v)));
      return;
    }
    static constexpr std::string_view k_keys[] = {"prevent_destroy", "ignore_changes"};
    for (size_t i = 0; i < v.mapping_size(); ++i) {
      const Node& k = v.key_at(i);
      const Node& value = v.value_at(i);
      if (k.text == "prevent_destroy") {
        if (value.type != NodeType::boolean) {
          m_diag.error(value.mark, fmt::format("{}: \"prevent_destroy\" must be true or false, "
                                               "got {}", who, got(value)));
        } else {
          lifecycle.prevent_destroy = value.value.boolean;
        }
      } else if (k.text == "ignore_changes") {
        if (value.type != NodeType::sequence) {
          m_diag.error(value.mark, fmt::format("{}: \"ignore_changes\" must be a list of field "
                                               "names, got {}", who, got(value)));
          continue;
        }
        std::vector<std::string_view> names;
        for (const auto& f : schema.fields) {
          names.push_back(f.name);
        }
        for (const Node& item : value.children) {
          if (item.type != NodeType::string || schema.field(item.text) == nullptr) {
            m_diag.error(item.mark,
                         fmt::format("{}: ignore_changes names unknown field {}{} (fields: {})",
                                     who, item.type == NodeType::string ? in_quotes(item.text)
                                                                        : got(item),
                                     item.type == NodeType::string
                                         ? did_you_mean(item.text, names) : std::string(),
                                     fmt::join(names, ", ")));
            continue;
          }
          lifecycle.ignore_changes.push_back(item.text);
        }
      } else {
        m_diag.error(k.mark, fmt::format("unknown lifecycle setting {}{}", in_quotes(k.text),
                                         did_you_mean(k.text, k_keys)));
      }
    }
  }

  bool read_field(const FieldSchema& field, const Node& v, const Owner& who, json& attrs) {
    std::string name(field.name);
    auto mismatch = [&](std::string_view expected) {
      std::string hint;
      if (field.type == FieldType::string && v.is_scalar() && v.type != NodeType::null) {
        hint = fmt::format(" (quote it to make it a string: {})", in_quotes(v.text));
      }
      m_diag.error(v.mark, fmt::format("{}: field {} must be {}, got {}{}", who, in_quotes(name),
                                       expected, got(v), hint));
    };
    switch (field.type) {
    case FieldType::string: {
      if (v.type != NodeType::string) {
        mismatch("a string");
        return false;
      }
      if (field.name == "name") {
        if (auto problem = check_label(v.text); !problem.empty()) {
          m_diag.error(v.mark, fmt::format("{}: field \"name\" {}", who, problem));
          return false;
        }
      }
      if (field.max_length != 0 && v.text.size() > field.max_length) {
        m_diag.error(v.mark, fmt::format("{}: field {} is {} characters long; the most is {}",
                                         who, in_quotes(name), v.text.size(), field.max_length));
        return false;
      }
      if (field.syntax == Syntax::bacula_name) {
        // The length was checked above against the field's own limit.
        if (auto problem = check_bacula_name(v.text, v.text.size())) {
          m_diag.error(value_mark(v, problem->offset),
                       fmt::format("{}: field {} {}", who, in_quotes(name), problem->message));
          return false;
        }
      }
      if (field.syntax == Syntax::bacula_schedule) {
        if (auto problem = check_bacula_schedule(v.text)) {
          m_diag.error(value_mark(v, problem->offset),
                       fmt::format("{}: field {} {}", who, in_quotes(name), problem->message));
          return false;
        }
      }
      attrs[name] = v.text;
      return true;
    }
    case FieldType::integer: {
      if (v.type != NodeType::integer) {
        mismatch(field.unit.empty() ? "an integer" : fmt::format("an integer ({})", field.unit));
        return false;
      }
      int64_t n = v.value.integer;
      std::string unit = field.unit.empty() ? "" : " " + std::string(field.unit);
      if (n < field.min || n > field.max) {
        m_diag.error(v.mark, fmt::format("{}: field {} must be between {} and {}{}, got {}",
                                         who, in_quotes(name), field.min, field.max, unit, n));
        return false;
      }
      if (field.even && n % 2 != 0) {
        m_diag.error(v.mark, fmt::format("{}: field {} must be an even number{}, got {}", who,
                                         in_quotes(name), unit.empty() ? "" : " of" + unit, n));
        return false;
      }
      attrs[name] = n;
      return true;
    }
    case FieldType::boolean:
      if (v.type != NodeType::boolean) {
        mismatch("true or false");
        return false;
      }
      attrs[name] = v.value.boolean;
      return true;
    case FieldType::enumeration: {
      if (v.type != NodeType::string ||
          std::find(field.allowed.begin(), field.allowed.end(), v.text) == field.allowed.end()) {
        std::string suggestion =
            v.type == NodeType::string ? did_you_mean(v.text, field.allowed) : std::string();
        m_diag.error(v.mark, fmt::format("{}: field {} must be one of {}, got {}{}", who,
                                         in_quotes(name), fmt::join(field.allowed, ", "), got(v),
                                         suggestion));
        return false;
      }
      attrs[name] = v.text;
      return true;
    }
    case FieldType::string_list: {
      if (v.type != NodeType::sequence) {
        mismatch("a list of strings");
        return false;
      }
      json list = json::array();
      for (const Node& item : v.children) {
        if (item.type != NodeType::string) {
          m_diag.error(item.mark, fmt::format("{}: each entry of {} must be a string, got {}",
                                              who, in_quotes(name), got(item)));
          return false;
        }
        list.push_back(item.text);
      }
      attrs[name] = std::move(list);
      return true;
    }
    case FieldType::string_map: {
      if (v.type != NodeType::mapping) {
        mismatch("a mapping of strings");
        return false;
      }
      json map = json::object();
      for (size_t i = 0; i < v.mapping_size(); ++i) {
        const Node& item = v.value_at(i);
        if (v.key_at(i).text.empty()) {
          m_diag.error(v.key_at(i).mark, fmt::format("{}: {} keys cannot be empty", who,
                                                     in_quotes(name)));
          return false;
        }
        if (item.type != NodeType::string) {
          m_diag.error(item.mark, fmt::format("{}: {} values must be strings, got {}{}", who,
                                              in_quotes(name), got(item),
                                              item.is_scalar() && item.type != NodeType::null
                                                  ? " (quote it)" : ""));
          return false;
        }
        map[v.key_at(i).text] = item.text;
      }
      attrs[name] = std::move(map);
      return true;
    }
    }
    return false;
  }

  static uint32_t kind_depth(Kind kind) {
    uint32_t depth = 0;
    for (auto parent = schema_of(kind).parent; parent; parent = schema_of(*parent).parent) {
      ++depth;
    }
    return depth;
  }

  // Links parents, dependencies and providers, then looks for cycles.
  void resolve() {
    auto& resources = m_config.resources;
    // Parents before children: a kind's nesting depth is fixed by its schema.
    std::vector<uint32_t> by_depth;
    by_depth.reserve(resources.size());
    for (uint32_t depth = 0; depth < 3; ++depth) {
      for (uint32_t i = 0; i < resources.size(); ++i) {
        if (kind_depth(resources[i].kind) == depth) {
          by_depth.push_back(i);
        }
      }
    }

    for (uint32_t i = 0; i < resources.size(); ++i) {
      Resource& r = resources[i];
      const Pending& p = m_pending[i];
      if (!p.valid || !p.has_parent) {
        continue;
      }
      auto it = m_config.index.find(r.parent_address);
      if (it == m_config.index.end()) {
        m_diag.error(p.parent_mark,
                     fmt::format("{}: unknown parent {}{}", owner(r),
                                 r.parent_address, suggest_address(r.parent_address, r.address)));
        continue;
      }
      r.parent = static_cast<int32_t>(it->second);
    }

    for (uint32_t i = 0; i < resources.size(); ++i) {
      Resource& r = resources[i];
      const Pending& p = m_pending[i];
      if (!p.valid) {
        continue;
      }
      for (size_t d = 0; d < r.depends_on.size(); ++d) {
        const std::string& target = r.depends_on[d];
        if (target == r.address) {
          m_diag.error(r.depends_on_marks[d],
                       fmt::format("dependency cycle: {} depends on itself", r.address));
        } else if (!m_config.index.contains(target)) {
          m_diag.error(r.depends_on_marks[d],
                       fmt::format("{}: unknown dependency {}{}", owner(r),
                                   target, suggest_address(target, r.address)));
        }
      }
    }

    assign_providers(by_depth);
    check_bucket_names();
    check_bucket_regions();
    find_cycles();
  }

  std::string suggest_address(const std::string& wanted, const std::string& self) const {
    // Typos are worth a scan, but not of a huge file's every address.
    if (m_config.index.size() > 20000) {
      return {};
    }
    std::vector<std::string> candidates;
    candidates.reserve(m_config.index.size());
    for (const auto& [address, _] : m_config.index) {
      if (address != self) {
        candidates.push_back(address);
      }
    }
    std::sort(candidates.begin(), candidates.end());
    return did_you_mean(wanted, candidates);
  }

  void assign_providers(const std::vector<uint32_t>& order) {
    auto& resources = m_config.resources;
    std::vector<std::string_view> names;
    for (const auto& p : m_config.providers) {
      names.push_back(p.name);
    }
    std::vector<bool> kind_reported(all_kinds().size(), false);
    for (uint32_t i : order) {
      Resource& r = resources[i];
      const Pending& p = m_pending[i];
      if (p.has_provider) {
        const std::string& wanted = p.provider;
        const ProviderConfig* provider = m_config.provider(wanted);
        if (provider == nullptr) {
          m_diag.error(p.provider_mark,
                       m_config.implicit_sandbox
                           ? fmt::format("{}: unknown provider {}; the file declares no "
                                         "providers", owner(r), in_quotes(wanted))
                           : fmt::format("{}: unknown provider {}{}", owner(r), in_quotes(wanted),
                                         did_you_mean(wanted, names)));
        } else if (!provider->serves(r.kind)) {
          m_diag.error(p.provider_mark,
                       fmt::format("{}: provider {} is of type {}, which cannot manage {} "
                                   "resources", owner(r), in_quotes(wanted), provider->type,
                                   to_string(r.kind)));
        } else {
          r.provider = wanted;
        }
        continue;
      }
      if (r.parent >= 0) {
        const std::string& inherited = resources[static_cast<size_t>(r.parent)].provider;
        const ProviderConfig* provider = m_config.provider(inherited);
        if (provider != nullptr && provider->serves(r.kind)) {
          r.provider = inherited;
          continue;
        }
      }
      std::vector<std::string> serving;
      for (const auto& candidate : m_config.providers) {
        if (candidate.serves(r.kind)) {
          serving.push_back(candidate.name);
        }
      }
      if (serving.size() == 1) {
        r.provider = serving.front();
        continue;
      }
      auto kind_slot = static_cast<size_t>(r.kind);
      if (kind_reported[kind_slot]) {
        continue;
      }
      kind_reported[kind_slot] = true;
      if (serving.empty()) {
        m_diag.error(r.mark, fmt::format("no declared provider can manage {} resources; "
                                         "declare one of type {}",
                                         to_string(r.kind),
                                         fmt::join(schema_of(r.kind).provider_types, " or ")));
      } else {
        m_diag.error(r.mark, fmt::format("{}: several providers can manage {} resources ({}); "
                                         "choose one with provider:",
                                         owner(r), to_string(r.kind), fmt::join(serving, ", ")));
      }
    }
  }

  void find_cycles() {
    const auto& resources = m_config.resources;
    Dag dag(resources.size());
    for (uint32_t i = 0; i < resources.size(); ++i) {
      const Resource& r = resources[i];
      if (!m_pending[i].valid) {
        continue;
      }
      if (r.parent >= 0) {
        dag.add_edge(static_cast<size_t>(r.parent), i);
      }
      for (const auto& target : r.depends_on) {
        auto it = m_config.index.find(target);
        if (it != m_config.index.end() && it->second != i) {
          dag.add_edge(it->second, i);
        }
      }
    }
    for (const auto& cycle : dag.find_cycles()) {
      // The path runs dependency -> dependent; read it backwards as "depends on".
      std::vector<std::string> names;
      for (auto it = cycle.rbegin(); it != cycle.rend(); ++it) {
        names.push_back(resources[*it].address);
      }
      const Resource& first = resources[cycle.back()];
      const std::string& needed = resources[cycle[cycle.size() - 2]].address;
      Mark mark = first.mark;
      for (size_t d = 0; d < first.depends_on.size(); ++d) {
        if (first.depends_on[d] == needed) {
          mark = first.depends_on_marks[d];
        }
      }
      m_diag.error(mark, fmt::format("dependency cycle: {}", fmt::join(names, " -> ")));
    }
  }

  const SourceFile& m_source;
  Diagnostics& m_diag;
  Config m_config;
  std::vector<Pending> m_pending;
  std::vector<BucketNameFindings> m_bucket_names;
  struct BucketRegionFinding {
    uint32_t resource = 0;
    Mark mark;       // of the region's value
    std::string who; // bucket "name"
  };
  std::vector<BucketRegionFinding> m_bucket_regions;
};

} // namespace

Config load_config(const SourceFile& source, Node root, Diagnostics& diagnostics) {
  Loader loader(source, diagnostics);
  return loader.run(root);
}

Config load_config_file(const SourceFile& source, Diagnostics& diagnostics) {
  Node root = parse_document(source, diagnostics);
  if (diagnostics.has_errors()) {
    Config empty;
    empty.path = source.path;
    return empty;
  }
  return load_config(source, std::move(root), diagnostics);
}

} // namespace stove
