// `stove apply` and `stove destroy`: plan (or load a saved plan), ask, and
// carry the plan out through the providers.

#include "command.hpp"

#include "apply/engine.hpp"
#include "apply/refresh.hpp"
#include "http/client.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"
#include "plan/inputs.hpp"
#include "plan/plan.hpp"
#include "plan/plan_file.hpp"
#include "plan/render.hpp"
#include "providers/provider.hpp"
#include "state/journal.hpp"
#include "state/lock.hpp"
#include "state/statefile.hpp"

#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <unistd.h>

namespace stove {

namespace {

struct ApplyCommandOptions {
  std::string file;  // infrastructure file, or a saved plan (apply only)
  std::string state;
  bool auto_approve = false;
  int parallelism = 10;
  bool refresh = true;
  std::string lock_timeout = "0s";
  std::string operation_timeout = "30m";
};

// Ctrl-C: the first stops new operations, the second abandons those in
// flight. Only async-signal-safe work happens in the handler.
std::atomic<bool> g_stop{false};
http::CancelToken g_cancel;
std::atomic<int> g_interrupts{0};

void on_interrupt(int) {
  int n = ++g_interrupts;
  if (n == 1) {
    g_stop.store(true);
    static constexpr char k_first[] =
        "\nInterrupt received: starting nothing new, waiting for the operations in flight to "
        "finish (press Ctrl-C again to abandon them).\n";
    [[maybe_unused]] auto r = ::write(STDERR_FILENO, k_first, sizeof k_first - 1);
  } else {
    g_cancel.cancel();
    static constexpr char k_second[] =
        "\nSecond interrupt: abandoning the operations in flight; saving what is known.\n";
    [[maybe_unused]] auto r = ::write(STDERR_FILENO, k_second, sizeof k_second - 1);
  }
}

// A saved plan is a JSON object with format_version and resource_changes;
// an infrastructure file never has resource_changes.
bool looks_like_saved_plan(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return false;
  }
  char head[4096];
  in.read(head, sizeof head);
  std::string_view text(head, static_cast<size_t>(in.gcount()));
  size_t first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{' &&
         text.find("\"resource_changes\"") != std::string_view::npos;
}

std::chrono::milliseconds duration_option(const std::string& text, std::string_view flag) {
  auto d = parse_duration(text);
  if (!d) {
    throw Error(ErrorKind::usage,
                fmt::format("{} {}: not a duration (examples: 0, 500ms, 30s, 5m, 1h)", flag, text));
  }
  return *d;
}

bool ask_for_approval(bool destroy) {
  return answered_yes(destroy ? "\nDo you really want to destroy all resources?\n"
                      "  Stove will destroy everything it manages in this state. There is no "
                      "undo.\n  Only 'yes' will be accepted to confirm.\n\n  Enter a value: "
                    : "\nDo you want to perform these actions?\n"
                      "  Stove will perform the actions described above.\n"
                      "  Only 'yes' will be accepted to approve.\n\n  Enter a value: ");
}

int run_apply(const ApplyCommandOptions& options, const Context& context, bool destroy) {
  check_parallelism(options.parallelism);
  const auto lock_timeout = duration_option(options.lock_timeout, "--lock-timeout");
  const auto operation_timeout = duration_option(options.operation_timeout, "--timeout");
  const bool saved = !destroy && looks_like_saved_plan(options.file);
  const char* verb = destroy ? "destroy" : "apply";

  // The saved plan names its state; --state overrides it.
  std::unique_ptr<Plan> saved_plan;
  std::string state_path = options.state;
  if (saved) {
    saved_plan = std::make_unique<Plan>(load_plan(options.file));
    if (state_path.empty()) {
      state_path = saved_plan->state_path;
    }
  } else if (state_path.empty()) {
    state_path = default_state_path(options.file);
  }

  StateLock lock = StateLock::acquire(state_path, verb, lock_timeout);

  // The state as it is, with the journal of an interrupted run folded in
  // and written back first, so that what that run did is never lost.
  std::unique_ptr<Inputs> inputs;
  State state;
  if (saved) {
    state = load_state(state_path);
    ReplayResult replay = replay_journal(state_path, state);
    if (replay.found) {
      save_recovered_state(state_path, state, replay.records);
    }
  } else {
    inputs = std::make_unique<Inputs>(load_inputs(options.file, state_path));
    if (report_diagnostics(*inputs, context)) {
      return k_exit_error;
    }
    if (inputs->journal.found) {
      save_recovered_state(state_path, inputs->state, inputs->journal.records);
    }
    if (inputs->config.implicit_sandbox) {
      print_note("the file declares no providers: using the embedded sandbox cloud");
    }
  }

  // Providers: the embedded sandbox stands in for `sandbox` endpoints.
  CommandProviders command_providers(state_path,
                                     saved ? saved_plan->providers : inputs->config.providers,
                                     static_cast<size_t>(options.parallelism));
  ProviderSet& provider_set = command_providers.set();

  // Refresh: the plan starts from what the objects are now. A saved plan
  // carries what its own refresh found, and folds that in again.
  Plan plan;
  if (saved) {
    check_plan_is_current(*saved_plan, state);
    plan = std::move(*saved_plan);
    apply_refresh(state, plan.drift);
  } else {
    DriftReport drift;
    if (options.refresh) {
      drift = refresh_inputs(*inputs, command_providers, options.parallelism, {},
                             fmt::format("(`stove {} --refresh=false` skips the refresh)", verb));
      apply_refresh(inputs->state, drift);
    }
    state = inputs->state;
    plan = destroy ? make_destroy_plan(inputs->config, std::move(inputs->state), state_path)
                   : make_plan(inputs->config, inputs->state, state_path);
    plan.refreshed = options.refresh;
    plan.drift = std::move(drift);
  }

  std::string drifted = render_drift(plan.drift, RenderOptions{context.color_stdout()});
  print_out(drifted.empty() ? std::string() : fmt::format("{}\n", drifted));
  print_out(render_plan(plan, RenderOptions{context.color_stdout()}));
  if (!plan.summary().has_changes()) {
    if (plan.drift.has_drift()) {
      // Nothing to change in the cloud, but the state learns what the
      // refresh found (the file already says what the objects now are).
      write_state(state_path, state);
      print_out(fmt::format("\nThe state now records the {} change{} made outside of Stove.\n",
                            plan.drift.drift.size(), plan.drift.drift.size() == 1 ? "" : "s"));
    }
    return k_exit_ok;
  }
  if (!saved && !options.auto_approve) {
    if (::isatty(STDIN_FILENO) != 1) {
      throw Error(ErrorKind::usage,
                  fmt::format("{} needs approval and standard input is not a terminal: nothing "
                              "was changed; run with --auto-approve, or save a plan with "
                              "`stove plan --out FILE` and run `stove apply FILE`",
                              verb));
    }
    if (!ask_for_approval(destroy)) {
      print_out(fmt::format("\n{} cancelled: nothing was changed.\n",
                            destroy ? "Destroy" : "Apply"));
      return k_exit_error;
    }
  }
  print_out("\n");

  Journal journal(state_path);
  journal.begin(state, verb);
  InterruptHandlers handlers(on_interrupt);
  ApplyOptions apply_options;
  apply_options.parallelism = options.parallelism;
  apply_options.operation_timeout = operation_timeout;
  apply_options.stop = &g_stop;
  apply_options.cancel = &g_cancel;
  apply_options.on_progress = [](const Progress& progress) {
    print_out(format_progress(progress) + "\n");
  };
  ApplyResult result = apply_plan(plan, state, provider_set, journal, apply_options);

  // Compaction: one write of the state, then the journal can go.
  write_state(state_path, state);
  journal.remove();

  print_out("\n" + format_apply_summary(result, destroy));
  if (http::log_level() >= http::LogLevel::debug) {
    auto stats = provider_set.stats();
    print_err(fmt::format("stove: debug: {} HTTP request(s), {} retried\n", stats.requests,
                          stats.retries));
  }
  return result.ok() ? k_exit_ok : k_exit_error;
}

void add_common_options(CLI::App* cmd, ApplyCommandOptions& options) {
  cmd->add_option("--state", options.state,
                  "The state file (default: state/<stem>.json under the current directory, or "
                  "the one a saved plan names)")
      ->type_name("PATH");
  cmd->add_flag("--auto-approve", options.auto_approve,
                "Do not ask for confirmation (needed when standard input is not a terminal)");
  cmd->add_option("--parallelism", options.parallelism,
                  "Operations in flight at once (default 10); also caps each provider's "
                  "concurrent HTTP calls")
      ->type_name("N");
  cmd->add_option("--refresh", options.refresh,
                  "Read every object the state records from its provider before planning "
                  "(default true; --refresh=false plans from the state alone)")
      ->type_name("BOOL");
  cmd->add_option("--lock-timeout", options.lock_timeout,
                  "Wait up to DURATION for another stove to release the state lock (default 0s: "
                  "fail at once)")
      ->type_name("DURATION");
  cmd->add_option("--timeout", options.operation_timeout,
                  "Longest one operation (a create with its polling) may take (default 30m)")
      ->type_name("DURATION");
}

} // namespace

void set_apply_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<ApplyCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "apply", "Make the cloud match the file: plan, ask, then create, update and delete");
  cmd->add_option("FILE", options->file,
                  "The infrastructure file (YAML or JSON), or a plan saved by `stove plan --out`")
      ->required();
  add_common_options(cmd, *options);
  cmd->footer("A saved plan is applied without a prompt, and only if the state has not changed "
              "since it was made.\nExit status: 0 success or nothing to do, 1 error or any "
              "operation failed (what succeeded is recorded; run again to finish).");
  context.on_run(cmd, [options, &context] { return run_apply(*options, context, false); });
}

void set_destroy_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<ApplyCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "destroy", "Delete everything the state manages for the file, children first");
  cmd->add_option("FILE", options->file, "The infrastructure file (YAML or JSON)")->required();
  add_common_options(cmd, *options);
  cmd->footer("lifecycle.prevent_destroy in the file blocks it.\nExit status: 0 success or "
              "nothing to destroy, 1 error or any operation failed.");
  context.on_run(cmd, [options, &context] { return run_apply(*options, context, true); });
}

} // namespace stove
