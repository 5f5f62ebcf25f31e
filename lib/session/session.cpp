#include "session/session.hpp"

#include "apply/refresh.hpp"
#include "state/journal.hpp"
#include "state/statefile.hpp"
#include "util/error.hpp"

#include <fmt/format.h>

#include <filesystem>

namespace stove::session {

Session::Session(SessionOptions options) : m_options(std::move(options)) {
  if (m_options.reporter == nullptr) {
    throw Error(ErrorKind::internal, "a session needs a reporter");
  }
  if (!m_options.make_provider) {
    m_options.make_provider = [](const ProviderConfig& config,
                                 const providers::ProviderOptions& made_with) {
      return providers::make_provider(config, made_with);
    };
  }
}

Session::~Session() = default;

void Session::emit(Event event) const { m_options.reporter->report(event); }

void Session::note(std::string text) const {
  Event event;
  event.type = EventType::note;
  event.message = std::move(text);
  emit(std::move(event));
}

void Session::take_lock(const std::string& operation) {
  m_lock.emplace(StateLock::acquire(m_options.state_path, operation, m_options.lock_timeout));
}

// Said before the lock makes a directory or a lock file.
void Session::require_file(const std::string& file) const {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    throw Error(ErrorKind::io, fmt::format("{}: cannot read: No such file or directory", file));
  }
}

void Session::require_state(std::string_view why) const {
  const std::string& path = m_options.state_path;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !std::filesystem::exists(journal_path_for(path), ec)) {
    throw Error(ErrorKind::state, fmt::format("{}: no such state file{}", path, why));
  }
}

// Writes `state`, into which the journal of an interrupted apply (`records`
// steps) was folded, and removes the journal: what that run did is never
// lost. Written on its own, so that PATH.backup of the run's own later
// write holds it. Called under the lock.
void Session::save_recovered(State& state, size_t records) {
  note(fmt::format("recovered {} step(s) of an interrupted apply from {}", records,
                   journal_path_for(m_options.state_path)));
  write_state(m_options.state_path, state);
  Journal(m_options.state_path).remove();
}

// The file and the state side by side. Null when the file has errors
// (they are reported, as are its warnings).
std::unique_ptr<Inputs> Session::load(const std::string& file) {
  auto inputs = std::make_unique<Inputs>(load_inputs(file, m_options.state_path));
  if (!inputs->diagnostics.all().empty()) {
    Event event;
    event.type = EventType::diagnostics;
    event.inputs = inputs.get();
    emit(std::move(event));
    if (inputs->diagnostics.has_errors()) {
      return nullptr;
    }
  }
  return inputs;
}

// A journal an interrupted run left, already folded into the state in
// memory: written into the state at once (under the lock), or mentioned.
void Session::recover(Inputs& inputs, Recovery recovery) {
  if (!inputs.journal.found || recovery == Recovery::quiet) {
    return;
  }
  if (recovery == Recovery::save) {
    save_recovered(inputs.state, inputs.journal.records);
    return;
  }
  note(fmt::format("{}.journal holds {} step(s) of an interrupted apply; this plan counts them, "
                   "and the next apply records them in the state",
                   m_options.state_path, inputs.journal.records));
}

void Session::sandbox_note(const Inputs& inputs) const {
  if (inputs.config.implicit_sandbox) {
    note("the file declares no providers: using the embedded sandbox cloud");
  }
}

ProviderSet& Session::providers(const std::vector<ProviderConfig>& configs) {
  if (!m_providers) {
    providers::register_builtin_provider_types();
    const size_t cap = m_options.parallelism > 0 ? static_cast<size_t>(m_options.parallelism)
                                                 : http::ClientOptions{}.max_in_flight;
    m_providers = std::make_unique<ProviderSet>(
        configs, [this, cap](const ProviderConfig& config) {
          providers::ProviderOptions made_with;
          made_with.environment = providers::process_environment();
          made_with.http.name = config.name;
          made_with.http.max_in_flight = cap;
          return m_options.make_provider(config, made_with);
        });
  }
  return *m_providers;
}

http::Stats Session::stats() const { return m_providers ? m_providers->stats() : http::Stats{}; }

// Reads every object the state records (nothing to do when it records
// none), honouring the file's lifecycle.ignore_changes and `ignored`.
// `hint`, when not empty, is added to the error of a refresh that failed.
DriftReport Session::refresh_inputs(const Inputs& inputs,
                                    const std::map<Kind, std::vector<std::string>>& ignored,
                                    std::string_view hint) {
  if (inputs.state.resources.empty()) {
    return DriftReport{};
  }
  RefreshOptions options;
  options.parallelism = m_options.parallelism > 0 ? m_options.parallelism : 10;
  options.ignored = ignored;
  options.cancel = m_options.cancel;
  for (const auto& r : inputs.config.resources) {
    if (!r.lifecycle.ignore_changes.empty()) {
      options.ignored_by_address.emplace(r.address, r.lifecycle.ignore_changes);
    }
  }
  ProviderSet& set = providers(inputs.config.providers);
  try {
    return refresh_state(inputs.state, set, options);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::provider || hint.empty()) {
      throw;
    }
    throw Error(ErrorKind::provider, fmt::format("{}\n{}", e.what(), hint));
  }
}

PlanOutcome Session::plan(const PlanRequest& request) {
  PlanOutcome outcome;
  outcome.inputs = load(request.file);
  if (!outcome.inputs) {
    return outcome;
  }
  Inputs& inputs = *outcome.inputs;
  recover(inputs, Recovery::mention);
  sandbox_note(inputs);
  // Refresh: what the objects are now, folded into the state in memory so
  // that the plan puts back what changed outside of stove. Nothing is
  // written.
  DriftReport drift;
  if (request.refresh) {
    drift = refresh_inputs(inputs, {}, request.refresh_hint);
    apply_refresh(inputs.state, drift);
  }
  outcome.plan = std::make_unique<Plan>(
      make_plan(std::move(inputs.config), std::move(inputs.state), m_options.state_path));
  outcome.plan->refreshed = request.refresh;
  outcome.plan->drift = std::move(drift);
  outcome.valid = true;
  return outcome;
}

DriftOutcome Session::drift(const DriftRequest& request) {
  require_file(request.file);
  DriftOutcome outcome;
  auto inputs = load(request.file);
  if (!inputs) {
    return outcome;
  }
  sandbox_note(*inputs);
  outcome.report = std::make_unique<DriftReport>(refresh_inputs(*inputs, request.ignored, {}));
  // Unapplied changes: the plan from the state as it really is.
  outcome.recorded = inputs->state.resources.size();
  outcome.state_exists = inputs->state.exists;
  apply_refresh(inputs->state, *outcome.report);
  outcome.plan = std::make_unique<Plan>(
      make_plan(std::move(inputs->config), std::move(inputs->state), m_options.state_path));
  outcome.unapplied = outcome.plan->summary();
  outcome.inputs = std::move(inputs);
  outcome.valid = true;
  return outcome;
}

Unlocked force_unlock_state(const std::string& state_path, const std::string& id) {
  Unlocked unlocked;
  unlocked.cleared = force_unlock(state_path, id);
  std::error_code ec;
  if (std::filesystem::exists(journal_path_for(state_path), ec)) {
    unlocked.journal = journal_path_for(state_path);
  }
  return unlocked;
}

} // namespace stove::session
