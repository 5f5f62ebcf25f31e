#pragma once

#include "model/kind.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace stove {

struct FieldDiff {
  bool changed = false;
  std::vector<std::string> replace_paths;  // changed fields that cannot change in place
};

// Compares two specs of one kind, field by field as its schema declares.
// Fields listed in `ignored` are skipped. A grows_in_place field that shrinks
// forces replacement. A field missing on either side counts as null.
FieldDiff diff_fields(const KindSchema& schema, const nlohmann::json& before,
                      const nlohmann::json& after, const std::vector<std::string>& ignored);

} // namespace stove
