#include "support/background.hpp"

#include "support/temp_dir.hpp"

#include <httplib.h>

#include <cstdio>
#include <filesystem>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace stove::test {

Background::Background(const std::string& program, const std::vector<std::string>& args,
                       const RunOptions& options, const std::string& stderr_path)
  : m_err_path(stderr_path) {
  if (m_err_path.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "stove-stderr-XXXXXX").string();
    int fd = ::mkstemp(pattern.data());
    if (fd < 0) {
      throw std::runtime_error(std::string("mkstemp: ") + std::strerror(errno));
    }
    ::close(fd);
    m_err_path = pattern;
    m_own_err = true;
  }
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, m_err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (!options.cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());
  }
  ChildCommand command(program, args, options);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, command.argv(), command.envp());
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    throw std::runtime_error("cannot run " + program + ": " + std::strerror(rc));
  }
  m_pid = pid;
  m_out = out[0];
}

Background::~Background() {
  if (m_pid > 0) {
    ::kill(m_pid, SIGKILL);
    wait();
  }
  if (m_out >= 0) {
    ::close(m_out);
  }
  if (m_own_err) {
    std::remove(m_err_path.c_str());
  }
}

std::string Background::err() const { return read_file(m_err_path); }

std::optional<std::string> Background::read_line(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    size_t nl = m_buffer.find('\n');
    if (nl != std::string::npos) {
      std::string line = m_buffer.substr(0, nl);
      m_buffer.erase(0, nl + 1);
      m_lines.push_back(line);
      return line;
    }
    if (m_out < 0) {
      return std::nullopt;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return std::nullopt;
    }
    pollfd pfd{m_out, POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return std::nullopt;
    char buf[4096];
    ssize_t got = ::read(m_out, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      ::close(m_out);
      m_out = -1;
      continue;
    }
    m_buffer.append(buf, static_cast<size_t>(got));
  }
}

void Background::signal(int sig) {
  if (m_pid > 0) {
    ::kill(m_pid, sig);
  }
}

int Background::wait() {
  if (m_pid <= 0) {
    return -1;
  }
  int status = 0;
  while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
  }
  m_pid = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

SandboxProcess::SandboxProcess(const std::string& data_dir, const std::vector<std::string>& extra,
                               const std::string& token)
  : m_token(token) {
  std::vector<std::string> args{"sandbox", "serve", "--listen", "127.0.0.1:0", "--data", data_dir};
  args.insert(args.end(), extra.begin(), extra.end());
  RunOptions options;
  options.env["STOVE_SANDBOX_TOKEN"] = token;
  m_process = std::make_unique<Background>(STOVE_BINARY, args, options, data_dir + ".log");
  auto line = m_process->read_line(std::chrono::seconds(30));
  if (!line) {
    throw std::runtime_error("stove sandbox serve did not say where it listens; see " + data_dir +
                             ".log");
  }
  auto at = line->find("http://");
  if (at == std::string::npos) {
    throw std::runtime_error("unexpected first line from stove sandbox serve: " + *line);
  }
  auto end = line->find_first_of(" )", at);
  m_url = line->substr(at, end == std::string::npos ? std::string::npos : end - at);
  m_port = std::stoi(m_url.substr(m_url.rfind(':') + 1));
}

SandboxProcess::~SandboxProcess() = default;

int SandboxProcess::stop() {
  m_process->signal(SIGTERM);
  return m_process->wait();
}

SandboxProcess::Reply SandboxProcess::call(const std::string& actor_method,
                                           const std::string& json_body) const {
  httplib::Client client("127.0.0.1", m_port);
  client.set_read_timeout(30, 0);
  httplib::Headers headers{{"Authorization", "bearer " + m_token}};
  auto res = client.Post(("/restmachine/cloudapi/" + actor_method).c_str(), headers, json_body,
                         "application/json");
  Reply reply;
  if (res) {
    reply.status = res->status;
    reply.body = res->body;
  }
  return reply;
}

} // namespace stove::test
