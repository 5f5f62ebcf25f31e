#include "command.hpp"

#include "plan/plan_file.hpp"
#include "plan/render.hpp"

#include <fmt/format.h>

#include <memory>

namespace stove {

namespace {

struct ShowOptions {
  std::string file;
  bool json = false;
};

int run_show(const ShowOptions& options, const Context& context) {
  Plan plan = load_plan(options.file);
  if (options.json) {
    print_out(plan_to_json(plan).dump(2) + "\n");
    return k_exit_ok;
  }
  print_out(fmt::format("Saved plan for {}, made against {} ({}).\n\n", plan.config_path,
                        plan.state_path,
                        plan.state_existed
                            ? fmt::format("serial {}, lineage {}", plan.state_serial,
                                          plan.state_lineage)
                            : std::string("no state yet")));
  std::string drifted = render_drift(plan.drift, RenderOptions{context.color_stdout()});
  print_out(drifted.empty() ? std::string() : fmt::format("{}\n", drifted));
  print_out(render_plan(plan, RenderOptions{context.color_stdout()}));
  return k_exit_ok;
}

} // namespace

void set_show_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<ShowOptions>();
  CLI::App* cmd = app.add_subcommand("show", "Render a plan saved with `stove plan --out FILE`");
  cmd->add_option("PLANFILE", options->file, "The saved plan")->required();
  cmd->add_flag("--json", options->json, "Print the saved plan as JSON");
  cmd->footer("Exit status: 0 success, 1 error (for example, a file that is not a saved plan).");
  context.on_run(cmd, [options, &context] { return run_show(*options, context); });
}

} // namespace stove
