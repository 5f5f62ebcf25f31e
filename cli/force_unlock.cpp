// `stove force-unlock LOCK_ID`: clears the lock record a dead process left.

#include "command.hpp"

#include "session/session.hpp"

#include <fmt/format.h>

#include <memory>

namespace stove {

namespace {

struct ForceUnlockOptions {
  std::string id;
  StateChoice choice;
};

int run_force_unlock(const ForceUnlockOptions& options) {
  std::string path = chosen_state_path(options.choice);
  session::Unlocked unlocked = session::force_unlock_state(path, options.id);
  const LockInfo& cleared = unlocked.cleared;
  print_out(fmt::format("Released lock {} of {}: it was taken by pid {} on host {} (user {}) for "
                        "\"{}\" since {}, which has ended without releasing it.\n",
                        cleared.id, path, cleared.pid, cleared.host, cleared.user,
                        cleared.operation, cleared.created_at));
  if (!unlocked.journal.empty()) {
    print_note(fmt::format("{} holds what that run did: the next apply, destroy, exec, state rm "
                           "or state mv folds it into the state",
                           unlocked.journal));
  }
  return k_exit_ok;
}

} // namespace

void set_force_unlock_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<ForceUnlockOptions>();
  CLI::App* cmd = app.add_subcommand(
      "force-unlock",
      "Clear the state lock record left by a stove that ended without releasing it");
  cmd->add_option("LOCK_ID", options->id,
                  "The lock's id, as the lock record (STATE.lock) and lock errors show it")
      ->required();
  add_state_choice(*cmd, options->choice);
  cmd->get_option("--state")->description("The state file whose lock to clear");
  cmd->footer("A running holder keeps its lock: force-unlock refuses it, and the lock is released "
              "when that process exits.\nExit status: 0 the record was cleared, 1 error (no lock, "
              "another id, a running holder, ...).");
  context.on_run(cmd, [options] { return run_force_unlock(*options); });
}

} // namespace stove
