#include "apply/runner.hpp"

#include "model/observed.hpp"
#include "util/error.hpp"

#include <fmt/format.h>

namespace stove {

using Clock = InFlight::Clock;

void InFlight::start(uint32_t op, Clock::time_point started, std::string remote_id) {
  std::lock_guard lock(m_mutex);
  m_entries[op] = Entry{started, started, std::move(remote_id), {}};
}

void InFlight::set_note(uint32_t op, std::string note) {
  std::lock_guard lock(m_mutex);
  auto it = m_entries.find(op);
  if (it != m_entries.end()) {
    it->second.note = std::move(note);
  }
}

void InFlight::set_remote_id(uint32_t op, std::string remote_id) {
  std::lock_guard lock(m_mutex);
  auto it = m_entries.find(op);
  if (it != m_entries.end()) {
    it->second.remote_id = std::move(remote_id);
  }
}

void InFlight::finish(uint32_t op) {
  std::lock_guard lock(m_mutex);
  m_entries.erase(op);
}

std::vector<std::pair<uint32_t, InFlight::Entry>> InFlight::due(Clock::time_point now,
                                                                 Clock::duration every) {
  std::vector<std::pair<uint32_t, Entry>> out;
  std::lock_guard lock(m_mutex);
  for (auto& [op, entry] : m_entries) {
    if (now - entry.last_report < every) {
      continue;
    }
    entry.last_report = now;
    out.emplace_back(op, entry);
  }
  return out;
}

// One operation as it runs: what it is about and what the record said
// before it.
struct OperationRunner::Step {
  Step(uint32_t op_, const ResourceChange& change_) : op(op_), change(change_) {}
  uint32_t op = 0;
  const ResourceChange& change;
  bool destroying = false;
  std::string address;  // where it acts: a moved resource is destroyed where it was
  std::optional<RecordedBefore> before;
  bool was_interrupted_create = false;
  providers::OpContext context;
  Progress progress;
};

OperationRunner::OperationRunner(LiveState& live, ProviderSet& providers, Journal& journal,
                                 const ApplyOptions& options, InFlight& in_flight,
                                 std::function<void(const Progress&)> emit)
  : m_live(live), m_providers(providers), m_journal(journal), m_options(options),
    m_in_flight(in_flight), m_emit(std::move(emit)) {}

OpOutcome OperationRunner::run(uint32_t op, const Operation& operation,
                               const ResourceChange& change) {
  if (change.action == Action::no_op) {
    return {};
  }
  Step step(op, change);
  step.destroying = operation.phase == Phase::destroy;
  step.address = step.destroying && !change.previous_address.empty() ? change.previous_address
                                                                     : change.address;
  step.before = m_live.before(step.address);
  step.was_interrupted_create = step.before && step.before->remote_id.empty();
  Progress& p = step.progress;
  p.address = step.address;
  p.action = change.action;
  p.phase = operation.phase;
  if (step.before && (step.destroying || change.action == Action::update)) {
    p.remote_id = step.before->remote_id;
  }
  auto started = Clock::now();
  m_in_flight.start(op, started, p.remote_id);
  m_emit(p);

  step.context.deadline = http::Deadline::after(m_options.operation_timeout, m_options.cancel);
  step.context.note = [this, op](std::string_view note) {
    m_in_flight.set_note(op, std::string(note));
  };
  std::string error;
  bool nothing_created = false;
  OpOutcome outcome;
  try {
    outcome.counted = call(step);
  } catch (const http::TransportError& e) {
    error = e.reason() == http::TransportError::Reason::cancelled ? "interrupted" : e.what();
  } catch (const providers::NothingCreated& e) {
    error = e.what();
    nothing_created = true;
  } catch (const providers::ProviderError& e) {
    error = e.what();
  } catch (const Error& e) {
    error = e.what();
  } catch (const std::exception& e) {
    error = fmt::format("unexpected error: {}", e.what());
  }
  m_in_flight.finish(op);
  p.elapsed = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started);
  if (!error.empty()) {
    outcome = OpOutcome{false, OpOutcome::Counted::none,
                        record_failure(step, std::move(error), nothing_created)};
    p.event = ProgressEvent::failed;
    p.message = outcome.error;
  } else {
    p.event = ProgressEvent::succeeded;
  }
  m_emit(p);
  return outcome;
}

OpOutcome::Counted OperationRunner::call(Step& step) {
  const ResourceChange& change = step.change;
  std::string provider = change.provider;
  if (step.destroying && change.action != Action::destroy) {
    provider = m_live.provider_of(step.address, change.provider);
  }
  providers::KindAdapter& adapter = m_providers.adapter(provider, change.kind);
  if (step.destroying) {
    return destroy(step, adapter);
  }
  if (change.action == Action::update) {
    return update(step, adapter);
  }
  return create(step, adapter);  // a create, or the create half of a replace
}

OpOutcome::Counted OperationRunner::destroy(Step& step, providers::KindAdapter& adapter) {
  providers::Target target;
  target.kind = step.change.kind;
  target.address = step.address;
  if (step.before) {
    target.remote_id = step.before->remote_id;
    target.prior_observed = step.before->observed;
  }
  target.spec = step.change.before.is_object() ? step.change.before : nlohmann::json::object();
  target.parents = m_live.parents_of(step.before ? step.before->parent : std::string());
  if (target.remote_id.empty()) {
    // Its create was interrupted: the object may exist all the same.
    if (auto found = adapter.find(target, step.context)) {
      target.remote_id = found->remote_id;
      m_in_flight.set_remote_id(step.op, target.remote_id);
    }
  }
  if (!target.remote_id.empty()) {
    adapter.destroy(target, step.context);
  }
  m_journal.deleted(step.address);
  m_live.remove(step.address);
  step.progress.remote_id = target.remote_id;
  return OpOutcome::Counted::destroyed;  // the destroy half of a replace counts too
}

OpOutcome::Counted OperationRunner::update(Step& step, providers::KindAdapter& adapter) {
  const ResourceChange& change = step.change;
  const nlohmann::json prior_observed =
      step.before ? step.before->observed : nlohmann::json::object();
  providers::Target target;
  target.kind = change.kind;
  target.address = step.address;
  target.remote_id = step.before ? step.before->remote_id : std::string();
  target.spec = change.after;
  target.prior_spec = change.before.is_object() ? change.before : nlohmann::json::object();
  target.prior_observed = prior_observed;
  target.parents = m_live.parents_of(change.parent);
  // Cut short, the update leaves the resource for the next run to update
  // again, knowing what was observed before it. Cut again, it keeps what
  // was observed before the first cut.
  const auto earlier = prior_observed.find(std::string(k_observed_interrupted_update));
  m_journal.updating(step.address, earlier != prior_observed.end() ? *earlier : prior_observed);
  providers::Remote remote = adapter.update(target, step.context);
  ResourceState r = record_of(change, remote);
  if (auto created = m_live.created_at(step.address)) {
    r.created_at = *created;
  }
  m_journal.recorded(r);
  m_live.upsert(std::move(r));
  step.progress.remote_id = remote.remote_id;
  return OpOutcome::Counted::changed;
}

OpOutcome::Counted OperationRunner::create(Step& step, providers::KindAdapter& adapter) {
  const ResourceChange& change = step.change;
  providers::Target target;
  target.kind = change.kind;
  target.address = step.address;
  target.spec = change.after;
  target.parents = m_live.parents_of(change.parent);
  target.adopt =
      step.was_interrupted_create || change.reason == ChangeReason::status_incomplete;
  ResourceState intent = record_of(change, providers::Remote{});
  intent.status = ResourceStatus::processing;
  m_journal.intent(intent);
  m_live.upsert(intent);
  providers::Remote remote = adapter.create(target, step.context);
  ResourceState r = record_of(change, remote);
  m_journal.recorded(r);
  m_live.upsert(std::move(r));
  step.progress.remote_id = remote.remote_id;
  return OpOutcome::Counted::added;
}

// Records a failed operation in the journal and the live state; returns the
// error as the summary shows it.
std::string OperationRunner::record_failure(const Step& step, std::string error,
                                            bool nothing_created) {
  // A create refused before anything was made leaves no record behind (had
  // there been one, it would stay: it may stand for an object).
  const bool forget = nothing_created && !step.destroying &&
                      step.change.action != Action::update && !step.before;
  // A delete that failed leaves the record as it was: the object is still
  // there (BucketNotEmpty, a Job in use), and the next plan deletes it
  // again if the file still leaves it out.
  try {
    if (forget) {
      m_journal.deleted(step.address);
    } else if (!step.destroying) {
      m_journal.failed(step.address, error);
    }
  } catch (const Error& e) {
    error += fmt::format(" (and {})", e.what());
  }
  if (forget) {
    m_live.remove(step.address);
  } else if (!step.destroying) {
    m_live.mark_failed(step.address);
  }
  return error;
}

} // namespace stove
