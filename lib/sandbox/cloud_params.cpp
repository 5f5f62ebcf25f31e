#include "sandbox/cloud_params.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>

namespace stove::sandbox {

using nlohmann::json;

[[noreturn]] void refuse(int status, std::string message) {
  throw ApiError(status, std::move(message));
}

int64_t Params::integer(std::string_view name) const {
  auto value = optional_integer(name);
  if (!value) {
    missing(name);
  }
  return *value;
}

std::optional<int64_t> Params::optional_integer(std::string_view name) const {
  const json* value = find(name);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (value->is_number_integer()) {
    if (value->is_number_unsigned() &&
        value->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      refuse(400, fmt::format("parameter {} is out of range", name));
    }
    return value->get<int64_t>();
  }
  if (value->is_number_float()) {
    double d = value->get<double>();
    // 2^63 is exact as a double; anything at or past it does not fit.
    if (std::trunc(d) == d && d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
      return static_cast<int64_t>(d);
    }
  } else if (value->is_string()) {
    const auto& text = value->get_ref<const std::string&>();
    int64_t parsed = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (ec == std::errc() && end == text.data() + text.size()) {
      return parsed;
    }
  }
  wrong_type(name, "int");
}

std::string Params::text(std::string_view name) const {
  auto value = optional_text(name);
  if (!value) {
    missing(name);
  }
  return std::move(*value);
}

std::optional<std::string> Params::optional_text(std::string_view name) const {
  const json* value = find(name);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (!value->is_string()) {
    refuse(400, fmt::format("parameter {} must be a string", name));
  }
  return value->get<std::string>();
}

std::optional<bool> Params::optional_flag(std::string_view name) const {
  const json* value = find(name);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (value->is_boolean()) {
    return value->get<bool>();
  }
  if (value->is_string()) {
    const auto& text = value->get_ref<const std::string&>();
    if (text == "true" || text == "True") {
      return true;
    }
    if (text == "false" || text == "False") {
      return false;
    }
  }
  wrong_type(name, "bool");
}

void Params::missing(std::string_view name) {
  refuse(400, fmt::format("Param with name:{} is missing.", name));
}

void Params::wrong_type(std::string_view name, std::string_view type) {
  refuse(400, fmt::format("Value of param {} not correct needs to be of type {}", name, type));
}

const json* Params::find(std::string_view name) const {
  auto it = m_params.find(name);
  if (it == m_params.end() || it->is_null() ||
      (it->is_string() && it->get_ref<const std::string&>().empty())) {
    return nullptr;
  }
  return &*it;
}

std::string g8_name(const Params& params, std::string_view name) {
  std::string value = params.text(name);
  if (value.find_first_of("<>\"'") != std::string::npos) {
    refuse(400, "The name you entered contains invalid characters");
  }
  if (value.size() < 2) {
    refuse(400, "The name cannot be shorter than two characters");
  }
  return value;
}

std::string checked_name(const Params& params, std::string_view what) {
  std::string name = params.text("name");
  if (name.find_first_not_of(" \t") == std::string::npos) {
    refuse(400, fmt::format("the {} name must not be empty", what));
  }
  return name;
}

void check_memory(int64_t memory) {
  if (memory <= 0) {
    refuse(400, fmt::format("memory must be a positive number of MB, not {}", memory));
  }
  if (memory % 2 != 0) {
    refuse(400, fmt::format("memory must be an even number of MB, not {}", memory));
  }
}

void check_vcpus(int64_t vcpus) {
  if (vcpus < 1) {
    refuse(400, fmt::format("vcpus must be at least 1, not {}", vcpus));
  }
}

} // namespace stove::sandbox
