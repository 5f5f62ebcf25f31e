// The session's runs that change things: apply and destroy, refresh,
// exec, import and state edits.

#include "session/session.hpp"

#include "apply/refresh.hpp"
#include "state/journal.hpp"
#include "state/statefile.hpp"
#include "util/error.hpp"

#include <fmt/format.h>

namespace stove::session {

namespace {

EventType event_type(ProgressEvent event) {
  switch (event) {
  case ProgressEvent::started:
    return EventType::started;
  case ProgressEvent::still_running:
    return EventType::still_running;
  case ProgressEvent::succeeded:
    return EventType::done;
  case ProgressEvent::failed:
    return EventType::failed;
  case ProgressEvent::skipped:
    return EventType::skipped;
  }
  return EventType::note;
}

// changing(true) now, changing(false) when it goes, however the run ends.
class Changing {
public:
  explicit Changing(const std::function<void(bool)>& changing) : m_changing(changing) {
    if (m_changing) {
      m_changing(true);
    }
  }
  ~Changing() {
    if (m_changing) {
      m_changing(false);
    }
  }
  Changing(const Changing&) = delete;
  Changing& operator=(const Changing&) = delete;

private:
  const std::function<void(bool)>& m_changing;
};

} // namespace

// The plan to carry out, and `state` as it was made against, with the
// journal of an interrupted run folded in and written back first, so that
// what that run did is never lost. A saved plan carries what its own
// refresh found, and folds that in again.
Plan Session::plan_for_apply(ApplyRequest& request, State& state, ApplyStatus& status) {
  if (request.saved) {
    state = load_state(m_options.state_path);
    ReplayResult replay = replay_journal(m_options.state_path, state);
    if (replay.found) {
      save_recovered(state, replay.records);
    }
    providers(request.saved->providers);
    check_plan_is_current(*request.saved, state);
    Plan plan = std::move(*request.saved);
    apply_refresh(state, plan.drift);
    return plan;
  }
  auto inputs = load(request.file);
  if (!inputs) {
    status = ApplyStatus::invalid_file;
    return Plan{};
  }
  recover(*inputs, Recovery::save);
  sandbox_note(*inputs);
  DriftReport drift;
  if (request.refresh) {
    drift = refresh_inputs(*inputs, {},
                           fmt::format("(`stove {} --refresh=false` skips the refresh)",
                                       request.destroy ? "destroy" : "apply"));
    apply_refresh(inputs->state, drift);
  }
  state = inputs->state;
  Plan plan = request.destroy
                  ? make_destroy_plan(inputs->config, std::move(inputs->state), m_options.state_path)
                  : make_plan(inputs->config, inputs->state, m_options.state_path);
  plan.refreshed = request.refresh;
  plan.drift = std::move(drift);
  status = ApplyStatus::applied;
  return plan;
}

ApplyOutcome Session::apply(ApplyRequest request, Approver& approver) {
  const char* verb = request.destroy ? "destroy" : "apply";
  take_lock(verb);
  ApplyOutcome outcome;
  State state;
  outcome.status = ApplyStatus::applied;
  outcome.plan = plan_for_apply(request, state, outcome.status);
  if (outcome.status == ApplyStatus::invalid_file) {
    return outcome;
  }
  const Plan& plan = outcome.plan;
  Event planned;
  planned.type = EventType::planned;
  planned.plan = &plan;
  planned.destroy = request.destroy;
  emit(planned);

  if (!plan.summary().has_changes()) {
    outcome.status = ApplyStatus::no_changes;
    if (plan.drift.has_drift()) {
      // Nothing to change in the cloud, but the state learns what the
      // refresh found (the file already says what the objects now are).
      write_state(m_options.state_path, state);
      Event recorded;
      recorded.type = EventType::drift_recorded;
      recorded.count = plan.drift.drift.size();
      emit(recorded);
    }
    return outcome;
  }
  if (!approver.approve(request.destroy ? Question::destroy : Question::apply, &plan)) {
    outcome.status = ApplyStatus::cancelled;
    Event cancelled;
    cancelled.type = EventType::cancelled;
    cancelled.message = verb;
    cancelled.destroy = request.destroy;
    emit(cancelled);
    return outcome;
  }
  outcome.result = run_plan(plan, state, request.destroy, request.operation_timeout);
  return outcome;
}

// Carries `plan` out, journalling every result, then writes the state once
// and removes the journal.
ApplyResult Session::run_plan(const Plan& plan, State& state, bool destroy,
                              std::chrono::milliseconds operation_timeout) {
  Event applying;
  applying.type = EventType::applying;
  applying.destroy = destroy;
  emit(applying);

  Journal journal(m_options.state_path);
  journal.begin(state, destroy ? "destroy" : "apply");
  ApplyOptions options;
  options.parallelism = m_options.parallelism > 0 ? m_options.parallelism : 10;
  options.operation_timeout = operation_timeout;
  options.stop = m_options.stop;
  options.cancel = m_options.cancel;
  options.on_progress = [this](const Progress& progress) {
    Event event;
    event.type = event_type(progress.event);
    event.address = progress.address;
    event.progress = &progress;
    emit(std::move(event));
  };
  ApplyResult result;
  {
    Changing changing(m_options.changing);
    result = apply_plan(plan, state, providers(plan.providers), journal, options);
  }
  // Compaction: one write of the state, then the journal can go.
  write_state(m_options.state_path, state);
  journal.remove();

  Event summary;
  summary.type = EventType::summary;
  summary.result = &result;
  summary.destroy = destroy;
  emit(summary);
  return result;
}

RefreshOutcome Session::refresh(const std::string& file, Approver& approver) {
  require_file(file);
  require_state("; there is nothing to refresh");
  take_lock("refresh");
  RefreshOutcome outcome;
  auto inputs = load(file);
  if (!inputs) {
    return outcome;
  }
  recover(*inputs, Recovery::save);
  sandbox_note(*inputs);
  outcome.report = refresh_inputs(*inputs, {}, {});
  Event refreshed;
  refreshed.type = EventType::refreshed;
  refreshed.drift = &outcome.report;
  emit(refreshed);
  if (!outcome.report.has_drift()) {
    outcome.status = RefreshStatus::no_changes;
    return outcome;
  }
  if (!approver.approve(Question::refresh, nullptr)) {
    outcome.status = RefreshStatus::cancelled;
    Event cancelled;
    cancelled.type = EventType::cancelled;
    cancelled.message = "refresh";
    emit(cancelled);
    return outcome;
  }
  for (const auto& d : outcome.report.drift) {
    ++(d.deleted ? outcome.forgotten : outcome.updated);
  }
  apply_refresh(inputs->state, outcome.report);
  write_state(m_options.state_path, inputs->state);
  outcome.status = RefreshStatus::recorded;
  return outcome;
}

ExecOutcome Session::exec(const ExecRequest& request) {
  constexpr std::string_view why = "; stove exec acts on what stove apply made";
  require_file(request.file);
  require_state(why);
  take_lock("exec");
  ExecOutcome outcome;
  // The file gives the providers' configurations; the state, the object.
  auto inputs = load(request.file);
  if (!inputs) {
    return outcome;
  }
  if (!inputs->state.exists) {
    throw Error(ErrorKind::state,
                fmt::format("{}: no such state file{}", m_options.state_path, why));
  }
  recover(*inputs, Recovery::save);
  // An address the state does not hold is an error before anything runs.
  const std::string canonical = request.address.str();
  executable_record(inputs->state, canonical);
  sandbox_note(*inputs);
  ProviderSet& set = providers(inputs->config.providers);

  Event executing;
  executing.type = EventType::executing;
  executing.address = canonical;
  executing.message = request.action->name;
  emit(executing);
  ExecOptions options;
  options.timeout = request.timeout;
  options.cancel = m_options.cancel;
  options.on_note = [&](std::string_view text) {
    Event event;
    event.type = EventType::action_note;
    event.address = canonical;
    event.message = std::string(text);
    emit(std::move(event));
  };
  {
    Changing changing(m_options.changing);
    outcome.result =
        execute_action(inputs->state, canonical, *request.action, request.params, set, options);
  }
  if (outcome.result.recorded) {
    write_state(m_options.state_path, inputs->state);
  }
  for (const auto& r : inputs->state.resources) {
    if (r.address == canonical) {
      outcome.observed = r.observed;
    }
  }
  outcome.serial = inputs->state.serial;
  outcome.valid = true;
  return outcome;
}

ImportOutcome Session::import(const std::string& file, const Address& address,
                              const std::string& remote_id) {
  require_file(file);
  take_lock("import");
  ImportOutcome outcome;
  // The file gives the resource and its provider's configuration; the
  // state, the parents the object must sit in.
  auto inputs = load(file);
  if (!inputs) {
    return outcome;
  }
  const ImportRequest request = prepare_import(inputs->config, inputs->state, address, remote_id);
  sandbox_note(*inputs);
  Event importing;
  importing.type = EventType::importing;
  importing.address = address.str();
  importing.message = remote_id;
  emit(importing);
  outcome.result =
      import_resource(request, providers(inputs->config.providers), ImportOptions{});
  Event imported;
  imported.type = EventType::imported;
  imported.address = importing.address;
  imported.imported = &outcome.result;
  emit(imported);
  // The recovered state is written on its own first, so that PATH.backup
  // holds it: restoring the backup undoes the import, not the recovery.
  recover(*inputs, Recovery::save);
  inputs->state.resources.push_back(outcome.result.record);
  write_state(m_options.state_path, inputs->state);
  outcome.valid = true;
  return outcome;
}

void Session::edit_state(const std::string& operation, const std::function<void(State&)>& edit) {
  const std::string& path = m_options.state_path;
  require_state("");
  take_lock(operation);
  State state = load_state(path);
  ReplayResult replay = replay_journal(path, state);
  if (!state.exists && !replay.found) {
    throw Error(ErrorKind::state, fmt::format("{}: no such state file", path));
  }
  State edited = state;
  edit(edited);
  if (replay.found) {
    // The recovered state is written on its own first, so that PATH.backup
    // holds it: restoring the backup undoes this edit, not the recovery.
    save_recovered(state, replay.records);
    edited.serial = state.serial;
    edited.lineage = state.lineage;
  }
  write_state(path, edited);
}

} // namespace stove::session
