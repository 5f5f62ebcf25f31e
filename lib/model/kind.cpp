#include "model/kind.hpp"

#include <array>

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

FieldSchema labels_field() {
  FieldSchema f;
  f.name = "labels";
  f.type = FieldType::string_map;
  f.default_value = json::object();
  f.doc = "Free-form key/value metadata kept by stove.";
  return f;
}

std::vector<KindSchema> build_table() {
  std::vector<KindSchema> kinds;

  KindSchema space{Kind::cloud_space, "cloud_space", {}, std::nullopt, {"machines"},
                   Kind::machine, {}, {"openvcloud", "sandbox"},
                   "An OpenVCloud cloud space: a private network with its machines."};
  space.fields = {
      string_field("name", true, UpdateRule::in_place, "The cloud space's name."),
      string_field("description", false, UpdateRule::in_place, "Free text.", ""),
      int_field("location_id", true, UpdateRule::forces_replacement, 1, INT32_MAX, "",
                "The location (data centre) it lives in."),
  };
  kinds.push_back(std::move(space));

  KindSchema machine{Kind::machine, "machine", {}, Kind::cloud_space, {"backups", "bacula"},
                     Kind::backup, {}, {"openvcloud", "sandbox"},
                     "A virtual machine inside a cloud space."};
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
  kinds.push_back(std::move(machine));

  KindSchema backup{Kind::backup, "backup", {"bacula"}, Kind::machine, {}, std::nullopt, {},
                    {"bacularis", "sandbox"}, "A Bacula backup job of a machine's files."};
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
  kinds.push_back(std::move(backup));

  KindSchema bucket{Kind::bucket, "bucket", {"s3"}, std::nullopt, {}, std::nullopt, {},
                    {"s3", "sandbox"}, "An S3 bucket."};
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
  name.max_length = 63;
  name.syntax = Syntax::bucket_name;
  bucket.fields = {
      name,
      string_field("region", false, UpdateRule::forces_replacement,
                   "The region; empty means the provider's default.", ""),
      versioning,
      tags,
  };
  kinds.push_back(std::move(bucket));

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
  json j = {{"kind", schema.name},
            {"aliases", schema.aliases},
            {"doc", schema.doc},
            {"parent", schema.parent ? json(to_string(*schema.parent)) : json(nullptr)},
            {"children_keys", schema.child_keys},
            {"provider_types", schema.provider_types},
            {"fields", std::move(fields)}};
  return j;
}

} // namespace stove
