#pragma once

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <memory>
#include <optional>
#include <poll.h>
#include <signal.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace stove::test {

// One end of a line-based conversation between a test and its child process.
// Reads time out, so that a child that goes wrong fails the test instead of
// hanging it.
class Link {
public:
  Link() = default;
  Link(int read_fd, int write_fd) : m_read(read_fd), m_write(write_fd) {}
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;
  ~Link() { close(); }

  void close() {
    if (m_read >= 0)
      ::close(m_read);
    if (m_write >= 0)
      ::close(m_write);
    m_read = m_write = -1;
  }

  // Sends `line` (which must not hold a newline). Returns false on failure.
  bool send(std::string_view line) {
    std::string data(line);
    data.push_back('\n');
    std::size_t done = 0;
    while (done < data.size()) {
      ssize_t put = ::write(m_write, data.data() + done, data.size() - done);
      if (put < 0 && errno == EINTR)
        continue;
      if (put <= 0)
        return false;
      done += static_cast<std::size_t>(put);
    }
    return true;
  }

  // The next line, without its newline; nullopt on timeout or end of input.
  std::optional<std::string> receive(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string line;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        return std::nullopt;
      pollfd pfd{m_read, POLLIN, 0};
      int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR)
        continue;
      if (ready <= 0)
        return std::nullopt;
      char c = 0;
      ssize_t got = ::read(m_read, &c, 1);
      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        return std::nullopt;
      if (c == '\n')
        return line;
      line.push_back(c);
    }
  }

private:
  int m_read = -1;
  int m_write = -1;
};

// Runs `body` in a forked child, for tests that need a second process. The
// child exits with the body's return value, or 70 if it throws; it never
// returns into the test framework.
class ChildProcess {
public:
  explicit ChildProcess(const std::function<int(Link&)>& body) {
    int to_child[2];
    int to_parent[2];
    if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(to_parent, O_CLOEXEC) != 0) {
      throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    m_pid = ::fork();
    if (m_pid < 0) {
      throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    }
    if (m_pid == 0) {
      ::close(to_child[1]);
      ::close(to_parent[0]);
      int code = 70;
      {
        Link link(to_child[0], to_parent[1]);
        try {
          code = body(link);
        } catch (...) {
          code = 70;
        }
      }
      ::_exit(code);
    }
    ::close(to_child[0]);
    ::close(to_parent[1]);
    m_link = std::make_unique<Link>(to_parent[0], to_child[1]);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGKILL);
      wait();
    }
  }

  pid_t pid() const { return m_pid; }
  Link& link() { return *m_link; }

  // Waits for the child; its exit code, or 128 + the signal that ended it.
  int wait() {
    int status = 0;
    while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
    }
    m_pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

private:
  pid_t m_pid = -1;
  std::unique_ptr<Link> m_link;
};

} // namespace stove::test
