#include "command.hpp"

#include "http/client.hpp"
#include "util/error.hpp"
#include "stove/version.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

namespace {

// Terraform users type single-dash long options (-out=FILE, -json); accept
// the ones stove shares with it.
std::vector<std::string> normalise_arguments(int argc, char** argv) {
  static constexpr std::array<std::string_view, 10> k_terraform_style = {
      "out",          "json",        "state",        "detailed-exitcode", "no-color",
      "auto-approve", "parallelism", "lock-timeout", "log-level",         "refresh"};
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.size() > 2 && arg[0] == '-' && arg[1] != '-') {
      std::string name = arg.substr(1, arg.find('=') - 1);
      for (auto known : k_terraform_style) {
        if (name == known) {
          arg = "-" + arg;
          break;
        }
      }
    }
    args.push_back(std::move(arg));
  }
  return args;
}

} // namespace

int main(int argc, char** argv) {
  // libcurl runs with CURLOPT_NOSIGNAL, so a write to a peer that has gone
  // (TLS included) must be an error return, not a fatal signal.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"stove: make the cloud match an infrastructure file.\n"
               "Reads a YAML or JSON file of cloud spaces, machines, backups and buckets,\n"
               "compares it with the state, and shows the difference as a plan.",
               "stove"};
  app.set_version_flag("--version", fmt::format("stove {}", stove::k_version),
                       "Print the version and exit");
  stove::Context context;
  app.add_flag("--no-color", context.no_color,
               "Never colour the output (colour is also off when NO_COLOR is set or the output "
               "is not a terminal)");
  std::string log_level;
  app.add_option("--log-level", log_level,
                 "error, warn, info or debug; debug logs every HTTP request (method, redacted "
                 "URL, status, duration). Default: STOVE_LOG, else warn")
      ->type_name("LEVEL");
  app.require_subcommand(1);
  app.fallthrough();
  app.footer("Exit status: 0 success, 1 error, 2 changes present (plan --detailed-exitcode) or "
             "drift found (drift), 3 unapplied changes without drift (drift).\n"
             "See man stove, and man stove-COMMAND for each command.");

  stove::set_validate_command(app, context);
  stove::set_plan_command(app, context);
  stove::set_drift_command(app, context);
  stove::set_apply_command(app, context);
  stove::set_destroy_command(app, context);
  stove::set_exec_command(app, context);
  stove::set_import_command(app, context);
  stove::set_show_command(app, context);
  stove::set_refresh_command(app, context);
  stove::set_state_command(app, context);
  stove::set_force_unlock_command(app, context);
  stove::set_schema_command(app, context);
  stove::set_sandbox_command(app, context);

  std::vector<std::string> args = normalise_arguments(argc, argv);
  std::reverse(args.begin(), args.end());
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    stove::print_err(fmt::format("stove: error: {}\nRun 'stove --help' or 'stove COMMAND --help' "
                                 "for usage.\n",
                                 e.what()));
    return stove::k_exit_error;
  }

  if (log_level.empty()) {
    const char* env = std::getenv("STOVE_LOG");
    log_level = env != nullptr ? env : "";
  }
  if (!log_level.empty()) {
    auto level = stove::http::parse_log_level(log_level);
    if (!level) {
      stove::print_err(fmt::format("stove: error: log level \"{}\": use error, warn, info or "
                                   "debug\n", log_level));
      return stove::k_exit_error;
    }
    stove::http::set_log_level(*level);
  }

  // The deepest subcommand picked is the one to run.
  const CLI::App* chosen = &app;
  while (!chosen->get_subcommands().empty()) {
    chosen = chosen->get_subcommands().front();
  }
  auto runner = context.runners.find(chosen);
  if (runner == context.runners.end()) {
    stove::print_err("stove: error: no command given; run 'stove --help'\n");
    return stove::k_exit_error;
  }
  try {
    return runner->second();
  } catch (const stove::Error& e) {
    std::string message = e.what();
    // Messages that already carry a position are printed as they are.
    bool positioned = message.find(": error: ") != std::string::npos;
    stove::print_err(positioned ? message + "\n" : fmt::format("stove: error: {}\n", message));
    return stove::exit_code(e.kind());
  } catch (const std::bad_alloc&) {
    stove::print_err("stove: error: out of memory\n");
    return stove::k_exit_error;
  } catch (const std::exception& e) {
    stove::print_err(fmt::format("stove: error: internal error: {}\n", e.what()));
    return stove::k_exit_error;
  }
}
