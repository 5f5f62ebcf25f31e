#include "apply/engine.hpp"

#include "apply/runner.hpp"
#include "apply/scheduler.hpp"

#include "util/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <thread>

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

using Clock = InFlight::Clock;

// The walk: worker threads take what the scheduler says is ready, the
// runner carries each operation out, and a ticker reports what still runs.
class Walk {
public:
  Walk(const Plan& plan, State& state, ProviderSet& providers, Journal& journal,
       const ApplyOptions& options)
    : m_plan(plan), m_options(options), m_graph(build_operation_graph(plan.changes)),
      m_schedule(m_graph.dag), m_live(state),
      m_runner(m_live, providers, journal, options, m_in_flight,
               [this](const Progress& p) { emit(p); }) {}

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
    for (uint32_t op : m_schedule.unstarted()) {
      const auto& c = change_of(op);
      if (c.action != Action::no_op) {
        m_result.not_started.push_back(c.address);
      }
    }
    std::sort(m_result.not_started.begin(), m_result.not_started.end());
    m_result.not_started.erase(
        std::unique(m_result.not_started.begin(), m_result.not_started.end()),
        m_result.not_started.end());
    m_result.interrupted = stop_requested();
    m_live.compact();
    return std::move(m_result);
  }

private:
  const ResourceChange& change_of(uint32_t op) const {
    return m_plan.changes[m_graph.operations[op].change];
  }

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
        return m_schedule.has_ready() || m_schedule.running() == 0 || stop_requested();
      });
      if (stop_requested() || !m_schedule.has_ready()) {
        if (m_schedule.running() == 0 || stop_requested()) {
          m_cv.notify_all();
          return;
        }
        continue;
      }
      uint32_t op = *m_schedule.start_next();
      lock.unlock();
      OpOutcome outcome = m_runner.run(op, m_graph.operations[op], change_of(op));
      lock.lock();
      finish(op, outcome);
      m_cv.notify_all();
    }
  }

  // With the lock held: counts the outcome, and releases what waited on
  // `op` or skips it all.
  void finish(uint32_t op, const OpOutcome& outcome) {
    switch (outcome.counted) {
    case OpOutcome::Counted::added: ++m_result.added; break;
    case OpOutcome::Counted::changed: ++m_result.changed; break;
    case OpOutcome::Counted::destroyed: ++m_result.destroyed; break;
    case OpOutcome::Counted::none: break;
    }
    if (outcome.ok) {
      m_schedule.succeeded(op);
      return;
    }
    const ResourceChange& failed = change_of(op);
    const bool destroying = m_graph.operations[op].phase == Phase::destroy;
    m_result.failed.push_back(
        {destroying && !failed.previous_address.empty() ? failed.previous_address
                                                        : failed.address,
         outcome.error});
    for (uint32_t next : m_schedule.failed(op)) {
      const auto& c = change_of(next);
      if (c.action == Action::no_op) {
        continue;
      }
      m_result.skipped.push_back(c.address);
      Progress p;
      p.event = ProgressEvent::skipped;
      p.address = c.address;
      p.action = c.action;
      p.phase = m_graph.operations[next].phase;
      p.message = fmt::format("{} did not complete", failed.address);
      emit(p);
    }
  }

  void tick() {
    std::unique_lock lock(m_mutex);
    while (!m_finished) {
      m_cv.wait_for(lock, std::chrono::milliseconds(200));
      std::vector<Progress> due;
      auto now = Clock::now();
      for (auto& [op, entry] : m_in_flight.due(now, m_options.still_running_every)) {
        const auto& c = change_of(op);
        Progress p;
        p.event = ProgressEvent::still_running;
        p.address = c.address;
        p.action = c.action;
        p.phase = m_graph.operations[op].phase;
        p.elapsed = std::chrono::duration_cast<std::chrono::seconds>(now - entry.started);
        p.remote_id = entry.remote_id;
        p.message = entry.note;
        due.push_back(std::move(p));
      }
      lock.unlock();
      for (const auto& p : due) {
        emit(p);
      }
      lock.lock();
    }
  }

  const Plan& m_plan;
  const ApplyOptions& m_options;
  OperationGraph m_graph;

  std::mutex m_mutex;  // the walk: the scheduler, the result
  std::condition_variable m_cv;
  Scheduler m_schedule;
  bool m_finished = false;
  ApplyResult m_result;

  LiveState m_live;
  InFlight m_in_flight;
  std::mutex m_progress_mutex;
  OperationRunner m_runner;
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
