#include "command.hpp"

#include "apply/refresh.hpp"
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
  auto inputs = std::make_unique<Inputs>(load_inputs(options.file, state_path));
  if (report_diagnostics(*inputs, context)) {
    return k_exit_error;
  }
  if (inputs->journal.found) {
    print_note(fmt::format("{}.journal holds {} step(s) of an interrupted apply; this plan counts "
                           "them, and the next apply records them in the state",
                           state_path, inputs->journal.records));
  }
  if (inputs->config.implicit_sandbox) {
    print_note("the file declares no providers: using the embedded sandbox cloud");
  }
  // Refresh: what the objects are now, folded into the state in memory so
  // that the plan puts back what changed outside of stove. Nothing is
  // written.
  DriftReport drift;
  std::unique_ptr<CommandProviders> providers;
  if (options.refresh) {
    providers = std::make_unique<CommandProviders>(state_path, inputs->config.providers,
                                                   static_cast<size_t>(options.parallelism));
    drift = refresh_inputs(*inputs, *providers, options.parallelism, {},
                           "(`stove plan --refresh=false` plans from the state alone, calling no "
                           "provider)");
    apply_refresh(inputs->state, drift);
  }
  auto owned_plan = std::make_unique<Plan>(
      make_plan(std::move(inputs->config), std::move(inputs->state), state_path));
  owned_plan->refreshed = options.refresh;
  owned_plan->drift = std::move(drift);
  const Plan& plan = *owned_plan;
  keep_until_exit(std::move(inputs));
  keep_until_exit(std::move(owned_plan));

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
