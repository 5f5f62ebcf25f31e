#include "command.hpp"

#include "terminal.hpp"

#include "plan/inputs.hpp"
#include "plan/plan.hpp"
#include "plan/plan_file.hpp"
#include "plan/render.hpp"

#include <fmt/format.h>

#include <memory>

namespace stove {

namespace {

struct PlanOptions {
  std::string file;
  std::string state;
  std::string out;
  bool json = false;
  bool detailed_exitcode = false;
  bool refresh = true;
  int parallelism = 10;
};

int run_plan(const PlanOptions& options, const Context& context) {
  check_parallelism(options.parallelism);
  std::string state_path = options.state.empty() ? default_state_path(options.file)
                                                 : options.state;
  TerminalReporter reporter(context);
  session::SessionOptions session_options;
  session_options.state_path = state_path;
  session_options.reporter = &reporter;
  session_options.parallelism = options.parallelism;
  CommandSession session(std::move(session_options));
  session::PlanRequest request;
  request.file = options.file;
  request.refresh = options.refresh;
  request.refresh_hint =
      "(`stove plan --refresh=false` plans from the state alone, calling no provider)";
  session::PlanOutcome outcome = session->plan(request);
  if (!outcome.valid) {
    return k_exit_error;
  }
  const Plan& plan = *outcome.plan;
  // Large at scale: nothing is torn down before exit.
  keep_until_exit(std::move(outcome.inputs));
  keep_until_exit(std::move(outcome.plan));

  if (options.json) {
    print_out(plan_to_json(plan).dump(2) + "\n");
  } else {
    std::string drifted = render_drift(plan.drift, RenderOptions{context.color_stdout()});
    print_out(drifted.empty() ? render_plan(plan, RenderOptions{context.color_stdout()})
                              : fmt::format("{}\n{}", drifted,
                                            render_plan(plan, RenderOptions{context.color_stdout()})));
    if (plan.drift.has_drift() && !plan.summary().has_changes()) {
      print_out("\nThe file already says what changed outside of Stove; `stove apply` or "
                "`stove refresh` records it in the state.\n");
    }
  }
  if (!options.out.empty()) {
    save_plan(options.out, plan);
    if (!options.json) {
      print_out(fmt::format("\nSaved the plan to {}. To carry it out exactly, run: stove apply "
                            "{}\n",
                            options.out, options.out));
    }
  }
  if (options.detailed_exitcode && plan.summary().has_changes()) {
    return k_exit_changes;
  }
  return k_exit_ok;
}

} // namespace

void set_plan_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<PlanOptions>();
  CLI::App* cmd = app.add_subcommand(
      "plan", "Show what changed outside of Stove and what would change to make the cloud "
              "match the file; changes nothing");
  cmd->add_option("FILE", options->file, "The infrastructure file (YAML or JSON)")->required();
  cmd->add_option("--state", options->state,
                  "The state file (default: state/<stem>.json under the current directory)")
      ->type_name("PATH");
  cmd->add_option("--out", options->out,
                  "Also save the plan to FILE, for `stove show` and `stove apply` (alias: -out)")
      ->type_name("FILE");
  cmd->add_flag("--json", options->json, "Print the plan as JSON (documented in stove-plan(1))");
  cmd->add_option("--refresh", options->refresh,
                  "Read every object the state records from its provider first, and plan "
                  "from what is really there (default true; --refresh=false plans from the "
                  "state alone, with no provider call)")
      ->type_name("BOOL");
  cmd->add_option("--parallelism", options->parallelism,
                  "Provider listings in flight at once while refreshing (default 10)")
      ->type_name("N");
  cmd->add_flag("--detailed-exitcode", options->detailed_exitcode,
                "Exit 2 when the plan has changes, 0 when it has none, 1 on error");
  cmd->footer("Exit status: 0 success (with --detailed-exitcode: no changes), 1 error, "
              "2 changes present (with --detailed-exitcode).");
  context.on_run(cmd, [options, &context] { return run_plan(*options, context); });
}

} // namespace stove
