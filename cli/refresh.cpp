// `stove refresh FILE`: brings the state in line with the real objects,
// after showing what will change, under apply's approval rules. The cloud
// is only read.

#include "command.hpp"

#include "terminal.hpp"

#include "plan/inputs.hpp"
#include "plan/render.hpp"

#include <fmt/format.h>

#include <memory>

namespace stove {

namespace {

struct RefreshCommandOptions {
  std::string file;
  std::string state;
  bool auto_approve = false;
  int parallelism = 10;
  std::string lock_timeout = "0s";
};

// The refresh's findings are shown before the prompt.
class RefreshReporter final : public TerminalReporter {
public:
  using TerminalReporter::TerminalReporter;
  void report(const session::Event& event) override {
    if (event.type == session::EventType::refreshed) {
      if (event.drift->has_drift()) {
        print_out(render_drift(*event.drift, RenderOptions{m_context.color_stdout()}));
      }
      return;
    }
    TerminalReporter::report(event);
  }
};

int run_refresh(const RefreshCommandOptions& options, const Context& context) {
  check_parallelism(options.parallelism);
  RefreshReporter reporter(context);
  session::SessionOptions session_options;
  session_options.state_path =
      options.state.empty() ? default_state_path(options.file) : options.state;
  session_options.reporter = &reporter;
  session_options.lock_timeout = lock_timeout_option(options.lock_timeout);
  session_options.parallelism = options.parallelism;
  CommandSession session(std::move(session_options));
  session::AlwaysApprove approved;
  TerminalApprover prompt("run with --auto-approve");
  session::RefreshOutcome outcome = session->refresh(
      options.file, options.auto_approve ? static_cast<session::Approver&>(approved) : prompt);

  switch (outcome.status) {
  case session::RefreshStatus::invalid_file:
  case session::RefreshStatus::cancelled:
    return k_exit_error;
  case session::RefreshStatus::no_changes: {
    const DriftReport& report = outcome.report;
    std::string shown = render_drift(report, RenderOptions{context.color_stdout()});
    print_out(fmt::format("{}{}{}No changes.{} The state matches the {} Stove read.\n", shown,
                          shown.empty() ? "" : "\n", context.color_stdout() ? "\033[1m" : "",
                          context.color_stdout() ? "\033[0m" : "",
                          report.read == 1 ? std::string("1 object")
                                           : fmt::format("{} objects", report.read)));
    return k_exit_ok;
  }
  case session::RefreshStatus::recorded:
    break;
  }
  print_out(fmt::format("\nRefresh complete! State: {} updated, {} forgotten (deleted outside of "
                        "Stove).\n",
                        outcome.updated, outcome.forgotten));
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
