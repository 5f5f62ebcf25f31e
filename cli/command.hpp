#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace stove {

struct Inputs;

// Exit codes, as man/stove.1 documents them.
inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_error = 1;
inline constexpr int k_exit_changes = 2;

// What every subcommand shares: global flags and the table of what to run
// for the subcommand the user picked.
struct Context {
  bool no_color = false;
  std::map<const CLI::App*, std::function<int()>> runners;

  void on_run(const CLI::App* command, std::function<int()> run) {
    runners[command] = std::move(run);
  }
  bool color_stdout() const;
  bool color_stderr() const;
};

void set_validate_command(CLI::App& app, Context& context);
void set_plan_command(CLI::App& app, Context& context);
void set_show_command(CLI::App& app, Context& context);
void set_state_command(CLI::App& app, Context& context);
void set_schema_command(CLI::App& app, Context& context);

// Writes to stdout / stderr as-is.
void print_out(std::string_view text);
void print_err(std::string_view text);
// "stove: note: ..." on stderr.
void print_note(std::string_view text);

// Prints the file's diagnostics, if any, to stderr. Returns true when there
// were errors (the caller then exits 1).
bool report_diagnostics(const Inputs& inputs, const Context& context);

// Adds --state and --file options that pick a state file; resolve with
// chosen_state_path.
struct StateChoice {
  std::string state_path;
  std::string config_path;
};
void add_state_choice(CLI::App& command, StateChoice& choice);
std::string chosen_state_path(const StateChoice& choice);

} // namespace stove
