#include "plan/drift.hpp"

#include <algorithm>

namespace stove {

namespace {

bool is_ignored(const std::vector<std::string>& ignored, std::string_view field) {
  return std::find(ignored.begin(), ignored.end(), field) != ignored.end();
}

} // namespace

bool drift_comparable(const FieldSchema& field, const nlohmann::json& applied) {
  if (field.name == "labels") {
    return false;
  }
  return !(applied.is_string() && applied.get_ref<const std::string&>().empty());
}

std::vector<AttributeDrift> drifted_attributes(const KindSchema& schema,
                                               const nlohmann::json& applied,
                                               const nlohmann::json& observed,
                                               const std::vector<std::string>& ignored) {
  std::vector<AttributeDrift> out;
  if (!observed.is_object()) {
    return out;
  }
  static const nlohmann::json k_null;
  for (const auto& field : schema.fields) {
    auto real = observed.find(field.name);
    if (real == observed.end() || is_ignored(ignored, field.name)) {
      continue;
    }
    auto was = applied.is_object() ? applied.find(field.name) : applied.end();
    const nlohmann::json& state = applied.is_object() && was != applied.end() ? *was : k_null;
    if (!drift_comparable(field, state) || state == *real) {
      continue;
    }
    out.push_back(AttributeDrift{std::string(field.name), state, *real});
  }
  return out;
}

nlohmann::json real_spec(const KindSchema& schema, const nlohmann::json& applied,
                         const nlohmann::json& observed, const std::vector<std::string>& ignored) {
  nlohmann::json out = applied.is_object() ? applied : nlohmann::json::object();
  for (auto& drift : drifted_attributes(schema, applied, observed, ignored)) {
    out[drift.field] = std::move(drift.real);
  }
  return out;
}

} // namespace stove
