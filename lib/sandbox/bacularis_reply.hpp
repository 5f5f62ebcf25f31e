#pragma once

// How the sandbox's Bacularis answers (bacularis.hpp): its error codes and
// the replies Bacularis makes of them. Internal to bacularis*.cpp.

#include "sandbox/reply.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace stove::sandbox {

// Bacularis' error codes (GenericError, AuthenticationError,
// BaculaConfigError, JobError).
inline constexpr int k_invalid_command = 1;
inline constexpr int k_unauthorized = 6;
inline constexpr int k_validation = 94;
inline constexpr int k_does_not_exist = 97;
inline constexpr int k_already_exists = 98;
inline constexpr int k_dependency = 99;
inline constexpr int k_job_does_not_exist = 50;
inline constexpr int k_internal_error = 1000;

// {"output": output, "error": error}, with HTTP 200 as Bacularis answers
// whatever the error.
Reply answer(int error, nlohmann::json output, uint64_t version = 0);

// "Config validation error." with the director's refusal, as Bacularis
// prints the JSON tool's result (PHP's print_r).
Reply validation_error(const std::string& message);

Reply internal_error(const std::string& message);

// What Bacularis answers a path (or method) that matches none of its
// endpoints: its default page.
Reply welcome_reply();

// " Component Type: dir, Resource Type: TYPE, Resource Name: NAME", as
// Bacularis' config errors end.
std::string resource_text(std::string_view type, std::string_view name);

} // namespace stove::sandbox
