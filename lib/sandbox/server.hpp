#pragma once

// The sandbox cloud: an HTTP server on loopback that speaks the subset of
// the OpenVCloud cloudapi stove's adapter uses (and, later, Bacularis and
// S3), with the real API's statuses, errors and quirks. `stove sandbox
// serve` runs it standalone; stove embeds it for a provider whose endpoint
// is `sandbox` or `sandbox:DIR`. Nothing in the engine depends on it.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace stove::sandbox {

struct Options {
  std::string data_dir;                 // where the objects persist; created if missing
  std::string host = "127.0.0.1";
  int port = 0;                         // 0: an ephemeral port
  std::string token = "sandbox";        // the bearer token every call must carry
  std::chrono::milliseconds latency{0}; // added to every response
  std::chrono::milliseconds deploy_delay{200};  // DEPLOYING -> DEPLOYED
  std::chrono::milliseconds job_duration{1000}; // a backup job run: queued -> terminated
  int bacularis_api = 3;                // 3: Bacularis 3.2+ (API v2 and v3); 2: older (v2 only)
  double fail_rate = 0.0;               // share of requests that fail: 500, 429, dropped
  uint64_t seed = 0;                    // for fail_rate; 0: random
  int threads = 128;                    // request handlers
  bool log_requests = false;            // one line per request on stderr
};

struct Counters {
  uint64_t requests = 0;   // every request received, but those to /sandbox/*
  uint64_t mutating = 0;   // create, update, resize, delete, start, stop ...
  uint64_t injected_failures = 0;
  uint64_t writes = 0;     // data files written (one write commits many changes)
  uint64_t admin = 0;      // requests to /sandbox/admin/ (counted here only)
};

class Server {
public:
  explicit Server(Options options);
  ~Server();  // stops and flushes
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads the data directory, binds and serves on a background thread.
  // Throws stove::Error(ErrorKind::io) if it cannot bind or read its data.
  void start();
  // Stops serving and writes the data out.
  void stop();
  // Blocks until stop() is called (from a signal handler thread, say).
  void wait();

  int port() const;
  std::string url() const;  // http://127.0.0.1:PORT
  Counters counters() const;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace stove::sandbox
