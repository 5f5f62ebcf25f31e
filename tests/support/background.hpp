#pragma once

// A program left running while a test talks to it, such as `stove sandbox
// serve`: its stdout is read line by line, its stderr kept in an unnamed
// temp file (so that a chatty child never blocks on a full pipe) and read
// once it has exited.

#include "support/run.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <optional>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace stove::test {

class BackgroundProcess {
public:
  // Starts `program` with `args`, in a minimal environment plus
  // `options.env` (options.input is not used: stdin is /dev/null).
  BackgroundProcess(const std::string& program, const std::vector<std::string>& args,
                    const RunOptions& options = {}) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) {
      throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    m_stdout = out[0];
    m_stderr = std::tmpfile();
    if (m_stderr == nullptr) {
      ::close(out[1]);
      throw std::runtime_error(std::string("tmpfile: ") + std::strerror(errno));
    }

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, ::fileno(m_stderr), 2);
    if (!options.cwd.empty()) {
      posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());
    }
    std::vector<std::string> argv_storage{program};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_storage) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    std::map<std::string, std::string> env_map;
    for (const char* keep : {"PATH", "HOME", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
      if (const char* v = std::getenv(keep)) {
        env_map[keep] = v;
      }
    }
    for (const auto& [k, v] : options.env) {
      env_map[k] = v;
    }
    std::vector<std::string> env_storage;
    for (const auto& [k, v] : env_map) {
      env_storage.push_back(k + "=" + v);
    }
    std::vector<char*> envp;
    for (auto& e : env_storage) {
      envp.push_back(e.data());
    }
    envp.push_back(nullptr);

    int rc = ::posix_spawn(&m_pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (rc != 0) {
      m_pid = -1;
      throw std::runtime_error("cannot run " + program + ": " + std::strerror(rc));
    }
  }

  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  ~BackgroundProcess() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGKILL);
      wait();
    }
    if (m_stdout >= 0) {
      ::close(m_stdout);
    }
    if (m_stderr != nullptr) {
      std::fclose(m_stderr);
    }
  }

  pid_t pid() const { return m_pid; }

  // The next line of its stdout, without the newline; nullopt on timeout or
  // at the end of its output.
  std::optional<std::string>
  read_line(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string line;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return std::nullopt;
      }
      pollfd pfd{m_stdout, POLLIN, 0};
      int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) {
        continue;
      }
      if (ready <= 0) {
        return std::nullopt;
      }
      char c = 0;
      ssize_t got = ::read(m_stdout, &c, 1);
      if (got < 0 && errno == EINTR) {
        continue;
      }
      if (got <= 0) {
        return std::nullopt;
      }
      if (c == '\n') {
        return line;
      }
      line.push_back(c);
    }
  }

  void signal(int signal_number) {
    if (m_pid > 0) {
      ::kill(m_pid, signal_number);
    }
  }

  // Waits for it to exit: its exit code, or 128 + the signal that ended it.
  int wait() {
    if (m_pid <= 0) {
      return m_exit_code;
    }
    int status = 0;
    while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
    }
    m_pid = -1;
    m_exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return m_exit_code;
  }

  // Everything it wrote to stderr so far (complete once it has exited).
  std::string err() const {
    std::string text;
    std::fflush(m_stderr);
    int fd = ::fileno(m_stderr);
    char buffer[4096];
    off_t offset = 0;
    while (true) {
      ssize_t got = ::pread(fd, buffer, sizeof buffer, offset);
      if (got <= 0) {
        break;
      }
      text.append(buffer, static_cast<size_t>(got));
      offset += got;
    }
    return text;
  }

private:
  pid_t m_pid = -1;
  int m_exit_code = -1;
  int m_stdout = -1;
  std::FILE* m_stderr = nullptr;
};

} // namespace stove::test
