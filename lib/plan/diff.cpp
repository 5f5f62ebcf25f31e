#include "plan/diff.hpp"

#include <algorithm>

namespace stove {

FieldDiff diff_fields(const KindSchema& schema, const nlohmann::json& before,
                      const nlohmann::json& after, const std::vector<std::string>& ignored) {
  static const nlohmann::json k_null;
  FieldDiff result;
  for (const auto& field : schema.fields) {
    if (std::find(ignored.begin(), ignored.end(), field.name) != ignored.end()) {
      continue;
    }
    auto b = before.find(field.name);
    auto a = after.find(field.name);
    const nlohmann::json& old_value = b == before.end() ? k_null : *b;
    const nlohmann::json& new_value = a == after.end() ? k_null : *a;
    if (old_value == new_value) {
      continue;
    }
    result.changed = true;
    bool replaces = field.update == UpdateRule::forces_replacement;
    if (field.update == UpdateRule::grows_in_place) {
      replaces = !(old_value.is_number_integer() && new_value.is_number_integer() &&
                   new_value.get<int64_t>() > old_value.get<int64_t>());
    }
    if (replaces) {
      result.replace_paths.emplace_back(field.name);
    }
  }
  return result;
}

} // namespace stove
