#include "apply/engine.hpp"

#include "util/error.hpp"
#include "model/observed.hpp"
#include "state/statefile.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <thread>
#include <unordered_map>

namespace stove {

ProviderSet::ProviderSet(std::vector<ProviderConfig> configs, Maker maker)
  : m_configs(std::move(configs)), m_maker(std::move(maker)) {}

providers::KindAdapter& ProviderSet::adapter(const std::string& name, Kind kind) {
  std::lock_guard lock(m_mutex);
  auto it = m_made.find(name);
  if (it == m_made.end()) {
    auto config = std::find_if(m_configs.begin(), m_configs.end(),
                               [&](const ProviderConfig& c) { return c.name == name; });
    if (config == m_configs.end()) {
      throw Error(ErrorKind::input,
                  fmt::format("provider \"{}\" is not configured in the file", name));
    }
    it = m_made.emplace(name, m_maker(*config)).first;
  }
  providers::KindAdapter* adapter = it->second->adapter(kind);
  if (adapter == nullptr) {
    throw Error(ErrorKind::input,
                fmt::format("provider \"{}\" cannot manage {} resources yet", name, to_string(kind)));
  }
  return *adapter;
}

bool ProviderSet::serves(const std::string& name, Kind kind) const {
  auto config = std::find_if(m_configs.begin(), m_configs.end(),
                             [&](const ProviderConfig& c) { return c.name == name; });
  if (config == m_configs.end()) {
    return false;
  }
  const auto& types = schema_of(kind).provider_types;
  return std::find(types.begin(), types.end(), config->type) != types.end();
}

http::Stats ProviderSet::stats() const {
  std::lock_guard lock(m_mutex);
  http::Stats total;
  for (const auto& [name, provider] : m_made) {
    auto s = provider->stats();
    total.requests += s.requests;
    total.retries += s.retries;
  }
  return total;
}

namespace {

struct Verbs {
  std::string_view doing;     // Creating
  std::string_view still;     // creating
  std::string_view done;      // Creation complete
  std::string_view failed;    // Creation failed
};

Verbs verbs_for(Action action, Phase phase) {
  if (phase == Phase::destroy || action == Action::destroy) {
    return {"Destroying", "destroying", "Destruction complete", "Destruction failed"};
  }
  if (action == Action::update) {
    return {"Modifying", "modifying", "Modifications complete", "Modification failed"};
  }
  return {"Creating", "creating", "Creation complete", "Creation failed"};
}

std::string id_note(const std::string& remote_id) {
  return remote_id.empty() ? std::string() : fmt::format(" [id={}]", remote_id);
}

} // namespace

std::string format_progress(const Progress& p) {
  Verbs v = verbs_for(p.action, p.phase);
  switch (p.event) {
  case ProgressEvent::started:
    if (v.doing == "Creating") {
      return fmt::format("{}: {}...", p.address, v.doing);
    }
    return fmt::format("{}: {}...{}", p.address, v.doing, id_note(p.remote_id));
  case ProgressEvent::still_running:
    if (p.remote_id.empty()) {
      return fmt::format("{}: Still {}... [{}s elapsed]{}", p.address, v.still, p.elapsed.count(),
                         p.message.empty() ? "" : fmt::format(" ({})", p.message));
    }
    return fmt::format("{}: Still {}... [id={}, {}s elapsed]{}", p.address, v.still, p.remote_id,
                       p.elapsed.count(),
                       p.message.empty() ? "" : fmt::format(" ({})", p.message));
  case ProgressEvent::succeeded:
    if (v.doing == "Destroying") {
      return fmt::format("{}: {} after {}s", p.address, v.done, p.elapsed.count());
    }
    return fmt::format("{}: {} after {}s{}", p.address, v.done, p.elapsed.count(),
                       id_note(p.remote_id));
  case ProgressEvent::failed:
    return fmt::format("{}: {} after {}s: {}", p.address, v.failed, p.elapsed.count(), p.message);
  case ProgressEvent::skipped:
    return fmt::format("{}: Skipped: {}", p.address, p.message);
  }
  return p.address;
}

namespace {

using Clock = std::chrono::steady_clock;

enum class OpState : uint8_t { waiting, ready, running, done, failed, skipped };

struct Running {
  Clock::time_point started;
  Clock::time_point last_report;
  std::string remote_id;
  std::string note;
};

class Walk {
public:
  Walk(const Plan& plan, State& state, ProviderSet& providers, Journal& journal,
       const ApplyOptions& options)
    : m_plan(plan), m_state(state), m_providers(providers), m_journal(journal),
      m_options(options), m_graph(build_operation_graph(plan.changes)) {
    for (size_t i = 0; i < m_state.resources.size(); ++i) {
      m_index.emplace(m_state.resources[i].address, i);
    }
    m_removed.assign(m_state.resources.size(), false);
    size_t n = m_graph.operations.size();
    m_op_state.assign(n, OpState::waiting);
    m_waiting_on.assign(n, 0);
    for (size_t op = 0; op < n; ++op) {
      for (uint32_t next : m_graph.dag.successors(op)) {
        ++m_waiting_on[next];
      }
    }
    for (uint32_t op = 0; op < n; ++op) {
      if (m_waiting_on[op] == 0) {
        m_op_state[op] = OpState::ready;
        m_ready.push_back(op);
      }
    }
  }

  ApplyResult run() {
    size_t workers = std::clamp<size_t>(static_cast<size_t>(std::max(1, m_options.parallelism)),
                                        1, std::max<size_t>(1, m_graph.operations.size()));
    std::vector<std::thread> threads;
    threads.reserve(workers);
    for (size_t i = 0; i < workers; ++i) {
      threads.emplace_back([this] { work(); });
    }
    std::thread ticker([this] { tick(); });
    for (auto& t : threads) {
      t.join();
    }
    {
      std::lock_guard lock(m_mutex);
      m_finished = true;
    }
    m_cv.notify_all();
    ticker.join();

    // Whatever never ran was cut off by an interrupt.
    for (uint32_t op = 0; op < m_op_state.size(); ++op) {
      if (m_op_state[op] == OpState::waiting || m_op_state[op] == OpState::ready) {
        const auto& c = m_plan.changes[m_graph.operations[op].change];
        if (c.action != Action::no_op) {
          m_result.not_started.push_back(c.address);
        }
      }
    }
    std::sort(m_result.not_started.begin(), m_result.not_started.end());
    m_result.not_started.erase(
        std::unique(m_result.not_started.begin(), m_result.not_started.end()),
        m_result.not_started.end());
    m_result.interrupted = stop_requested();
    compact_state();
    return std::move(m_result);
  }

private:
  bool stop_requested() const {
    return (m_options.stop != nullptr && m_options.stop->load()) ||
           (m_options.cancel != nullptr && m_options.cancel->cancelled());
  }

  void emit(const Progress& p) {
    if (m_options.on_progress) {
      std::lock_guard lock(m_progress_mutex);
      m_options.on_progress(p);
    }
  }

  void work() {
    std::unique_lock lock(m_mutex);
    while (true) {
      m_cv.wait(lock, [&] {
        return !m_ready.empty() || m_in_flight == 0 || stop_requested();
      });
      if (stop_requested() || m_ready.empty()) {
        if (m_in_flight == 0 || stop_requested()) {
          m_cv.notify_all();
          return;
        }
        continue;
      }
      uint32_t op = m_ready.front();
      m_ready.pop_front();
      m_op_state[op] = OpState::running;
      ++m_in_flight;
      lock.unlock();
      bool ok = execute(op);
      lock.lock();
      --m_in_flight;
      finish(op, ok);
      m_cv.notify_all();
    }
  }

  // With the lock held: releases what waited on `op`, or skips it all.
  void finish(uint32_t op, bool ok) {
    m_op_state[op] = ok ? OpState::done : OpState::failed;
    if (ok) {
      for (uint32_t next : m_graph.dag.successors(op)) {
        if (m_op_state[next] == OpState::waiting && --m_waiting_on[next] == 0) {
          m_op_state[next] = OpState::ready;
          m_ready.push_back(next);
        }
      }
      return;
    }
    const std::string& failed_address = m_plan.changes[m_graph.operations[op].change].address;
    std::vector<uint32_t> stack(m_graph.dag.successors(op).begin(),
                                m_graph.dag.successors(op).end());
    while (!stack.empty()) {
      uint32_t next = stack.back();
      stack.pop_back();
      if (m_op_state[next] != OpState::waiting && m_op_state[next] != OpState::ready) {
        continue;
      }
      if (m_op_state[next] == OpState::ready) {
        m_ready.erase(std::find(m_ready.begin(), m_ready.end(), next));
      }
      m_op_state[next] = OpState::skipped;
      const auto& c = m_plan.changes[m_graph.operations[next].change];
      if (c.action != Action::no_op) {
        m_result.skipped.push_back(c.address);
        Progress p;
        p.event = ProgressEvent::skipped;
        p.address = c.address;
        p.action = c.action;
        p.phase = m_graph.operations[next].phase;
        p.message = fmt::format("{} did not complete", failed_address);
        emit(p);
      }
      for (uint32_t after : m_graph.dag.successors(next)) {
        stack.push_back(after);
      }
    }
  }

  void tick() {
    std::unique_lock lock(m_mutex);
    while (!m_finished) {
      m_cv.wait_for(lock, std::chrono::milliseconds(200));
      auto now = Clock::now();
      std::vector<Progress> due;
      {
        std::lock_guard running_lock(m_running_mutex);
        for (auto& [op, running] : m_running) {
          if (now - running.last_report < m_options.still_running_every) {
            continue;
          }
          running.last_report = now;
          const auto& c = m_plan.changes[m_graph.operations[op].change];
          Progress p;
          p.event = ProgressEvent::still_running;
          p.address = c.address;
          p.action = c.action;
          p.phase = m_graph.operations[op].phase;
          p.elapsed = std::chrono::duration_cast<std::chrono::seconds>(now - running.started);
          p.remote_id = running.remote_id;
          p.message = running.note;
          due.push_back(std::move(p));
        }
      }
      lock.unlock();
      for (const auto& p : due) {
        emit(p);
      }
      lock.lock();
    }
  }

  // The parents of the resource at `parent_address`, nearest first, as the
  // state has them now.
  std::vector<providers::Parent> parents_of(std::string parent_address) {
    std::vector<providers::Parent> parents;
    std::lock_guard lock(m_state_mutex);
    while (!parent_address.empty()) {
      auto it = m_index.find(parent_address);
      if (it == m_index.end() || m_removed[it->second]) {
        throw Error(ErrorKind::internal,
                    fmt::format("the parent {} is not in the state", parent_address));
      }
      const ResourceState& r = m_state.resources[it->second];
      if (r.remote_id.empty()) {
        throw Error(ErrorKind::state,
                    fmt::format("the parent {} has no remote id (its create did not complete)",
                                parent_address));
      }
      providers::Parent p;
      p.kind = find_kind(r.kind).value_or(Kind::cloud_space);
      p.address = r.address;
      p.remote_id = r.remote_id;
      p.observed = r.observed;
      parents.push_back(std::move(p));
      parent_address = r.parent;
    }
    return parents;
  }

  const ResourceState* recorded(const std::string& address) {
    auto it = m_index.find(address);
    if (it == m_index.end() || m_removed[it->second]) {
      return nullptr;
    }
    return &m_state.resources[it->second];
  }

  void upsert(ResourceState r) {
    std::lock_guard lock(m_state_mutex);
    auto it = m_index.find(r.address);
    if (it == m_index.end()) {
      m_index.emplace(r.address, m_state.resources.size());
      m_state.resources.push_back(std::move(r));
      m_removed.push_back(false);
    } else {
      m_removed[it->second] = false;
      m_state.resources[it->second] = std::move(r);
    }
  }

  void remove(const std::string& address) {
    std::lock_guard lock(m_state_mutex);
    auto it = m_index.find(address);
    if (it != m_index.end()) {
      m_removed[it->second] = true;
    }
  }

  void mark_failed(const std::string& address) {
    std::lock_guard lock(m_state_mutex);
    auto it = m_index.find(address);
    if (it != m_index.end() && !m_removed[it->second]) {
      m_state.resources[it->second].status = ResourceStatus::failed;
    }
  }

  void compact_state() {
    size_t out = 0;
    for (size_t i = 0; i < m_state.resources.size(); ++i) {
      if (!m_removed[i]) {
        if (out != i) {
          m_state.resources[out] = std::move(m_state.resources[i]);
        }
        ++out;
      }
    }
    m_state.resources.resize(out);
  }

  void set_running_id(uint32_t op, const std::string& remote_id) {
    std::lock_guard lock(m_running_mutex);
    auto it = m_running.find(op);
    if (it != m_running.end()) {
      it->second.remote_id = remote_id;
    }
  }

  bool execute(uint32_t op) {
    const Operation& operation = m_graph.operations[op];
    const ResourceChange& change = m_plan.changes[operation.change];
    if (change.action == Action::no_op) {
      return true;
    }
    const bool destroying = operation.phase == Phase::destroy;
    // A moved resource is destroyed where it was.
    const std::string& address =
        destroying && !change.previous_address.empty() ? change.previous_address : change.address;

    Progress p;
    p.address = address;
    p.action = change.action;
    p.phase = operation.phase;
    std::string existing_id;
    std::string prior_parent;
    nlohmann::json prior_observed = nlohmann::json::object();
    bool was_interrupted_create = false;
    bool was_recorded = false;
    {
      std::lock_guard lock(m_state_mutex);
      if (const ResourceState* r = recorded(address)) {
        was_recorded = true;
        existing_id = r->remote_id;
        prior_parent = r->parent;
        prior_observed = r->observed;
        was_interrupted_create = r->remote_id.empty();
      }
    }
    if (destroying || change.action == Action::update) {
      p.remote_id = existing_id;
    }
    auto started = Clock::now();
    {
      std::lock_guard lock(m_running_mutex);
      m_running[op] = Running{started, started, p.remote_id, {}};
    }
    emit(p);

    auto elapsed = [&] {
      return std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started);
    };
    providers::OpContext context;
    context.deadline = http::Deadline::after(m_options.operation_timeout, m_options.cancel);
    context.note = [this, op](std::string_view note) {
      std::lock_guard lock(m_running_mutex);
      auto it = m_running.find(op);
      if (it != m_running.end()) {
        it->second.note = std::string(note);
      }
    };

    std::string error;
    bool nothing_created = false;
    try {
      Kind kind = change.kind;
      providers::KindAdapter& adapter = m_providers.adapter(
          destroying ? (change.action == Action::destroy ? change.provider : prior_provider(address,
                                                                                             change))
                     : change.provider,
          kind);
      providers::Target target;
      target.kind = kind;
      target.address = address;
      if (destroying) {
        target.remote_id = existing_id;
        target.spec = change.before.is_object() ? change.before : nlohmann::json::object();
        target.prior_observed = prior_observed;
        target.parents = parents_of(prior_parent);
        if (target.remote_id.empty()) {
          // Its create was interrupted: the object may exist all the same.
          if (auto found = adapter.find(target, context)) {
            target.remote_id = found->remote_id;
            set_running_id(op, target.remote_id);
          }
        }
        if (!target.remote_id.empty()) {
          adapter.destroy(target, context);
        }
        m_journal.deleted(address);
        remove(address);
        p.remote_id = target.remote_id;
        std::lock_guard lock(m_result_mutex);
        ++m_result.destroyed;  // the destroy half of a replace counts too

      } else if (change.action == Action::update) {
        target.remote_id = existing_id;
        target.spec = change.after;
        target.prior_spec = change.before.is_object() ? change.before : nlohmann::json::object();
        target.prior_observed = prior_observed;
        target.parents = parents_of(change.parent);
        // Cut short, the update leaves the resource for the next run to
        // update again, knowing what was observed before it.
        // Cut again, it keeps what was observed before the first cut.
        const auto earlier = prior_observed.find(std::string(k_observed_interrupted_update));
        m_journal.updating(address,
                           earlier != prior_observed.end() ? *earlier : prior_observed);
        providers::Remote remote = adapter.update(target, context);
        ResourceState r = make_record(change, remote);
        {
          std::lock_guard lock(m_state_mutex);
          if (const ResourceState* old = recorded(address)) {
            r.created_at = old->created_at;
          }
        }
        m_journal.recorded(r);
        upsert(std::move(r));
        p.remote_id = remote.remote_id;
        std::lock_guard lock(m_result_mutex);
        ++m_result.changed;
      } else {
        // create, or the create half of a replace
        target.spec = change.after;
        target.parents = parents_of(change.parent);
        target.adopt = was_interrupted_create || change.reason == ChangeReason::status_incomplete;
        ResourceState intent = make_record(change, providers::Remote{});
        intent.status = ResourceStatus::processing;
        m_journal.intent(intent);
        upsert(intent);
        providers::Remote remote = adapter.create(target, context);
        ResourceState r = make_record(change, remote);
        m_journal.recorded(r);
        upsert(std::move(r));
        p.remote_id = remote.remote_id;
        std::lock_guard lock(m_result_mutex);
        ++m_result.added;
      }
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
    {
      std::lock_guard lock(m_running_mutex);
      m_running.erase(op);
    }
    p.elapsed = elapsed();
    if (!error.empty()) {
      // A create refused before anything was made leaves no record behind
      // (had there been one, it would stay: it may stand for an object).
      const bool forget = nothing_created && !destroying && change.action != Action::update &&
                          !was_recorded;
      // A delete that failed leaves the record as it was: the object is
      // still there (BucketNotEmpty, a Job in use), and the next plan
      // deletes it again if the file still leaves it out.
      try {
        if (forget) {
          m_journal.deleted(address);
        } else if (!destroying) {
          m_journal.failed(address, error);
        }
      } catch (const Error& e) {
        error += fmt::format(" (and {})", e.what());
      }
      if (forget) {
        remove(address);
      } else if (!destroying) {
        mark_failed(address);
      }
      p.event = ProgressEvent::failed;
      p.message = error;
      emit(p);
      std::lock_guard lock(m_result_mutex);
      m_result.failed.push_back({address, error});
      return false;
    }
    p.event = ProgressEvent::succeeded;
    emit(p);
    return true;
  }

  // The provider that made the object a replace destroys: the state's.
  std::string prior_provider(const std::string& address, const ResourceChange& change) {
    std::lock_guard lock(m_state_mutex);
    const ResourceState* r = recorded(address);
    return r != nullptr && !r->provider.empty() ? r->provider : change.provider;
  }

  ResourceState make_record(const ResourceChange& change, const providers::Remote& remote) {
    ResourceState r;
    r.address = change.address;
    r.kind = std::string(to_string(change.kind));
    r.provider = change.provider;
    r.remote_id = remote.remote_id;
    r.parent = change.parent;
    r.spec = change.after;
    r.observed = remote.observed.is_object() ? remote.observed : nlohmann::json::object();
    // What a cut-short update left behind has served its purpose.
    r.observed.erase(std::string(k_observed_interrupted_update));
    r.status = ResourceStatus::completed;
    r.dependencies = change.dependencies;
    r.created_at = now_rfc3339();
    r.updated_at = r.created_at;
    return r;
  }

  const Plan& m_plan;
  State& m_state;
  ProviderSet& m_providers;
  Journal& m_journal;
  const ApplyOptions& m_options;
  OperationGraph m_graph;

  std::mutex m_mutex;  // the walk: op states, ready queue
  std::condition_variable m_cv;
  std::deque<uint32_t> m_ready;
  std::vector<OpState> m_op_state;
  std::vector<uint32_t> m_waiting_on;
  size_t m_in_flight = 0;
  bool m_finished = false;

  std::mutex m_state_mutex;  // m_state, m_index, m_removed
  std::unordered_map<std::string, size_t> m_index;
  std::vector<bool> m_removed;

  std::mutex m_running_mutex;
  std::map<uint32_t, Running> m_running;

  std::mutex m_progress_mutex;
  std::mutex m_result_mutex;
  ApplyResult m_result;
};

} // namespace

ApplyResult apply_plan(const Plan& plan, State& state, ProviderSet& providers, Journal& journal,
                       const ApplyOptions& options) {
  Walk walk(plan, state, providers, journal, options);
  return walk.run();
}

std::string format_apply_summary(const ApplyResult& result, bool destroy) {
  std::string out;
  if (result.ok()) {
    if (destroy) {
      return fmt::format("Destroy complete! Resources: {} destroyed.\n", result.destroyed);
    }
    return fmt::format("Apply complete! Resources: {} added, {} changed, {} destroyed.\n",
                       result.added, result.changed, result.destroyed);
  }
  out += fmt::format("{} incomplete! Resources: {} added, {} changed, {} destroyed; {} failed, "
                     "{} skipped{}.\n",
                     destroy ? "Destroy" : "Apply", result.added, result.changed, result.destroyed,
                     result.failed.size(), result.skipped.size(),
                     result.not_started.empty()
                         ? ""
                         : fmt::format(", {} not started", result.not_started.size()));
  for (const auto& f : result.failed) {
    out += fmt::format("  failed:      {}: {}\n", f.address, f.message);
  }
  for (const auto& s : result.skipped) {
    out += fmt::format("  skipped:     {} (a resource it needs failed)\n", s);
  }
  for (const auto& s : result.not_started) {
    out += fmt::format("  not started: {} (interrupted)\n", s);
  }
  out += "What succeeded is recorded in the state; run the same command again to finish.\n";
  return out;
}

} // namespace stove
