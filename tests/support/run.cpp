#include "support/run.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

namespace stove::test {

namespace {

struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() {
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  void close_read() {
    if (fds[0] >= 0) ::close(fds[0]);
    fds[0] = -1;
  }
  void close_write() {
    if (fds[1] >= 0) ::close(fds[1]);
    fds[1] = -1;
  }
};

} // namespace

ChildCommand::ChildCommand(const std::string& program, const std::vector<std::string>& args,
                           const RunOptions& options) {
  m_args.push_back(program);
  m_args.insert(m_args.end(), args.begin(), args.end());
  for (auto& a : m_args) m_argv.push_back(a.data());
  m_argv.push_back(nullptr);

  std::map<std::string, std::string> env;
  for (const char* keep : {"PATH", "HOME", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
    if (const char* v = std::getenv(keep)) env[keep] = v;
  }
  for (const auto& [k, v] : options.env) env[k] = v;
  for (const auto& [k, v] : env) m_env.push_back(k + "=" + v);
  for (auto& e : m_env) m_envp.push_back(e.data());
  m_envp.push_back(nullptr);
}

RunResult run_program(const std::string& program, const std::vector<std::string>& args,
                      const RunOptions& options) {
  Pipe in, out, err;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.fds[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out.fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err.fds[1], 2);
  if (!options.cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());
  }

  ChildCommand command(program, args, options);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, command.argv(), command.envp());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw std::runtime_error("cannot run " + program + ": " + std::strerror(rc));
  }
  in.close_read();
  out.close_write();
  err.close_write();

  RunResult result;
  size_t written = 0;
  if (options.input.empty()) in.close_write();
  ::signal(SIGPIPE, SIG_IGN);
  while (out.fds[0] >= 0 || err.fds[0] >= 0) {
    pollfd fds[3];
    int n = 0;
    int out_i = -1, err_i = -1, in_i = -1;
    if (out.fds[0] >= 0) { out_i = n; fds[n++] = {out.fds[0], POLLIN, 0}; }
    if (err.fds[0] >= 0) { err_i = n; fds[n++] = {err.fds[0], POLLIN, 0}; }
    if (in.fds[1] >= 0) { in_i = n; fds[n++] = {in.fds[1], POLLOUT, 0}; }
    if (::poll(fds, static_cast<nfds_t>(n), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    char buf[65536];
    auto drain = [&](int idx, Pipe& p, std::string& sink) {
      if (idx < 0 || !(fds[idx].revents & (POLLIN | POLLHUP | POLLERR))) return;
      ssize_t got = ::read(p.fds[0], buf, sizeof buf);
      if (got > 0) sink.append(buf, static_cast<size_t>(got));
      else p.close_read();
    };
    drain(out_i, out, result.out);
    drain(err_i, err, result.err);
    if (in_i >= 0 && (fds[in_i].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t put = ::write(in.fds[1], options.input.data() + written, options.input.size() - written);
      if (put > 0) written += static_cast<size_t>(put);
      if (put <= 0 || written == options.input.size()) in.close_write();
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

RunResult run_stove(const std::vector<std::string>& args, const RunOptions& options) {
  return run_program(STOVE_BINARY, args, options);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read " + path.string());
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::optional<std::string> find_program(const std::string& name,
                                        const std::vector<std::string>& also) {
  namespace fs = std::filesystem;
  const char* path = std::getenv("PATH");
  std::vector<std::string> dirs;
  std::stringstream listed(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  for (std::string dir; std::getline(listed, dir, ':');) {
    dirs.push_back(dir.empty() ? "." : dir);
  }
  dirs.insert(dirs.end(), also.begin(), also.end());
  for (const auto& dir : dirs) {
    fs::path candidate = fs::path(dir) / name;
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate.string();
    }
  }
  return std::nullopt;
}

} // namespace stove::test
