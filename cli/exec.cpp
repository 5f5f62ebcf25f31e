// `stove exec FILE ADDRESS ACTION [--param NAME=VALUE]...`: runs one of a
// kind's actions (start a machine, run a backup job) on a resource the
// state holds, and records what it observed.

#include "command.hpp"

#include "terminal.hpp"

#include "http/client.hpp"
#include "model/address.hpp"
#include "model/kind.hpp"
#include "plan/inputs.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"

#include <fmt/format.h>

#include <csignal>
#include <filesystem>
#include <memory>
#include <unistd.h>

namespace stove {

namespace {

struct ExecCommandOptions {
  std::string file;
  std::string address;
  std::string action;
  std::vector<std::string> params;
  std::string state;
  std::string lock_timeout = "0s";
  std::string timeout = "30m";
  bool json = false;
};

// Ctrl-C abandons the wait (a backup job goes on in Bacula); what was
// observed is still recorded.
http::CancelToken g_exec_cancel;

void on_exec_interrupt(int) {
  g_exec_cancel.cancel();
  static constexpr char k_text[] =
      "\nInterrupt received: no longer waiting for the action; saving what is known.\n";
  [[maybe_unused]] auto r = ::write(STDERR_FILENO, k_text, sizeof k_text - 1);
}

std::chrono::milliseconds exec_duration(const std::string& text, std::string_view flag) {
  auto d = parse_duration(text);
  if (!d) {
    throw Error(ErrorKind::usage,
                fmt::format("{} {}: not a duration (examples: 0, 500ms, 30s, 5m, 1h)", flag, text));
  }
  return *d;
}

// "force=false, level=Full"
std::string params_text(const nlohmann::json& params) {
  std::string out;
  for (const auto& [name, value] : params.items()) {
    std::string item =
        fmt::format("{}={}", name, value.is_string() ? value.get<std::string>() : value.dump());
    out = out.empty() ? item : fmt::format("{}, {}", out, item);
  }
  return out;
}

// "Executing start...", and what the action reports while it runs; with
// --json, only the final object.
class ExecReporter final : public TerminalReporter {
public:
  ExecReporter(const Context& context, bool json, std::string params)
    : TerminalReporter(context), m_json(json), m_params(std::move(params)) {}
  void report(const session::Event& event) override {
    if (event.type == session::EventType::executing && !m_json) {
      print_out(fmt::format("{}: Executing {}{}...\n", event.address, event.message,
                            m_params.empty() ? std::string() : fmt::format(" ({})", m_params)));
    } else if (event.type == session::EventType::action_note && !m_json) {
      print_out(fmt::format("{}: {}\n", event.address, event.message));
    } else {
      TerminalReporter::report(event);
    }
  }

private:
  bool m_json;
  std::string m_params;
};

int run_exec(const ExecCommandOptions& options, const Context& context) {
  // Everything that needs neither the state nor the cloud is checked first:
  // a mistyped action or parameter changes nothing.
  const Address address = address_argument(options.address);
  const std::string canonical = address.str();
  const KindSchema& schema = schema_of(address.segments.back().kind);
  const ActionSchema& action = find_action(schema, options.action);
  const nlohmann::json params = action_params(schema, action, options.params);
  const auto lock_timeout = exec_duration(options.lock_timeout, "--lock-timeout");
  const auto timeout = exec_duration(options.timeout, "--timeout");

  ExecReporter reporter(context, options.json, params_text(params));
  session::SessionOptions session_options;
  session_options.state_path =
      options.state.empty() ? default_state_path(options.file) : options.state;
  session_options.reporter = &reporter;
  session_options.lock_timeout = lock_timeout;
  session_options.parallelism = 0;
  session_options.cancel = &g_exec_cancel;
  session_options.changing = interrupt_guard(on_exec_interrupt);
  CommandSession session(std::move(session_options));
  session::ExecRequest request{options.file, address, &action, params, timeout};
  session::ExecOutcome outcome = session->exec(request);
  if (!outcome.valid) {
    return k_exit_error;
  }
  const ExecResult& result = outcome.result;

  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(result.elapsed);
  if (options.json) {
    nlohmann::ordered_json out;
    out["address"] = canonical;
    out["action"] = action.name;
    out["params"] = params;
    out["ok"] = result.ok;
    out["message"] = result.message;
    out["elapsed_ms"] = result.elapsed.count();
    out["recorded"] = result.recorded;
    out["observed"] = outcome.observed;
    out["serial"] = outcome.serial;
    print_out(out.dump(2) + "\n");
  } else if (result.ok) {
    print_out(
        fmt::format("{}: {} complete after {}s{}\n", canonical, action.name, seconds.count(),
                    result.message.empty() ? std::string() : fmt::format(" [{}]", result.message)));
  } else {
    print_out(fmt::format("{}: {} failed after {}s: {}\n", canonical, action.name, seconds.count(),
                          result.message));
  }
  if (!result.ok) {
    print_err(fmt::format("stove: error: {} {} failed{}\n", canonical, action.name,
                          result.recorded ? "; what was observed is in the state" : ""));
  }
  return result.ok ? k_exit_ok : k_exit_error;
}

} // namespace

void set_exec_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<ExecCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "exec", "Run an action on a resource the state holds: start, stop or reboot a machine, "
              "run a backup job");
  cmd->add_option("FILE", options->file,
                  "The infrastructure file: its providers are used, its state by default")
      ->required();
  cmd->add_option("ADDRESS", options->address,
                  "The resource, e.g. 'cloud_space[\"web\"].machine[\"app\"]'")
      ->required();
  cmd->add_option("ACTION", options->action,
                  "What to do: see `stove schema KIND` (machine: start, stop, reboot; backup: "
                  "run)")
      ->required();
  cmd->add_option("-p,--param", options->params,
                  "An action parameter, NAME=VALUE; repeat for more (stop: force=true; run: "
                  "level=Full|Incremental|Differential)")
      ->type_name("NAME=VALUE")
      ->allow_extra_args(false);
  cmd->add_option("--state", options->state,
                  "The state file (default: state/<stem>.json under the current directory)")
      ->type_name("PATH");
  cmd->add_option("--lock-timeout", options->lock_timeout,
                  "Wait up to DURATION for another stove to release the state lock (default 0s: "
                  "fail at once)")
      ->type_name("DURATION");
  cmd->add_option("--timeout", options->timeout,
                  "Longest the action, with its waiting, may take (default 30m)")
      ->type_name("DURATION");
  cmd->add_flag("--json", options->json, "Print the outcome as JSON (for CI)");
  cmd->footer("The observed attributes the action reports (a machine's status, a backup's "
              "last_job) are recorded in the state.\nExit status: 0 the action succeeded, 1 "
              "error (an unknown resource, action or parameter changes nothing; a failed "
              "action still records what was observed).");
  context.on_run(cmd, [options, &context] { return run_exec(*options, context); });
}

} // namespace stove
