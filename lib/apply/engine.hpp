#pragma once

// Carries a plan out: walks its operation graph (plan/order.hpp) with up to
// `parallelism` provider calls in flight, records every result in the
// journal as soon as the provider confirms it, and keeps the in-memory state
// in step. Follows the plan exactly; it never diffs again.

#include "state/journal.hpp"
#include "http/client.hpp"
#include "plan/order.hpp"
#include "plan/plan.hpp"
#include "providers/provider.hpp"
#include "state/state.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace stove {

// The providers of one run, made on first use from the plan's provider
// configurations.
class ProviderSet {
public:
  using Maker = std::function<std::unique_ptr<providers::Provider>(const ProviderConfig&)>;
  ProviderSet(std::vector<ProviderConfig> configs, Maker maker);

  // The adapter serving `kind` for the provider configuration `name`. Throws
  // stove::Error(input) if there is none. Thread-safe.
  providers::KindAdapter& adapter(const std::string& name, Kind kind);
  // Whether the provider configuration `name` exists and its type serves
  // `kind` (model/kind.hpp's provider_types). Makes nothing.
  bool serves(const std::string& name, Kind kind) const;
  // Requests made by every provider made so far.
  http::Stats stats() const;

private:
  std::vector<ProviderConfig> m_configs;
  Maker m_maker;
  mutable std::mutex m_mutex;
  std::map<std::string, std::unique_ptr<providers::Provider>> m_made;
};

enum class ProgressEvent : uint8_t { started, still_running, succeeded, failed, skipped };

// One line of progress: `machine[...]: Creating...`, `...: Still creating...
// [10s elapsed]`, `...: Creation complete after 14s [id=...]`.
struct Progress {
  ProgressEvent event = ProgressEvent::started;
  std::string address;
  Action action = Action::create;
  Phase phase = Phase::apply;
  std::chrono::seconds elapsed{0};
  std::string remote_id;
  std::string message;  // failure, skip reason, or a note from the adapter
};
std::string format_progress(const Progress& progress);

struct ApplyOptions {
  int parallelism = 10;
  // Longest an operation (a create with its polling) may take.
  std::chrono::milliseconds operation_timeout{std::chrono::minutes(30)};
  // How often a running operation reports that it still runs.
  std::chrono::milliseconds still_running_every{std::chrono::seconds(10)};
  // First Ctrl-C: start nothing new. Second: cancel what is in flight.
  const std::atomic<bool>* stop = nullptr;
  const http::CancelToken* cancel = nullptr;
  std::function<void(const Progress&)> on_progress;  // called from worker threads, serialised
};

struct OperationFailure {
  std::string address;
  std::string message;
};

struct ApplyResult {
  size_t added = 0;
  size_t changed = 0;
  size_t destroyed = 0;
  std::vector<OperationFailure> failed;
  std::vector<std::string> skipped;   // not started because something they need failed
  std::vector<std::string> not_started; // not started because of an interrupt
  bool interrupted = false;
  bool ok() const { return failed.empty() && skipped.empty() && not_started.empty(); }
};

// Applies `plan` to `state` (the state the plan was made against, journal
// already replayed). Every result is in `journal` and in `state` when this
// returns; the caller writes the state and removes the journal.
ApplyResult apply_plan(const Plan& plan, State& state, ProviderSet& providers, Journal& journal,
                       const ApplyOptions& options);

// "Apply complete! Resources: 3 added, 1 changed, 0 destroyed." or, for a
// partial apply, what succeeded, failed and was skipped.
std::string format_apply_summary(const ApplyResult& result, bool destroy);

} // namespace stove
