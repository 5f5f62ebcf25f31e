// `stove apply` and `stove destroy`: plan (or load a saved plan), ask, and
// carry the plan out through the providers.

#include "command.hpp"

#include "json_events.hpp"
#include "terminal.hpp"

#include "http/client.hpp"
#include "plan/inputs.hpp"
#include "plan/plan_file.hpp"
#include "session/session.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"

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
  bool json = false;
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

int exit_code(const session::ApplyOutcome& outcome) {
  switch (outcome.status) {
  case session::ApplyStatus::no_changes:
    return k_exit_ok;
  case session::ApplyStatus::applied:
    return outcome.result.ok() ? k_exit_ok : k_exit_error;
  case session::ApplyStatus::invalid_file:
  case session::ApplyStatus::cancelled:
    break;
  }
  return k_exit_error;
}

int run_apply(const ApplyCommandOptions& options, const Context& context, bool destroy) {
  check_parallelism(options.parallelism);
  session::ApplyRequest request;
  request.destroy = destroy;
  request.refresh = options.refresh;
  request.operation_timeout = duration_option(options.operation_timeout, "--timeout");
  const char* verb = destroy ? "destroy" : "apply";

  // The saved plan names its state; --state overrides it.
  std::string state_path = options.state;
  if (!destroy && looks_like_saved_plan(options.file)) {
    request.saved = std::make_unique<Plan>(load_plan(options.file));
    state_path = state_path.empty() ? request.saved->state_path : state_path;
  } else {
    request.file = options.file;
    state_path = state_path.empty() ? default_state_path(options.file) : state_path;
  }
  if (options.json && !options.auto_approve && !request.saved) {
    throw Error(ErrorKind::usage,
                fmt::format("{} --json cannot ask for approval: nothing was changed; add "
                            "--auto-approve, or apply a plan saved with `stove plan --out FILE`",
                            verb));
  }

  TerminalReporter terminal(context);
  JsonReporter json(verb);
  session::SessionOptions session_options;
  session_options.state_path = state_path;
  session_options.reporter = options.json ? static_cast<session::Reporter*>(&json) : &terminal;
  session_options.lock_timeout = duration_option(options.lock_timeout, "--lock-timeout");
  session_options.parallelism = options.parallelism;
  session_options.stop = &g_stop;
  session_options.cancel = &g_cancel;
  session_options.changing = interrupt_guard(on_interrupt);
  CommandSession session(std::move(session_options));

  session::AlwaysApprove approved;
  TerminalApprover prompt(fmt::format(
      "run with --auto-approve, or save a plan with `stove plan --out FILE` and run "
      "`stove apply FILE`"));
  session::Approver& approver =
      options.auto_approve || request.saved ? static_cast<session::Approver&>(approved) : prompt;
  if (options.json) {
    json.begin();
  }
  session::ApplyOutcome outcome;
  try {
    outcome = session->apply(std::move(request), approver);
  } catch (const Error& e) {
    if (options.json) {
      json.error(e.what(), k_exit_error);
    }
    throw;
  }
  const int code = exit_code(outcome);
  if (options.json) {
    json.finish(code == k_exit_ok, code);
  }
  if (http::log_level() >= http::LogLevel::debug) {
    auto stats = session->stats();
    print_err(fmt::format("stove: debug: {} HTTP request(s), {} retried\n", stats.requests,
                          stats.retries));
  }
  return code;
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
  cmd->add_flag("--json", options.json,
                "Print one JSON object per event (plan, each operation's progress, a final "
                "summary) instead of text; needs --auto-approve or a saved plan (see "
                "stove-apply(1))");
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
