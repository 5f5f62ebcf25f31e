#pragma once

// The `sandbox` provider type: every kind, against the sandbox cloud (see
// lib/sandbox). Its endpoint is the URL of a running sandbox: the command
// layer starts the embedded one for `sandbox` and `sandbox:DIR` and
// substitutes its URL before the provider is made.

#include "providers/provider.hpp"

#include <memory>

namespace stove::providers {

// The sandbox's account and the variable holding its token ("sandbox" when
// unset).
inline constexpr int64_t k_sandbox_account_id = 1;
inline constexpr std::string_view k_sandbox_token_variable = "STOVE_SANDBOX_TOKEN";
inline constexpr std::string_view k_sandbox_default_token = "sandbox";
// The password the sandbox provider gives the Clients it makes.
inline constexpr std::string_view k_sandbox_client_password = "sandbox-fd";
// The user the sandbox provider gives access to the cloud spaces it creates
// (cloudspaces/create requires one; the sandbox's tokens name no user).
inline constexpr std::string_view k_sandbox_access = "stove@sandbox";

// The factory registered for `type: sandbox`.
std::unique_ptr<Provider> make_sandbox_provider(const ProviderConfig& config,
                                                const ProviderOptions& options);

} // namespace stove::providers
