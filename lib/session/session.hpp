#pragma once

// A session owns one run against one state: it takes the lock, folds in
// the journal an interrupted run left, makes the providers, refreshes,
// plans, asks its approver, applies and saves. Every command is one call
// here; what happens is told to a Reporter, and yes or no comes from an
// Approver, so that a terminal, CI and a service drive the same workflow.

#include "apply/engine.hpp"
#include "apply/execute.hpp"
#include "apply/import.hpp"
#include "http/client.hpp"
#include "model/address.hpp"
#include "plan/drift.hpp"
#include "plan/inputs.hpp"
#include "plan/plan.hpp"
#include "providers/provider.hpp"
#include "session/approver.hpp"
#include "session/reporter.hpp"
#include "state/lock.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stove::session {

// Makes the provider behind one configuration. The default is
// providers::make_provider; the command line's also starts the embedded
// sandbox for `sandbox` endpoints.
using ProviderFactory = std::function<std::unique_ptr<providers::Provider>(
    const ProviderConfig&, const providers::ProviderOptions&)>;

struct SessionOptions {
  std::string state_path;
  Reporter* reporter = nullptr;  // required
  ProviderFactory make_provider; // empty: providers::make_provider
  // How long to wait for another run to release the state lock.
  std::chrono::milliseconds lock_timeout{0};
  // Operations (and refresh listings) in flight at once; also caps each
  // provider's concurrent HTTP calls. 0: the HTTP client's default cap.
  int parallelism = 10;
  // Interrupts: `stop` starts nothing new, `cancel` abandons calls in
  // flight. `changing(true)` is called just before the first change (or
  // action) and `changing(false)` after the last: the command line installs
  // its signal handlers there.
  const std::atomic<bool>* stop = nullptr;
  const http::CancelToken* cancel = nullptr;
  std::function<void(bool)> changing;
};

// plan: read-only; no lock, nothing written.
struct PlanRequest {
  std::string file;
  bool refresh = true;
  std::string refresh_hint; // added to a failed refresh's error
};
struct PlanOutcome {
  bool valid = false;              // false: the file had errors (reported)
  std::unique_ptr<Inputs> inputs;  // what is left of them (large: keep, do not free)
  std::unique_ptr<Plan> plan;
};

// apply and destroy, from the file or from a saved plan.
struct ApplyRequest {
  std::string file;                // the infrastructure file, unless `saved`
  std::unique_ptr<Plan> saved;     // a plan saved by `stove plan --out`
  bool destroy = false;
  bool refresh = true;
  std::chrono::milliseconds operation_timeout{std::chrono::minutes(30)};
};
enum class ApplyStatus : uint8_t { invalid_file, no_changes, cancelled, applied };
struct ApplyOutcome {
  ApplyStatus status = ApplyStatus::invalid_file;
  Plan plan;
  ApplyResult result;
  bool ok() const { return status == ApplyStatus::no_changes || (status == ApplyStatus::applied && result.ok()); }
};

// refresh: the state learns what the objects are; the cloud is only read.
enum class RefreshStatus : uint8_t { invalid_file, no_changes, cancelled, recorded };
struct RefreshOutcome {
  RefreshStatus status = RefreshStatus::invalid_file;
  DriftReport report;
  size_t updated = 0;
  size_t forgotten = 0;
};

// drift: read-only.
struct DriftRequest {
  std::string file;
  std::map<Kind, std::vector<std::string>> ignored;
};
struct DriftOutcome {
  bool valid = false;
  std::unique_ptr<DriftReport> report;
  PlanSummary unapplied;
  size_t recorded = 0;       // records in the state
  bool state_exists = false;
  std::unique_ptr<Inputs> inputs; // what the plan left of them (large: the caller decides
  std::unique_ptr<Plan> plan;     // when to free them)
};

// exec: one action on one resource the state holds.
struct ExecRequest {
  std::string file;
  Address address;
  const ActionSchema* action = nullptr;
  nlohmann::json params;
  std::chrono::milliseconds timeout{std::chrono::minutes(30)};
};
struct ExecOutcome {
  bool valid = false;
  ExecResult result;
  nlohmann::json observed;  // the resource's observed attributes after
  uint64_t serial = 0;      // the state's serial after
};

// import: binds an existing object to a resource the file declares.
struct ImportOutcome {
  bool valid = false;
  ImportResult result;
};

class Session {
public:
  explicit Session(SessionOptions options);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  PlanOutcome plan(const PlanRequest& request);
  ApplyOutcome apply(ApplyRequest request, Approver& approver);
  RefreshOutcome refresh(const std::string& file, Approver& approver);
  DriftOutcome drift(const DriftRequest& request);
  ExecOutcome exec(const ExecRequest& request);
  ImportOutcome import(const std::string& file, const Address& address,
                       const std::string& remote_id);
  // Changes the state under the lock, the journal of an interrupted run
  // folded in first (and saved on its own, so that PATH.backup holds it).
  // `edit` changes the state it is given or throws; then nothing is written.
  void edit_state(const std::string& operation, const std::function<void(State&)>& edit);

  // HTTP requests made by the providers so far.
  http::Stats stats() const;

private:
  struct Loaded;
  std::optional<StateLock> m_lock;
  SessionOptions m_options;
  std::unique_ptr<ProviderSet> m_providers;

  void note(std::string text) const;
  void emit(Event event) const;
  void take_lock(const std::string& operation);
  void require_file(const std::string& file) const;
  void require_state(std::string_view why) const;
  enum class Recovery : uint8_t { save, mention, quiet };
  std::unique_ptr<Inputs> load(const std::string& file);
  void recover(Inputs& inputs, Recovery recovery);
  void sandbox_note(const Inputs& inputs) const;
  void save_recovered(State& state, size_t records);
  ProviderSet& providers(const std::vector<ProviderConfig>& configs);
  DriftReport refresh_inputs(const Inputs& inputs,
                             const std::map<Kind, std::vector<std::string>>& ignored,
                             std::string_view hint);
  Plan plan_for_apply(ApplyRequest& request, State& state, ApplyStatus& status);
  ApplyResult run_plan(const Plan& plan, State& state, bool destroy,
                       std::chrono::milliseconds operation_timeout);
};

// Clears the lock record a run left when it ended without releasing it.
// Returns what the record said, and whether that run left a journal.
struct Unlocked {
  LockInfo cleared;
  std::string journal; // the journal that run left, if any
};
Unlocked force_unlock_state(const std::string& state_path, const std::string& id);

} // namespace stove::session
