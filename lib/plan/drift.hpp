#pragma once

// Drift: how an object as its provider reports it differs from the spec
// stove last applied. Pure functions over the kind's schema; reading the
// objects is lib/apply/refresh.hpp's job.

#include "model/kind.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace stove {

struct AttributeDrift {
  std::string field;
  nlohmann::json state;  // the applied value, as the state records it
  nlohmann::json real;   // the value the provider reports
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

} // namespace stove
