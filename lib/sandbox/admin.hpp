#pragma once

// The sandbox's admin endpoint (/sandbox/admin/..., see server.cpp and
// man/stove-sandbox.1, ADMIN): changes made behind the caller's back, for
// drift tests and demos. This header holds what the cloud, S3 and Bacularis
// parts share: the error replies ({"error": "..."}) and the strict reading
// of a body's attributes (no unknown ones, no numeric strings).

#include "sandbox/reply.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace stove::sandbox::admin {

// A refused admin call; its status and message make the reply.
class Refused : public std::runtime_error {
public:
  Refused(int status, const std::string& message) : std::runtime_error(message), m_status(status) {}
  int status() const { return m_status; }

private:
  int m_status;
};

[[noreturn]] void refuse(int status, const std::string& message);

// {"error": message} with `status`.
Reply error(int status, const std::string& message);

// An admin body: a JSON object whose keys are all among `known`, each value
// of the type asked for (else 400 naming the attribute).
class Attributes {
public:
  Attributes(const nlohmann::json& body, std::string_view what,
             std::initializer_list<std::string_view> known);

  bool empty() const { return m_body.empty(); }
  bool has(std::string_view name) const { return m_body.contains(name); }
  // An integer at least `min`.
  std::optional<int64_t> integer(std::string_view name, int64_t min) const;
  std::optional<std::string> text(std::string_view name) const;
  // A string among `values`.
  std::optional<std::string> choice(std::string_view name,
                                    std::initializer_list<std::string_view> values) const;
  std::optional<bool> flag(std::string_view name) const;
  const nlohmann::json* raw(std::string_view name) const;

private:
  const nlohmann::json& m_body;
};

} // namespace stove::sandbox::admin
