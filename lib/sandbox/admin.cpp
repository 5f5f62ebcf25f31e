#include "sandbox/admin.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace stove::sandbox::admin {

using nlohmann::json;

namespace {

std::string joined(std::initializer_list<std::string_view> values) {
  std::string out;
  for (std::string_view v : values) {
    out = out.empty() ? std::string(v) : fmt::format("{}, {}", out, v);
  }
  return out;
}

} // namespace

void refuse(int status, const std::string& message) {
  throw Refused(status, message);
}

Reply error(int status, const std::string& message) {
  return Reply{status, json{{"error", message}}, 0};
}

Attributes::Attributes(const json& body, std::string_view what,
                       std::initializer_list<std::string_view> known)
    : m_body(body) {
  if (!body.is_object()) {
    refuse(400, "the request body must be a JSON object of attributes");
  }
  for (const auto& [key, value] : body.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      refuse(400, fmt::format("unknown {} attribute \"{}\" (known: {})", what, key, joined(known)));
    }
  }
}

const json* Attributes::raw(std::string_view name) const {
  auto it = m_body.find(name);
  return it == m_body.end() ? nullptr : &*it;
}

std::optional<int64_t> Attributes::integer(std::string_view name, int64_t min) const {
  const json* value = raw(name);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (!value->is_number_integer() ||
      (value->is_number_unsigned() &&
       value->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
    refuse(400, fmt::format("attribute \"{}\" must be an integer, not {}", name, value->dump()));
  }
  auto number = value->get<int64_t>();
  if (number < min) {
    refuse(400, fmt::format("attribute \"{}\" must be at least {}, not {}", name, min, number));
  }
  return number;
}

std::optional<std::string> Attributes::text(std::string_view name) const {
  const json* value = raw(name);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (!value->is_string()) {
    refuse(400, fmt::format("attribute \"{}\" must be a string, not {}", name, value->dump()));
  }
  return value->get<std::string>();
}

std::optional<std::string>
Attributes::choice(std::string_view name, std::initializer_list<std::string_view> values) const {
  const json* value = raw(name);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (!value->is_string() ||
      std::find(values.begin(), values.end(), value->get<std::string>()) == values.end()) {
    refuse(400, fmt::format("attribute \"{}\" must be one of {}, not {}", name, joined(values),
                            value->dump()));
  }
  return value->get<std::string>();
}

std::optional<bool> Attributes::flag(std::string_view name) const {
  const json* value = raw(name);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (!value->is_boolean()) {
    refuse(400, fmt::format("attribute \"{}\" must be true or false, not {}", name, value->dump()));
  }
  return value->get<bool>();
}

} // namespace stove::sandbox::admin
