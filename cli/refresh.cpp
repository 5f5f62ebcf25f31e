// `stove refresh FILE`: brings the state in line with the real objects,
// after showing what will change, under apply's approval rules. The cloud
// is only read.

#include "command.hpp"

#include "apply/refresh.hpp"
#include "util/error.hpp"
#include "plan/inputs.hpp"
#include "plan/render.hpp"
#include "state/journal.hpp"
#include "state/lock.hpp"
#include "state/statefile.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <unistd.h>

namespace stove {

namespace {

struct RefreshCommandOptions {
  std::string file;
  std::string state;
  bool auto_approve = false;
  int parallelism = 10;
  std::string lock_timeout = "0s";
};

bool ask_for_approval() {
  return answered_yes(
      "\nDo you want to update the state to match?\n"
      "  Stove will record the changes above in the state; the cloud is not changed.\n"
      "  Only 'yes' will be accepted to approve.\n\n  Enter a value: ");
}

int run_refresh(const RefreshCommandOptions& options, const Context& context) {
  check_parallelism(options.parallelism);
  const auto lock_timeout = lock_timeout_option(options.lock_timeout);
  std::string state_path = options.state.empty() ? default_state_path(options.file) : options.state;
  std::error_code ec;
  if (!std::filesystem::exists(options.file, ec)) {
    throw Error(ErrorKind::io,
                fmt::format("{}: cannot read: No such file or directory", options.file));
  }
  if (!std::filesystem::exists(state_path, ec) &&
      !std::filesystem::exists(journal_path_for(state_path), ec)) {
    throw Error(ErrorKind::state,
                fmt::format("{}: no such state file; there is nothing to refresh", state_path));
  }
  StateLock lock = StateLock::acquire(state_path, "refresh", lock_timeout);
  auto inputs = std::make_unique<Inputs>(load_inputs(options.file, state_path));
  if (report_diagnostics(*inputs, context)) {
    return k_exit_error;
  }
  if (inputs->journal.found) {
    save_recovered_state(state_path, inputs->state, inputs->journal.records);
  }
  if (inputs->config.implicit_sandbox) {
    print_note("the file declares no providers: using the embedded sandbox cloud");
  }

  CommandProviders providers(state_path, inputs->config.providers,
                             static_cast<size_t>(options.parallelism));
  DriftReport report = refresh_inputs(*inputs, providers, options.parallelism);
  std::string shown = render_drift(report, RenderOptions{context.color_stdout()});
  if (!report.has_drift()) {
    print_out(fmt::format("{}{}{}No changes.{} The state matches the {} Stove read.\n", shown,
                          shown.empty() ? "" : "\n", context.color_stdout() ? "\033[1m" : "",
                          context.color_stdout() ? "\033[0m" : "",
                          report.read == 1 ? std::string("1 object")
                                           : fmt::format("{} objects", report.read)));
    return k_exit_ok;
  }
  print_out(shown);
  if (!options.auto_approve) {
    if (::isatty(STDIN_FILENO) != 1) {
      throw Error(ErrorKind::usage,
                  "refresh needs approval and standard input is not a terminal: nothing was "
                  "changed; run with --auto-approve");
    }
    if (!ask_for_approval()) {
      print_out("\nRefresh cancelled: nothing was changed.\n");
      return k_exit_error;
    }
  }
  size_t deleted = 0;
  for (const auto& d : report.drift) {
    deleted += d.deleted ? 1 : 0;
  }
  apply_refresh(inputs->state, report);
  write_state(state_path, inputs->state);
  print_out(fmt::format("\nRefresh complete! State: {} updated, {} forgotten (deleted outside of "
                        "Stove).\n",
                        report.drift.size() - deleted, deleted));
  return k_exit_ok;
}

} // namespace

void set_refresh_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<RefreshCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "refresh", "Update the state to match the real objects, after showing what changed "
                 "outside of Stove; the cloud is only read");
  cmd->add_option("FILE", options->file, "The infrastructure file (YAML or JSON)")->required();
  cmd->add_option("--state", options->state,
                  "The state file (default: state/<stem>.json under the current directory)")
      ->type_name("PATH");
  cmd->add_flag("--auto-approve", options->auto_approve,
                "Do not ask for confirmation (needed when standard input is not a terminal)");
  cmd->add_option("--parallelism", options->parallelism,
                  "Provider listings in flight at once (default 10)")
      ->type_name("N");
  cmd->add_option("--lock-timeout", options->lock_timeout,
                  "Wait up to DURATION for another stove to release the state lock (default 0s: "
                  "fail at once)")
      ->type_name("DURATION");
  cmd->footer("Drifted attributes take their real values; objects deleted outside of Stove are "
              "forgotten. The previous state is kept in PATH.backup.\nExit status: 0 success or "
              "nothing to do, 1 error or cancelled.");
  context.on_run(cmd, [options, &context] { return run_refresh(*options, context); });
}

} // namespace stove
