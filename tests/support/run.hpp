#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace stove::test {

struct RunResult {
  int exit_code = -1;  // the exit status, or 128 + signal number
  std::string out;
  std::string err;
};

struct RunOptions {
  std::string cwd;                               // empty: the current directory
  std::map<std::string, std::string> env;        // added to a minimal environment
  std::string input;                             // written to standard input
};

// The argv and environment a test's child process gets: `program` and
// `args`, and a minimal environment (PATH, HOME, sanitizer options) plus
// `options.env`. Kept alive for posix_spawn.
class ChildCommand {
public:
  ChildCommand(const std::string& program, const std::vector<std::string>& args,
               const RunOptions& options);
  char* const* argv() { return m_argv.data(); }
  char* const* envp() { return m_envp.data(); }

private:
  std::vector<std::string> m_args;
  std::vector<std::string> m_env;
  std::vector<char*> m_argv;
  std::vector<char*> m_envp;
};

// Runs the built stove binary with `args` and waits for it. Standard input is
// a pipe (so stove never sees a TTY) fed with `options.input`.
RunResult run_stove(const std::vector<std::string>& args, const RunOptions& options = {});

// Runs any program the same way.
RunResult run_program(const std::string& program, const std::vector<std::string>& args,
                      const RunOptions& options = {});

// The whole content of a file; throws std::runtime_error if it cannot be read.
std::string read_file(const std::filesystem::path& path);

// The executable `name` on PATH, then in `also` (such as /usr/sbin, where
// Debian puts daemons), or nullopt.
std::optional<std::string> find_program(const std::string& name,
                                        const std::vector<std::string>& also = {});

} // namespace stove::test
