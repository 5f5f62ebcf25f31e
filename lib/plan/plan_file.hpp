#pragma once

#include "plan/plan.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace stove {

// The documented JSON form of a plan (see man/stove-plan.1 and README):
// what `plan --json` prints and what `plan --out FILE` saves. It carries no
// credentials: providers appear with the names of their variables only.
nlohmann::ordered_json plan_to_json(const Plan& plan);

// Reads a plan saved by `plan --out`. Throws stove::Error(ErrorKind::input)
// naming the file for anything that is not such a plan, including a newer
// format_version than k_plan_format_version.
Plan plan_from_json(const std::string& path, const std::string& text);

// Writes the plan atomically.
void save_plan(const std::string& path, const Plan& plan);
Plan load_plan(const std::string& path);

} // namespace stove
