#pragma once

// Carries out one operation of an apply (ninja's Builder, beside the
// scheduler's Plan): finds its adapter, calls create, update or destroy,
// writes the journal before and after the call, keeps the live state in
// step, and says how it went. What runs next is the scheduler's business
// (apply/scheduler.hpp); the threads are the engine's (apply/engine.cpp).

#include "apply/engine.hpp"
#include "apply/live_state.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace stove {

// The operations in flight, for "Still creating... [10s elapsed]": when
// each started, its remote id once known, and the adapter's last note.
class InFlight {
public:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    Clock::time_point started;
    Clock::time_point last_report;
    std::string remote_id;
    std::string note;
  };
  void start(uint32_t op, Clock::time_point started, std::string remote_id);
  void set_note(uint32_t op, std::string note);
  void set_remote_id(uint32_t op, std::string remote_id);
  void finish(uint32_t op);
  // The operations last reported `every` ago or longer, now marked
  // reported, with what they show.
  std::vector<std::pair<uint32_t, Entry>> due(Clock::time_point now, Clock::duration every);

private:
  std::mutex m_mutex;
  std::map<uint32_t, Entry> m_entries;
};

// What an operation came to.
struct OpOutcome {
  enum class Counted : uint8_t { none, added, changed, destroyed };
  bool ok = true;
  Counted counted = Counted::none;
  std::string error;  // when !ok: the failure, as the summary shows it
};

class OperationRunner {
public:
  OperationRunner(LiveState& live, ProviderSet& providers, Journal& journal,
                  const ApplyOptions& options, InFlight& in_flight,
                  std::function<void(const Progress&)> emit);

  // Runs operation `op` (`operation` of the plan's `change`). Reports its
  // start and its end through `emit`; never throws.
  OpOutcome run(uint32_t op, const Operation& operation, const ResourceChange& change);

private:
  struct Step;
  LiveState& m_live;
  ProviderSet& m_providers;
  Journal& m_journal;
  const ApplyOptions& m_options;
  InFlight& m_in_flight;
  std::function<void(const Progress&)> m_emit;

  OpOutcome::Counted call(Step& step);
  OpOutcome::Counted destroy(Step& step, providers::KindAdapter& adapter);
  OpOutcome::Counted update(Step& step, providers::KindAdapter& adapter);
  OpOutcome::Counted create(Step& step, providers::KindAdapter& adapter);
  std::string record_failure(const Step& step, std::string error, bool nothing_created);
};

} // namespace stove
