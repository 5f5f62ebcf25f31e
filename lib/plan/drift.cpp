#include "plan/drift.hpp"

#include "util/error.hpp"
#include "util/suggest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

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

namespace stove {

std::map<Kind, std::vector<std::string>>
parse_ignored_fields(const std::vector<std::string>& fields) {
  std::map<Kind, std::vector<std::string>> out;
  for (const auto& text : fields) {
    std::string_view kind_part;
    std::string_view field_part = text;
    if (auto dot = text.find('.'); dot != std::string::npos) {
      kind_part = std::string_view(text).substr(0, dot);
      field_part = std::string_view(text).substr(dot + 1);
    }
    std::vector<std::string> known; // every field (or kind.field), for the did-you-mean
    bool matched = false;
    std::optional<Kind> only;
    if (!kind_part.empty()) {
      only = find_kind(kind_part);
      if (!only) {
        std::vector<std::string_view> kinds;
        for (const auto& k : all_kinds()) {
          kinds.push_back(k.name);
        }
        throw Error(ErrorKind::usage, fmt::format("--ignore {}: no kind is called \"{}\"{}", text,
                                                  kind_part, did_you_mean(kind_part, kinds)));
      }
    }
    for (const auto& schema : all_kinds()) {
      if (only && schema.kind != *only) {
        continue;
      }
      for (const auto& field : schema.fields) {
        known.push_back(only ? fmt::format("{}.{}", schema.name, field.name)
                             : std::string(field.name));
        if (field.name == field_part) {
          auto& list = out[schema.kind];
          if (std::find(list.begin(), list.end(), field.name) == list.end()) {
            list.emplace_back(field.name);
          }
          matched = true;
        }
      }
    }
    if (!matched) {
      std::sort(known.begin(), known.end());
      known.erase(std::unique(known.begin(), known.end()), known.end());
      throw Error(ErrorKind::usage,
                  only ? fmt::format("--ignore {}: kind {} has no field \"{}\"{}", text,
                                     to_string(*only), field_part, did_you_mean(text, known))
                       : fmt::format("--ignore {}: no kind has a field \"{}\"{}", text, field_part,
                                     did_you_mean(text, known)));
    }
  }
  return out;
}

nlohmann::ordered_json drift_to_json(const DriftReport& report) {
  using nlohmann::ordered_json;
  ordered_json out;
  out["format_version"] = 1;
  ordered_json resources = ordered_json::array();
  for (const auto& d : report.drift) {
    ordered_json r;
    r["address"] = d.address;
    r["kind"] = to_string(d.kind);
    r["provider"] = d.provider;
    r["remote_id"] = d.remote_id;
    r["change"] = d.deleted ? "deleted" : d.missing.empty() ? "changed" : "incomplete";
    if (!d.missing.empty()) {
      r["missing"] = d.missing;
    }
    ordered_json attributes = ordered_json::object();
    for (const auto& a : d.attributes) {
      attributes[a.field] = {{"state", a.state}, {"real", a.real}};
    }
    r["attributes"] = std::move(attributes);
    resources.push_back(std::move(r));
  }
  ordered_json unmanaged = ordered_json::array();
  for (const auto& u : report.unmanaged) {
    unmanaged.push_back({{"parent", u.parent},
                         {"kind", to_string(u.kind)},
                         {"provider", u.provider},
                         {"remote_id", u.remote_id},
                         {"name", u.name}});
  }
  out["drift"] = std::move(resources);
  out["unmanaged"] = std::move(unmanaged);
  return out;
}

} // namespace stove
