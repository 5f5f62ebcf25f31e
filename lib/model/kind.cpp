#include "model/kind.hpp"

#include "util/error.hpp"
#include "util/suggest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace stove {

namespace {

using nlohmann::json;

FieldSchema string_field(std::string_view name, bool required, UpdateRule update,
                         std::string_view doc, json default_value = nullptr) {
  FieldSchema f;
  f.name = name;
  f.type = FieldType::string;
  f.required = required;
  f.update = update;
  f.doc = doc;
  f.default_value = std::move(default_value);
  f.max_length = 255;
  return f;
}

FieldSchema int_field(std::string_view name, bool required, UpdateRule update, int64_t min,
                      int64_t max, std::string_view unit, std::string_view doc,
                      json default_value = nullptr) {
  FieldSchema f;
  f.name = name;
  f.type = FieldType::integer;
  f.required = required;
  f.update = update;
  f.min = min;
  f.max = max;
  f.unit = unit;
  f.doc = doc;
  f.default_value = std::move(default_value);
  return f;
}

ParamSchema boolean_param(std::string_view name, bool default_value, std::string_view doc) {
  ParamSchema p;
  p.name = name;
  p.type = FieldType::boolean;
  p.default_value = default_value;
  p.doc = doc;
  return p;
}

FieldSchema labels_field() {
  FieldSchema f;
  f.name = "labels";
  f.type = FieldType::string_map;
  f.default_value = json::object();
  f.doc = "Free-form key/value metadata kept by stove.";
  return f;
}

KindSchema cloud_space_schema() {
  KindSchema space{Kind::cloud_space, "cloud_space", {}, std::nullopt, {"machines"},
                   Kind::machine, {}, {"openvcloud", "sandbox"},
                   "An OpenVCloud cloud space: a private network with its machines.", {}};
  space.fields = {
      string_field("name", true, UpdateRule::in_place, "The cloud space's name."),
      string_field("description", false, UpdateRule::in_place, "Free text.", ""),
      int_field("location_id", true, UpdateRule::forces_replacement, 1, INT32_MAX, "",
                "The location (data centre) it lives in."),
  };
  return space;
}

KindSchema machine_schema() {
  KindSchema machine{Kind::machine, "machine", {}, Kind::cloud_space, {"backups", "bacula"},
                     Kind::backup, {}, {"openvcloud", "sandbox"},
                     "A virtual machine inside a cloud space.", {}};
  FieldSchema memory = int_field("memory", true, UpdateRule::in_place, 2, 4194304, "MB",
                                 "Memory in MB; even.");
  memory.even = true;
  machine.fields = {
      string_field("name", true, UpdateRule::in_place, "The machine's name."),
      string_field("description", false, UpdateRule::in_place, "Free text.", ""),
      int_field("image_id", true, UpdateRule::forces_replacement, 1, INT32_MAX, "",
                "The image it boots from."),
      memory,
      int_field("vcpus", true, UpdateRule::in_place, 1, 256, "", "Virtual CPUs."),
      int_field("disk_boot_size", true, UpdateRule::grows_in_place, 1, 65536, "GB",
                "Boot disk size in GB; grows in place, shrinking replaces the machine."),
  };
  machine.actions = {
      {"start",
       "Power the machine on and wait until it is RUNNING; a RUNNING machine is left as it is.",
       {}},
      {"stop",
       "Power the machine off and wait until it is HALTED; a HALTED machine is left as it is.",
       {boolean_param("force", false, "Pull the plug instead of asking the guest to shut down.")}},
      {"reboot", "Restart a RUNNING machine and wait until it is RUNNING again.", {}},
  };
  return machine;
}

KindSchema backup_schema() {
  KindSchema backup{Kind::backup, "backup", {"bacula"}, Kind::machine, {}, std::nullopt, {},
                    {"bacularis", "sandbox"}, "A Bacula backup job of a machine's files.", {}};
  FieldSchema fileset;
  fileset.name = "fileset";
  fileset.type = FieldType::string_list;
  fileset.default_value = json::array({"/"});
  fileset.doc = "Paths to include.";
  FieldSchema excludes;
  excludes.name = "excludes";
  excludes.type = FieldType::string_list;
  excludes.default_value = json::array();
  excludes.doc = "Paths to leave out.";
  FieldSchema enabled;
  enabled.name = "enabled";
  enabled.type = FieldType::boolean;
  enabled.default_value = true;
  enabled.doc = "Whether the job runs on its schedule.";
  FieldSchema schedule = string_field(
      "schedule", true, UpdateRule::in_place,
      "A Bacula Run directive, e.g. \"Level=Full sun at 02:00\"; its syntax is checked.");
  schedule.syntax = Syntax::bacula_schedule;
  FieldSchema job_name = string_field(
      "name", true, UpdateRule::forces_replacement,
      "The Bacula job name: letters, digits, '-', '_', '.', ':' and inner spaces; its FileSet, "
      "Schedule and Pool are named after it with a suffix.");
  job_name.syntax = Syntax::bacula_name;
  job_name.max_length = 118;  // 127, Bacula's limit, less "-schedule"
  backup.fields = {
      job_name,
      schedule,
      fileset,
      excludes,
      int_field("retention_days", false, UpdateRule::in_place, 1, 36500, "days",
                "How long backups are kept.", 30),
      enabled,
  };
  ParamSchema level;
  level.name = "level";
  level.type = FieldType::enumeration;
  level.allowed = {"Full", "Incremental", "Differential"};
  level.doc = "The backup level; default: the job's own level.";
  backup.actions = {
      {"run",
       "Run the backup job now and wait until it ends: success when it terminates normally (T).",
       {level}},
  };
  return backup;
}

KindSchema bucket_schema() {
  KindSchema bucket{Kind::bucket, "bucket", {"s3"}, std::nullopt, {}, std::nullopt, {},
                    {"s3", "sandbox"}, "An S3 bucket.", {}};
  FieldSchema versioning;
  versioning.name = "versioning";
  versioning.type = FieldType::enumeration;
  versioning.allowed = {"enabled", "suspended"};
  versioning.default_value = "suspended";
  versioning.doc = "Object versioning.";
  FieldSchema tags;
  tags.name = "tags";
  tags.type = FieldType::string_map;
  tags.default_value = json::object();
  tags.doc = "Bucket tags.";
  FieldSchema name = string_field("name", true, UpdateRule::forces_replacement,
                                  "The bucket's name: S3's naming rules (s3 providers), or the "
                                  "legacy us-east-1 ones, which allow '_' and uppercase (sandbox).");
  name.max_length = 255;  // legacy names; S3's current rules allow 63
  name.syntax = Syntax::bucket_name;
  bucket.fields = {
      name,
      string_field("region", false, UpdateRule::forces_replacement,
                   "The region; empty means the provider's default.", ""),
      versioning,
      tags,
  };
  return bucket;
}

// In the order of enum Kind: schema_of indexes the table by kind.
std::vector<KindSchema> build_table() {
  std::vector<KindSchema> kinds;
  kinds.push_back(cloud_space_schema());
  kinds.push_back(machine_schema());
  kinds.push_back(backup_schema());
  kinds.push_back(bucket_schema());
  for (auto& k : kinds) {
    k.fields.push_back(labels_field());
  }
  return kinds;
}

const std::vector<KindSchema>& table() {
  static const std::vector<KindSchema> kinds = build_table();
  return kinds;
}

constexpr std::array<std::string_view, 6> k_meta_keys = {"type",       "key",
                                                        "provider",   "parent",
                                                        "depends_on", "lifecycle"};

} // namespace

const FieldSchema* KindSchema::field(std::string_view field_name) const {
  for (const auto& f : fields) {
    if (f.name == field_name) {
      return &f;
    }
  }
  return nullptr;
}

const ActionSchema* KindSchema::action(std::string_view action_name) const {
  for (const auto& a : actions) {
    if (a.name == action_name) {
      return &a;
    }
  }
  return nullptr;
}

const ParamSchema* ActionSchema::param(std::string_view param_name) const {
  for (const auto& p : params) {
    if (p.name == param_name) {
      return &p;
    }
  }
  return nullptr;
}

std::span<const KindSchema> all_kinds() { return table(); }

const KindSchema& schema_of(Kind kind) { return table()[static_cast<size_t>(kind)]; }

std::string_view to_string(Kind kind) { return schema_of(kind).name; }

std::string_view to_string(FieldType type) {
  switch (type) {
  case FieldType::string: return "string";
  case FieldType::integer: return "integer";
  case FieldType::boolean: return "boolean";
  case FieldType::string_list: return "list of strings";
  case FieldType::string_map: return "map of strings";
  case FieldType::enumeration: return "enumeration";
  }
  return "unknown";
}

std::string_view to_string(UpdateRule rule) {
  switch (rule) {
  case UpdateRule::in_place: return "in_place";
  case UpdateRule::forces_replacement: return "forces_replacement";
  case UpdateRule::grows_in_place: return "grows_in_place";
  }
  return "unknown";
}

std::string_view to_string(Syntax syntax) {
  switch (syntax) {
  case Syntax::none: return "";
  case Syntax::bacula_name: return "bacula_name";
  case Syntax::bacula_schedule: return "bacula_schedule";
  case Syntax::bucket_name: return "bucket_name";
  }
  return "";
}

std::optional<Kind> find_kind(std::string_view name) {
  for (const auto& k : table()) {
    if (k.name == name) {
      return k.kind;
    }
    for (auto alias : k.aliases) {
      if (alias == name) {
        return k.kind;
      }
    }
  }
  return std::nullopt;
}

std::span<const std::string_view> meta_keys() { return k_meta_keys; }

nlohmann::json schema_to_json(const KindSchema& schema) {
  json fields = json::array();
  for (const auto& f : schema.fields) {
    json j = {{"name", f.name},
              {"type", to_string(f.type)},
              {"required", f.required},
              {"update", to_string(f.update)},
              {"doc", f.doc}};
    if (!f.default_value.is_null()) {
      j["default"] = f.default_value;
    }
    if (f.type == FieldType::integer) {
      j["min"] = f.min;
      j["max"] = f.max;
      if (f.even) {
        j["even"] = true;
      }
    }
    if (f.max_length != 0) {
      j["max_length"] = f.max_length;
    }
    if (f.syntax != Syntax::none) {
      j["syntax"] = to_string(f.syntax);
    }
    if (!f.unit.empty()) {
      j["unit"] = f.unit;
    }
    if (!f.allowed.empty()) {
      j["allowed"] = f.allowed;
    }
    fields.push_back(std::move(j));
  }
  json actions = json::array();
  for (const auto& a : schema.actions) {
    actions.push_back(action_to_json(a));
  }
  json j = {{"kind", schema.name},
            {"aliases", schema.aliases},
            {"doc", schema.doc},
            {"parent", schema.parent ? json(to_string(*schema.parent)) : json(nullptr)},
            {"children_keys", schema.child_keys},
            {"provider_types", schema.provider_types},
            {"fields", std::move(fields)},
            {"actions", std::move(actions)}};
  return j;
}

nlohmann::json action_to_json(const ActionSchema& action) {
  json params = json::array();
  for (const auto& p : action.params) {
    json j = {
        {"name", p.name}, {"type", to_string(p.type)}, {"required", p.required}, {"doc", p.doc}};
    if (!p.default_value.is_null()) {
      j["default"] = p.default_value;
    }
    if (!p.allowed.empty()) {
      j["allowed"] = p.allowed;
    }
    params.push_back(std::move(j));
  }
  return {{"name", action.name}, {"doc", action.doc}, {"params", std::move(params)}};
}

namespace {

std::string names_of(const std::vector<ActionSchema>& actions) {
  std::vector<std::string_view> names;
  for (const auto& a : actions) {
    names.push_back(a.name);
  }
  return fmt::format("{}", fmt::join(names, ", "));
}

std::vector<std::string_view> param_names(const ActionSchema& action) {
  std::vector<std::string_view> names;
  for (const auto& p : action.params) {
    names.push_back(p.name);
  }
  return names;
}

[[noreturn]] void unknown_param(const KindSchema& schema, const ActionSchema& action,
                                std::string_view name) {
  if (action.params.empty()) {
    throw Error(ErrorKind::usage, fmt::format("{} action \"{}\" takes no parameters, not \"{}\"",
                                              schema.name, action.name, name));
  }
  auto names = param_names(action);
  throw Error(ErrorKind::usage,
              fmt::format("{} action \"{}\" has no parameter \"{}\"{} (parameters: {})",
                          schema.name, action.name, name, did_you_mean(name, names),
                          fmt::join(names, ", ")));
}

std::string type_text(const ParamSchema& p) {
  switch (p.type) {
  case FieldType::boolean:
    return "true or false";
  case FieldType::integer:
    return "an integer";
  case FieldType::enumeration:
    return fmt::format("one of {}", fmt::join(p.allowed, ", "));
  default:
    return "a string";
  }
}

[[noreturn]] void bad_value(const ActionSchema& action, const ParamSchema& p,
                            const std::string& shown, std::string_view as_text) {
  std::string hint;
  if (p.type == FieldType::enumeration && !as_text.empty()) {
    hint = did_you_mean(as_text, p.allowed);
  }
  throw Error(ErrorKind::usage, fmt::format("{} {}={}: {} is {}{}", action.name, p.name, shown,
                                            p.name, type_text(p), hint));
}

// A value given as text, typed as `p` declares.
json typed_from_text(const ActionSchema& action, const ParamSchema& p, const std::string& text) {
  switch (p.type) {
  case FieldType::boolean:
    if (text == "true" || text == "false") {
      return text == "true";
    }
    break;
  case FieldType::integer: {
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (!text.empty() && ec == std::errc() && end == text.data() + text.size()) {
      return value;
    }
    break;
  }
  case FieldType::enumeration:
    for (auto allowed : p.allowed) {
      if (allowed == text) {
        return text;
      }
    }
    break;
  default:
    return text;
  }
  bad_value(action, p, text, text);
}

// A value given as JSON, checked against `p`.
json typed_from_json(const ActionSchema& action, const ParamSchema& p, const json& value) {
  bool ok = false;
  switch (p.type) {
  case FieldType::boolean:
    ok = value.is_boolean();
    break;
  case FieldType::integer:
    ok = value.is_number_integer();
    break;
  case FieldType::enumeration:
    ok = value.is_string() &&
         std::find(p.allowed.begin(), p.allowed.end(), value.get<std::string>()) != p.allowed.end();
    break;
  default:
    ok = value.is_string();
    break;
  }
  if (!ok) {
    bad_value(action, p, value.dump(), value.is_string() ? value.get<std::string>() : "");
  }
  return value;
}

json complete(const KindSchema& schema, const ActionSchema& action, json params) {
  for (const auto& p : action.params) {
    if (params.contains(p.name)) {
      continue;
    }
    if (p.required) {
      throw Error(ErrorKind::usage,
                  fmt::format("{} action \"{}\" needs --param {}=VALUE ({} is {})", schema.name,
                              action.name, p.name, p.name, type_text(p)));
    }
    if (!p.default_value.is_null()) {
      params[std::string(p.name)] = p.default_value;
    }
  }
  return params;
}

} // namespace

const ActionSchema& find_action(const KindSchema& schema, std::string_view action_name) {
  if (const ActionSchema* a = schema.action(action_name)) {
    return *a;
  }
  if (schema.actions.empty()) {
    throw Error(ErrorKind::usage,
                fmt::format("{} has no actions (\"{}\" asked for)", schema.name, action_name));
  }
  std::vector<std::string_view> names;
  for (const auto& a : schema.actions) {
    names.push_back(a.name);
  }
  throw Error(ErrorKind::usage,
              fmt::format("{} has no action \"{}\"{} (actions: {})", schema.name, action_name,
                          did_you_mean(action_name, names), names_of(schema.actions)));
}

nlohmann::json action_params(const KindSchema& schema, const ActionSchema& action,
                             const std::vector<std::string>& assignments) {
  json params = json::object();
  for (const auto& assignment : assignments) {
    auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw Error(ErrorKind::usage, fmt::format("--param \"{}\": expected NAME=VALUE", assignment));
    }
    std::string name = assignment.substr(0, eq);
    std::string value = assignment.substr(eq + 1);
    const ParamSchema* p = action.param(name);
    if (p == nullptr) {
      unknown_param(schema, action, name);
    }
    if (params.contains(name)) {
      throw Error(ErrorKind::usage, fmt::format("--param {} is given twice", name));
    }
    params[name] = typed_from_text(action, *p, value);
  }
  return complete(schema, action, std::move(params));
}

nlohmann::json action_params(const KindSchema& schema, const ActionSchema& action,
                             const nlohmann::json& given) {
  json params = json::object();
  if (given.is_null()) {
    return complete(schema, action, std::move(params));
  }
  if (!given.is_object()) {
    throw Error(ErrorKind::usage,
                fmt::format("the parameters of {} are an object of name -> value", action.name));
  }
  for (const auto& [name, value] : given.items()) {
    const ParamSchema* p = action.param(name);
    if (p == nullptr) {
      unknown_param(schema, action, name);
    }
    params[name] = typed_from_json(action, *p, value);
  }
  return complete(schema, action, std::move(params));
}

} // namespace stove
