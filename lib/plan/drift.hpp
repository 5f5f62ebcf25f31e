#pragma once

// Drift: how an object as its provider reports it differs from the spec
// stove last applied. Pure functions over the kind's schema; reading the
// objects is lib/apply/refresh.hpp's job.

#include "model/kind.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace stove {

struct AttributeDrift {
  std::string field;
  nlohmann::json state; // the applied value, as the state records it
  nlohmann::json real;  // the value the provider reports
};

// Whether `field` of a kind is one the provider can be asked about: never
// `labels` (stove's alone), and not a string applied as "" (the provider
// chose the value, like a bucket's region), since then any value is right.
bool drift_comparable(const FieldSchema& field, const nlohmann::json& applied);

// The fields of `schema` that `observed` reports under their schema names
// and that differ from `applied`, in schema order, skipping those named in
// `ignored`. A field the provider does not report (a cloud space's
// description) never drifts.
std::vector<AttributeDrift> drifted_attributes(const KindSchema& schema,
                                               const nlohmann::json& applied,
                                               const nlohmann::json& observed,
                                               const std::vector<std::string>& ignored);

// `applied` with each comparable field the provider reports replaced by the
// reported value: the spec as the object has it now. Fields named in
// `ignored` keep their applied values.
nlohmann::json real_spec(const KindSchema& schema, const nlohmann::json& applied,
                         const nlohmann::json& observed, const std::vector<std::string>& ignored);

// One recorded object whose real counterpart differs from the state.
struct ResourceDrift {
  std::string address;
  Kind kind = Kind::cloud_space;
  std::string provider;
  std::string remote_id;
  bool deleted = false;                   // gone outside stove (or its parent is)
  // Not deleted, but incomplete: the parts of it that are missing
  // (providers::Remote::missing). The next apply finishes it, or removes
  // what is left when the file no longer has it.
  std::vector<std::string> missing;
  std::vector<AttributeDrift> attributes; // what changed, when not deleted
  nlohmann::json real_spec;               // the applied spec with the real values (not deleted)
};

// An object a listing showed inside a managed parent that no record names.
struct UnmanagedObject {
  std::string parent; // the managed parent's address
  Kind kind = Kind::machine;
  std::string provider;
  std::string remote_id;
  std::string name;
};

// What a refresh found (lib/apply/refresh.hpp).
struct DriftReport {
  size_t read = 0;    // records read from their providers
  size_t skipped = 0; // records with no remote id yet (an interrupted create): not read
  std::vector<ResourceDrift> drift;               // in state order
  std::vector<UnmanagedObject> unmanaged;         // by parent, then kind and name
  std::map<std::string, nlohmann::json> observed; // address -> observed now, for every record found
  size_t http_requests = 0;                       // calls the refresh made

  bool has_drift() const { return !drift.empty(); }
};

// `--ignore FIELD`: FIELD is a schema field of some kind (`memory`) or one
// qualified by its kind (`machine.memory`, aliases accepted). Returns, per
// kind, the fields to ignore. Throws stove::Error(ErrorKind::usage) for a
// field no kind has, with a did-you-mean.
std::map<Kind, std::vector<std::string>>
parse_ignored_fields(const std::vector<std::string>& fields);

// The report as `stove drift --json` prints it (documented in
// stove-drift(1)).
nlohmann::ordered_json drift_to_json(const DriftReport& report);

} // namespace stove
