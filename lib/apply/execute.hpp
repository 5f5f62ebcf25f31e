#pragma once

// Runs one action (`stove exec ADDRESS ACTION`) on one resource the state
// holds, through the adapter of the provider that made it, and records what
// the action observed in the resource's state record. The caller holds the
// state lock and writes the state afterwards.

#include "apply/engine.hpp"
#include "http/client.hpp"
#include "model/kind.hpp"
#include "state/state.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace stove {

struct ExecOptions {
  // Longest the action (with its waiting) may take.
  std::chrono::milliseconds timeout{std::chrono::minutes(30)};
  const http::CancelToken* cancel = nullptr;
  // Progress notes from the adapter ("job 12 queued", "waiting for HALTED").
  std::function<void(std::string_view note)> on_note;
};

struct ExecResult {
  bool ok = false;
  // The adapter's outcome ("status=HALTED"), or, when it failed, why.
  std::string message;
  std::chrono::milliseconds elapsed{0};
  // Whether the resource's record changed: observed attributes merged in,
  // updated_at stamped. The caller then writes the state.
  bool recorded = false;
};

// The record of the resource at `address` an action can run on. Throws
// stove::Error(ErrorKind::input) when the state has no such resource
// (naming the closest address) or it was never created (no remote id).
const ResourceState& executable_record(const State& state, const std::string& address);

// Runs `action` (its `params` already checked with action_params, see
// model/kind.hpp) on the resource at `address`, a canonical address.
// Throws stove::Error(ErrorKind::input) when the state has no such resource
// (naming the closest address) or it was never created (no remote id), and
// when its provider is not configured; nothing is changed then. What the
// provider refuses or fails is returned (ok = false), not thrown: the
// object is read back when the action itself could not say what it left,
// and whatever was observed is recorded.
ExecResult execute_action(State& state, const std::string& address, const ActionSchema& action,
                          const nlohmann::json& params, ProviderSet& providers,
                          const ExecOptions& options);

} // namespace stove
