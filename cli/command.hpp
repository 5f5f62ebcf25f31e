#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace stove {

struct Inputs;
struct Address;

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
void set_apply_command(CLI::App& app, Context& context);
void set_destroy_command(CLI::App& app, Context& context);
void set_exec_command(CLI::App& app, Context& context);
void set_import_command(CLI::App& app, Context& context);
void set_sandbox_command(CLI::App& app, Context& context);
void set_force_unlock_command(CLI::App& app, Context& context);
void set_drift_command(CLI::App& app, Context& context);
void set_refresh_command(CLI::App& app, Context& context);

// Takes ownership of a large object and never destroys it: the kernel takes
// a process's memory back at exit at once, while freeing 100k resources one
// by one costs a good part of a second. The object stays reachable from a
// global, so leak checkers do not count it (git's UNLEAK does the same).
template <typename T>
void keep_until_exit(std::unique_ptr<T> object);
void keep_pointer_until_exit(const void* object);

template <typename T>
void keep_until_exit(std::unique_ptr<T> object) {
  keep_pointer_until_exit(object.release());
}

// Installs `handler` for SIGINT and SIGTERM while it lives, then puts the
// previous handlers back. The handler may only do async-signal-safe things.
class InterruptHandlers {
public:
  explicit InterruptHandlers(void (*handler)(int));
  ~InterruptHandlers();
  InterruptHandlers(const InterruptHandlers&) = delete;
  InterruptHandlers& operator=(const InterruptHandlers&) = delete;

private:
  struct Saved;
  std::unique_ptr<Saved> m_saved;
};

// Writes to stdout / stderr as-is.
void print_out(std::string_view text);
void print_err(std::string_view text);
// Prints `prompt` and reads one line from standard input: true only for
// "yes" (apply's approval rule). End of input is a no.
bool answered_yes(std::string_view prompt);

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

// --lock-timeout DURATION, parsed; a usage error when it is not a duration.
std::chrono::milliseconds lock_timeout_option(const std::string& text);

// For a session's `changing` hook: installs `handler` for SIGINT and
// SIGTERM while changes are in flight, and only then.
std::function<void(bool)> interrupt_guard(void (*handler)(int));

// An address given on the command line, parsed; a usage error naming the
// character at fault when it is not one.
Address address_argument(const std::string& text);

// --parallelism N, checked: a usage error outside 1..1024.
void check_parallelism(int parallelism);

} // namespace stove
