#pragma once

#include "support/run.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stove::test {

// A program running beside the test: its standard output is read line by
// line (with a timeout, so a child that goes wrong fails the test instead of
// hanging it), its standard error goes to a file. The destructor kills it.
class Background {
public:
  // Standard error goes to `stderr_path`, or, when it is empty, to a
  // temporary file removed with the object.
  Background(const std::string& program, const std::vector<std::string>& args,
             const RunOptions& options = {}, const std::string& stderr_path = {});
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  // The next line of standard output, or nullopt at its end or on timeout.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Everything read so far.
  const std::vector<std::string>& lines() const { return m_lines; }
  void signal(int sig);
  // Waits for it to end: its exit code, or 128 + the signal that ended it.
  int wait();
  int pid() const { return m_pid; }
  // What it has written to standard error so far.
  std::string err() const;

private:
  std::string m_err_path;
  bool m_own_err = false;
  int m_pid = -1;
  int m_out = -1;
  std::string m_buffer;
  std::vector<std::string> m_lines;
};

// `stove sandbox serve` on an ephemeral loopback port, for integration tests.
class SandboxProcess {
public:
  // `extra`: more flags, e.g. {"--fail-rate", "0.3", "--seed", "7"}.
  SandboxProcess(const std::string& data_dir, const std::vector<std::string>& extra = {},
                 const std::string& token = "integration-token");
  ~SandboxProcess();

  const std::string& url() const { return m_url; }
  int port() const { return m_port; }
  const std::string& token() const { return m_token; }
  // Stops it cleanly (SIGTERM) and returns its exit code.
  int stop();

  // POST /restmachine/cloudapi/ACTOR/METHOD with a JSON body; the status and
  // the parsed reply (null if none).
  struct Reply {
    int status = 0;
    std::string body;
  };
  Reply call(const std::string& actor_method, const std::string& json_body) const;

private:
  std::string m_token;
  std::string m_url;
  int m_port = 0;
  std::unique_ptr<Background> m_process;
};

} // namespace stove::test
