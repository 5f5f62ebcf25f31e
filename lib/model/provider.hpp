#pragma once

#include "model/kind.hpp"
#include "model/mark.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace stove {

// One setting a provider type takes. Credentials are never settings: a
// setting whose name ends in `_env` names the environment variable that
// holds the credential.
struct ProviderSetting {
  std::string_view name;
  FieldType type = FieldType::string;   // string or integer
  bool required = false;
  nlohmann::json default_value;         // null: none
  std::string_view doc;
  // For a string setting: why `value` is refused at validate time, or ""
  // when it is fine. nullptr: any string.
  std::string (*check)(std::string_view value) = nullptr;
};

struct ProviderTypeSchema {
  std::string_view type;
  std::vector<Kind> kinds;                     // the kinds it serves
  bool endpoint_required = true;
  std::vector<ProviderSetting> settings;       // besides type and endpoint
  std::string_view doc;

  const ProviderSetting* setting(std::string_view name) const;
  bool serves(Kind kind) const;
};

std::span<const ProviderTypeSchema> all_provider_types();
const ProviderTypeSchema* find_provider_type(std::string_view type);

// Names that look like credentials written in clear (token, password, ...).
bool looks_like_secret(std::string_view setting_name);

// A named provider configuration from the file's `providers:` section, or the
// implicit sandbox used when the file declares none.
struct ProviderConfig {
  std::string name;
  std::string type;
  std::string endpoint;      // URL, "sandbox" or "sandbox:DIR"
  nlohmann::json settings = nlohmann::json::object();  // validated, defaults applied
  Mark mark;

  bool serves(Kind kind) const;
};

// The name of the implicit provider.
inline constexpr std::string_view k_sandbox_provider = "sandbox";

ProviderConfig implicit_sandbox_provider();

} // namespace stove
