#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace stove {

// The resource kinds stove manages. The order is the order `stove schema`
// lists them in.
enum class Kind : uint8_t { cloud_space, machine, backup, bucket };

enum class FieldType : uint8_t { string, integer, boolean, string_list, string_map, enumeration };

// How a change to a field is carried out.
enum class UpdateRule : uint8_t {
  in_place,            // the provider updates the object
  forces_replacement,  // the object is destroyed and created again
  grows_in_place,      // a larger value updates in place; a smaller one replaces
};

// A string field's own syntax, checked at validate time beyond its type.
enum class Syntax : uint8_t {
  none,
  bacula_name,      // a Bacula resource name: letters, digits, '-', '_', '.', ':', inner spaces
  bacula_schedule,  // a Bacula Run directive (parse/bacula_schedule.hpp)
  bucket_name,      // S3 naming rules; which ones depends on the provider (model/bucket_name.hpp)
};

// One field of a kind, declared once: validation, diff, `stove schema` and
// the JSON output all read it.
struct FieldSchema {
  std::string_view name;
  FieldType type = FieldType::string;
  bool required = false;
  nlohmann::json default_value;         // null: no default (optional fields only)
  int64_t min = 0;                      // integers: inclusive range
  int64_t max = INT64_MAX;
  bool even = false;                    // integers: must be even
  uint32_t max_length = 0;              // strings: 0 is unlimited
  UpdateRule update = UpdateRule::in_place;
  std::string_view unit;                // "MB", "GB", "days"; empty if none
  std::vector<std::string_view> allowed; // enumerations: the allowed values
  Syntax syntax = Syntax::none;         // strings: checked beyond their length
  std::string_view doc;
};

// One parameter of an action: string, integer, boolean or enumeration.
struct ParamSchema {
  std::string_view name;
  FieldType type = FieldType::string;
  bool required = false;
  nlohmann::json default_value;          // null: none (the provider decides)
  std::vector<std::string_view> allowed; // enumerations: the allowed values
  std::string_view doc;
};

// Something a kind's objects can be asked to do besides being created,
// updated and deleted (`stove exec ADDRESS ACTION`): start a machine, run a
// backup job. Declared with the kind, like its fields.
struct ActionSchema {
  std::string_view name;
  std::string_view doc;
  std::vector<ParamSchema> params;

  const ParamSchema* param(std::string_view param_name) const;
};

struct KindSchema {
  Kind kind;
  std::string_view name;                     // canonical
  std::vector<std::string_view> aliases;     // accepted in `type:` and addresses
  std::optional<Kind> parent;                // the kind it nests under
  std::vector<std::string_view> child_keys;  // keys that hold nested children
  std::optional<Kind> child;                 // the kind those keys hold
  std::vector<FieldSchema> fields;           // in display order
  std::vector<std::string_view> provider_types;  // provider types that serve it
  std::string_view doc;
  std::vector<ActionSchema> actions; // what `stove exec` can do; may be empty

  const FieldSchema* field(std::string_view field_name) const;
  const ActionSchema* action(std::string_view action_name) const;
};

std::span<const KindSchema> all_kinds();
const KindSchema& schema_of(Kind kind);
std::string_view to_string(Kind kind);
std::string_view to_string(FieldType type);
std::string_view to_string(UpdateRule rule);
std::string_view to_string(Syntax syntax);
// Finds a kind by canonical name or alias; nullopt if unknown.
std::optional<Kind> find_kind(std::string_view name);

// Keys every resource entry may carry besides its kind's fields.
std::span<const std::string_view> meta_keys();

// The whole declaration as JSON, for `stove schema --json`.
nlohmann::json schema_to_json(const KindSchema& schema);
nlohmann::json action_to_json(const ActionSchema& action);

// The action `action_name` of `schema`. Throws stove::Error(ErrorKind::usage)
// for an unknown one, listing the kind's actions with a did-you-mean.
const ActionSchema& find_action(const KindSchema& schema, std::string_view action_name);

// Checks and types an action's parameters given as NAME=VALUE (from the
// command line): each is declared, given once, and of its type (integers in
// decimal, booleans true or false, enumerations exactly one of the allowed
// values); required ones are present; defaults are filled in. Returns a JSON
// object of name -> typed value. Throws stove::Error(ErrorKind::usage) that
// lists the valid parameters or values, with a did-you-mean.
nlohmann::json action_params(const KindSchema& schema, const ActionSchema& action,
                             const std::vector<std::string>& assignments);

// The same for parameters already in JSON (name -> value).
nlohmann::json action_params(const KindSchema& schema, const ActionSchema& action,
                             const nlohmann::json& given);

} // namespace stove
