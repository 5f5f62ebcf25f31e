// The sandbox server: its options checked, started, stopped and counted.
// What it does in between is Server::Impl's (server_impl.hpp).

#include "sandbox/server.hpp"

#include "sandbox/connections.hpp"
#include "sandbox/server_impl.hpp"
#include "util/error.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>

namespace stove::sandbox {

namespace {

// Backup jobs reach their client's file daemon on the sandbox cloud's
// machines: a job whose client's address is no RUNNING machine fails.
JobOptions job_options(const Options& options, const Cloud& cloud) {
  JobOptions jobs;
  jobs.duration = options.job_duration;
  jobs.client_reachable = [&cloud](std::string_view address) {
    return cloud.address_running(address);
  };
  return jobs;
}

} // namespace

Server::Impl::Impl(Options o)
    : options(std::move(o)),
      data_file((std::filesystem::path(options.data_dir) / "cloud.json").string()),
      cloud(options.deploy_delay),
      bacula(options.data_dir, options.token, job_options(options, cloud),
             BacularisOptions{options.bacularis_api}),
      faults(options.fail_rate, options.seed) {}

void Server::Impl::check_options() const {
  if (options.data_dir.empty()) {
    throw Error(ErrorKind::input, "the sandbox needs a data directory");
  }
  if (!(options.fail_rate >= 0.0 && options.fail_rate <= 1.0)) {
    throw Error(ErrorKind::input,
                fmt::format("the fail rate must be between 0 and 1, not {}", options.fail_rate));
  }
  if (options.threads < 1) {
    throw Error(ErrorKind::input,
                fmt::format("the sandbox needs at least 1 thread, not {}", options.threads));
  }
  if (options.token.empty()) {
    throw Error(ErrorKind::input, "the sandbox's token must not be empty");
  }
  if (options.latency.count() < 0 || options.deploy_delay.count() < 0 ||
      options.job_duration.count() < 0) {
    throw Error(ErrorKind::input, "latency, deploy delay and job duration cannot be negative");
  }
  constexpr std::chrono::milliseconds k_day{86'400'000};
  if (options.latency > k_day || options.deploy_delay > k_day || options.job_duration > k_day) {
    throw Error(ErrorKind::input, "latency, deploy delay and job duration are a day at most");
  }
}

Counters Server::Impl::counters() const {
  Counters c;
  c.requests = requests;
  c.mutating = mutating;
  c.injected_failures = injected_failures;
  c.admin = admin_requests;
  c.writes = (committer ? committer->writes() : 0) + bacula.writes() +
             (s3_committer ? s3_committer->writes() : 0);
  return c;
}

Server::Server(Options options) : m_impl(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() {
  try {
    stop();
  } catch (const std::exception& e) {
    std::string line = fmt::format("stove sandbox: error: {}\n", e.what());
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
}

void Server::start() {
  Impl& impl = *m_impl;
  {
    std::lock_guard lock(impl.state_mutex);
    if (impl.started) {
      throw Error(ErrorKind::internal, "the sandbox server was already started");
    }
  }
  impl.check_options();
  try {
    uint64_t durable = impl.load_data();
    impl.bacula.start();
    impl.committer = std::make_unique<Committer>(
        impl.data_file,
        [&impl] {
          Cloud::Snapshot snapshot = impl.cloud.snapshot();
          return Committer::Snapshot{snapshot.version, to_document(snapshot.data).dump(1) + "\n"};
        },
        durable);
    impl.start_s3();
    impl.configure_http();
    impl.bind();
    impl.run_listener();
  } catch (...) {
    if (impl.committer) {
      impl.committer->stop();
    }
    impl.bacula.stop();
    if (impl.s3_committer) {
      impl.s3_committer->stop();
    }
    impl.lock.release();
    throw;
  }
  std::lock_guard lock(impl.state_mutex);
  impl.started = true;
}

void Server::stop() {
  Impl& impl = *m_impl;
  {
    std::lock_guard lock(impl.state_mutex);
    if (!impl.started || impl.stopped) {
      return;
    }
  }
  // Requests in flight finish first (the thread pool is joined), so every
  // change is committed or refused before the last write.
  impl.http.stop();
  end_idle_connections(impl.port);
  if (impl.thread.joinable()) {
    impl.thread.join();
  }
  std::optional<std::string> error = impl.committer->stop();
  if (auto bacula_error = impl.bacula.stop(); bacula_error && !error) {
    error = std::move(bacula_error);
  }
  if (auto s3_error = impl.s3_committer->stop(); s3_error && !error) {
    error = s3_error;
  }
  impl.lock.release();
  {
    std::lock_guard lock(impl.state_mutex);
    impl.stopped = true;
  }
  impl.state_changed.notify_all();
  if (error) {
    throw Error(ErrorKind::io, *error);
  }
}

void Server::wait() {
  std::unique_lock lock(m_impl->state_mutex);
  m_impl->state_changed.wait(lock, [&] { return m_impl->stopped; });
}

int Server::port() const {
  return m_impl->port;
}

std::string Server::url() const {
  const std::string& host = m_impl->options.host;
  if (host.find(':') != std::string::npos) {
    return fmt::format("http://[{}]:{}", host, m_impl->port);
  }
  return fmt::format("http://{}:{}", host, m_impl->port);
}

Counters Server::counters() const {
  return m_impl->counters();
}

} // namespace stove::sandbox
