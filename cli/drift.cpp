// `stove drift FILE`: whether the real objects still match the state, and
// the state the file, for cron jobs and CI gates. Read-only: it never
// writes the state and never calls a mutating endpoint.

#include "command.hpp"

#include "terminal.hpp"

#include "util/error.hpp"
#include "plan/drift.hpp"
#include "plan/inputs.hpp"
#include "plan/plan.hpp"
#include "plan/render.hpp"

#include <fmt/format.h>

#include <memory>

namespace stove {

namespace {

// Exit codes, as man/stove-drift.1 documents them.
constexpr int k_exit_drift = 2;
constexpr int k_exit_unapplied = 3;

struct DriftOptions {
  std::string file;
  std::string state;
  std::vector<std::string> ignore;
  bool json = false;
  int parallelism = 10;
};

std::string plural(size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

// With --json, the report is the only output: notes are left out.
class DriftReporter final : public TerminalReporter {
public:
  DriftReporter(const Context& context, bool json) : TerminalReporter(context), m_json(json) {}
  void report(const session::Event& event) override {
    if (!(m_json && event.type == session::EventType::note)) {
      TerminalReporter::report(event);
    }
  }

private:
  bool m_json;
};

int run_drift(const DriftOptions& options, const Context& context) {
  check_parallelism(options.parallelism);
  auto ignored = parse_ignored_fields(options.ignore);
  std::string state_path = options.state.empty() ? default_state_path(options.file) : options.state;
  DriftReporter reporter(context, options.json);
  session::SessionOptions session_options;
  session_options.state_path = state_path;
  session_options.reporter = &reporter;
  session_options.parallelism = options.parallelism;
  CommandSession session(std::move(session_options));
  session::DriftOutcome outcome = session->drift({options.file, std::move(ignored)});
  if (!outcome.valid) {
    return k_exit_error;
  }
  const DriftReport& report = *outcome.report;
  const size_t recorded = outcome.recorded;
  const bool state_exists = outcome.state_exists;
  const PlanSummary unapplied = outcome.unapplied;
  // Large at scale: nothing is torn down before exit (10,000 resources
  // take ~0.2 s to free).
  keep_until_exit(std::move(outcome.report));
  keep_until_exit(std::move(outcome.inputs));
  keep_until_exit(std::move(outcome.plan));

  int code = k_exit_ok;
  std::string status = "in_sync";
  if (report.has_drift()) {
    code = k_exit_drift;
    status = "drift";
  } else if (unapplied.has_changes()) {
    code = k_exit_unapplied;
    status = "unapplied_changes";
  }

  if (options.json) {
    nlohmann::ordered_json out;
    out["format_version"] = 1;
    out["status"] = status;
    out["exit_code"] = code;
    out["state"] = {{"path", state_path}, {"exists", state_exists}};
    nlohmann::ordered_json body = drift_to_json(report);
    out["drift"] = std::move(body["drift"]);
    out["unmanaged"] = std::move(body["unmanaged"]);
    out["unapplied"] = {
        {"add", unapplied.add}, {"change", unapplied.change}, {"destroy", unapplied.destroy}};
    size_t deleted = 0;
    size_t incomplete = 0;
    for (const auto& d : report.drift) {
      deleted += d.deleted ? 1 : 0;
      incomplete += !d.deleted && !d.missing.empty() ? 1 : 0;
    }
    out["summary"] = {{"recorded", recorded},
                      {"read", report.read},
                      {"not_read", report.skipped},
                      {"changed", report.drift.size() - deleted - incomplete},
                      {"deleted", deleted},
                      {"incomplete", incomplete},
                      {"unmanaged", report.unmanaged.size()},
                      {"http_requests", report.http_requests}};
    print_out(out.dump(2) + "\n");
    return code;
  }

  std::string out = render_drift(report, RenderOptions{context.color_stdout()});
  out += out.empty() ? "" : "\n";
  if (report.has_drift()) {
    out += fmt::format(
        "Drift: {} of the {} objects in the state changed outside of Stove. `stove plan {}` "
        "shows how apply would put them back; `stove refresh {}` accepts them into the state "
        "instead.\n",
        report.drift.size(), recorded, options.file, options.file);
  } else {
    out += recorded == 0 ? fmt::format("No drift: the state ({}) records no objects.\n", state_path)
                         : fmt::format("No drift: the {} Stove read match the state.\n",
                                       plural(report.read, "object", "objects"));
    if (unapplied.has_changes()) {
      out += fmt::format("The file has changes not applied yet: {} to add, {} to change, {} to "
                         "destroy. `stove plan {}` shows them.\n",
                         unapplied.add, unapplied.change, unapplied.destroy, options.file);
    } else {
      out += "The file has no changes to apply.\n";
    }
  }
  if (report.skipped > 0) {
    out += fmt::format("Not read: {} whose create did not complete (apply finishes them).\n",
                       plural(report.skipped, "object", "objects"));
  }
  print_out(out);
  return code;
}

} // namespace

void set_drift_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<DriftOptions>();
  CLI::App* cmd = app.add_subcommand(
      "drift", "Check whether the real objects still match the state, and the state the file; "
               "changes nothing (for cron and CI)");
  cmd->add_option("FILE", options->file, "The infrastructure file (YAML or JSON)")->required();
  cmd->add_option("--state", options->state,
                  "The state file (default: state/<stem>.json under the current directory)")
      ->type_name("PATH");
  cmd->add_option("--ignore", options->ignore,
                  "Do not report drift in FIELD (`memory`, or `machine.memory` for one kind); "
                  "repeatable")
      ->type_name("FIELD");
  cmd->add_flag("--json", options->json, "Print the report as JSON (documented in stove-drift(1))");
  cmd->add_option("--parallelism", options->parallelism,
                  "Provider listings in flight at once (default 10)")
      ->type_name("N");
  cmd->footer("Never writes the state and never calls a mutating endpoint.\nExit status: 0 in "
              "sync, 2 drift found, 3 no drift but the file has unapplied changes, 1 error.");
  context.on_run(cmd, [options, &context] { return run_drift(*options, context); });
}

} // namespace stove
