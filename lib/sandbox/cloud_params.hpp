#pragma once

// How the sandbox's cloudapi refuses a call, and the parameters of a call
// read and checked as the G8's portal reads them. Internal to the cloud
// (cloud*.cpp).

#include <nlohmann/json.hpp>

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace stove::sandbox {

// A refused call: the status and the message the caller sees.
class ApiError : public std::exception {
public:
  ApiError(int status, std::string message) : m_status(status), m_message(std::move(message)) {}
  int status() const { return m_status; }
  const std::string& message() const { return m_message; }
  const char* what() const noexcept override { return m_message.c_str(); }

private:
  int m_status;
  std::string m_message;
};

[[noreturn]] void refuse(int status, std::string message);

// The parameters of a call, checked as the G8's portal checks them against
// the actor's spec (jumpscale_portal PortalRest.validate): a required
// parameter absent, null or "" is 400 "Param with name:X is missing.", and
// an optional one given as "" counts as absent. Like the real API (Python
// underneath), numeric strings are accepted where an integer is expected:
// ids travel as strings in many clients.
class Params {
public:
  explicit Params(const nlohmann::json& params) : m_params(params) {}

  int64_t integer(std::string_view name) const;
  std::optional<int64_t> optional_integer(std::string_view name) const;
  std::string text(std::string_view name) const;
  std::optional<std::string> optional_text(std::string_view name) const;
  std::optional<bool> optional_flag(std::string_view name) const;

private:
  [[noreturn]] static void missing(std::string_view name);
  [[noreturn]] static void wrong_type(std::string_view name, std::string_view type);

  // The value of `name`; nullptr when absent, null or "", which the API
  // treats alike.
  const nlohmann::json* find(std::string_view name) const;

  const nlohmann::json& m_params;
};

// A user name checked by the G8's name validator (jumpscale_portal
// Validators.NAME), as cloudspaces/create checks `access`.
std::string g8_name(const Params& params, std::string_view name);

// The `name` parameter, which must not be blank; `what` names the object.
std::string checked_name(const Params& params, std::string_view what);

void check_memory(int64_t memory);
void check_vcpus(int64_t vcpus);

} // namespace stove::sandbox
