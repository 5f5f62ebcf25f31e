#include "command.hpp"

#include "util/error.hpp"
#include "sandbox/server.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <pthread.h>
#include <signal.h>
#include <string>

namespace stove {

namespace {

constexpr const char* k_token_variable = "STOVE_SANDBOX_TOKEN";

struct ServeOptions {
  std::string listen;
  std::string data_dir;
  int64_t latency_ms = 0;
  double fail_rate = 0.0;
  uint64_t seed = 0;
  int64_t deploy_delay_ms = 200;
  int64_t job_duration_ms = 1000;
  int bacularis_api = 3;
  int threads = 128;
  bool log_requests = false;
};

struct ListenAddress {
  std::string host;
  int port = 0;
};

// HOST:PORT, or [IPV6]:PORT.
std::optional<ListenAddress> parse_listen(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return std::nullopt;
  }
  std::string host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      return std::nullopt;
    }
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return std::nullopt; // an IPv6 address needs its brackets
  }
  int port = -1;
  const char* first = text.data() + colon + 1;
  const char* last = text.data() + text.size();
  auto [end, ec] = std::from_chars(first, last, port);
  if (ec != std::errc() || end != last || port < 0 || port > 65535) {
    return std::nullopt;
  }
  return ListenAddress{std::move(host), port};
}

sandbox::Options checked_options(const ServeOptions& o) {
  auto address = parse_listen(o.listen);
  if (!address) {
    throw Error(ErrorKind::usage,
                fmt::format("--listen takes HOST:PORT, such as 127.0.0.1:8080 (port 0 picks a "
                            "free one), not \"{}\"",
                            o.listen));
  }
  if (!(o.fail_rate >= 0.0 && o.fail_rate <= 1.0)) {
    throw Error(
        ErrorKind::usage,
        fmt::format("--fail-rate takes a share of requests between 0 and 1, not {}", o.fail_rate));
  }
  if (o.latency_ms < 0) {
    throw Error(ErrorKind::usage,
                fmt::format("--latency takes milliseconds, 0 or more, not {}", o.latency_ms));
  }
  if (o.deploy_delay_ms < 0) {
    throw Error(
        ErrorKind::usage,
        fmt::format("--deploy-delay takes milliseconds, 0 or more, not {}", o.deploy_delay_ms));
  }
  if (o.job_duration_ms < 0) {
    throw Error(
        ErrorKind::usage,
        fmt::format("--job-duration takes milliseconds, 0 or more, not {}", o.job_duration_ms));
  }
  // A day at most: longer would only overflow the sandbox's clocks.
  constexpr int64_t k_day_ms = 86'400'000;
  for (auto [flag, value] : {std::pair{"--latency", o.latency_ms},
                             {"--deploy-delay", o.deploy_delay_ms},
                             {"--job-duration", o.job_duration_ms}}) {
    if (value > k_day_ms) {
      throw Error(ErrorKind::usage,
                  fmt::format("{} takes milliseconds up to a day ({}), not {}", flag, k_day_ms,
                              value));
    }
  }
  if (o.threads < 1) {
    throw Error(ErrorKind::usage, fmt::format("--threads takes 1 or more, not {}", o.threads));
  }
  if (o.bacularis_api != 2 && o.bacularis_api != 3) {
    throw Error(ErrorKind::usage,
                fmt::format("--bacularis-api takes 3 (Bacularis 3.2.0 and later: API v2 and v3) "
                            "or 2 (older: API v2 only), not {}",
                            o.bacularis_api));
  }
  if (o.data_dir.empty()) {
    throw Error(ErrorKind::usage, "--data takes a directory, not an empty string");
  }

  sandbox::Options options;
  options.data_dir = o.data_dir;
  options.host = address->host;
  options.port = address->port;
  const char* token = std::getenv(k_token_variable);
  if (token != nullptr && token[0] != '\0') {
    options.token = token;
  }
  options.latency = std::chrono::milliseconds(o.latency_ms);
  options.deploy_delay = std::chrono::milliseconds(o.deploy_delay_ms);
  options.job_duration = std::chrono::milliseconds(o.job_duration_ms);
  options.bacularis_api = o.bacularis_api;
  options.fail_rate = o.fail_rate;
  options.seed = o.seed;
  options.threads = o.threads;
  options.log_requests = o.log_requests;
  return options;
}

int run_serve(const ServeOptions& o) {
  sandbox::Options options = checked_options(o);

  // SIGINT and SIGTERM are blocked in every thread (the server's threads
  // inherit this mask) and taken here with sigwait: the shutdown then runs
  // as ordinary code, not in a signal handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  sandbox::Server server(options);
  server.start();
  // Exactly one line on stdout, which scripts and tests read for the port.
  print_out(fmt::format("stove sandbox: listening on {} (data {})\n", server.url(), o.data_dir));

  int received = 0;
  while (sigwait(&stop_signals, &received) != 0) {
  }
  server.stop();
  print_err(fmt::format("stove sandbox: stopped on {}; data saved in {}\n",
                        received == SIGINT ? "SIGINT" : "SIGTERM", o.data_dir));
  return k_exit_ok;
}

} // namespace

void set_sandbox_command(CLI::App& app, Context& context) {
  CLI::App* sandbox =
      app.add_subcommand("sandbox", "Run the sandbox cloud, a local fake of the providers' APIs");
  sandbox->require_subcommand(1);
  sandbox->footer("Exit status: 0 stopped by SIGINT or SIGTERM, 1 error. See man stove-sandbox.");

  auto options = std::make_shared<ServeOptions>();
  CLI::App* serve = sandbox->add_subcommand(
      "serve", "Serve the sandbox cloud (the OpenVCloud cloudapi subset stove uses) over HTTP "
               "until SIGINT or SIGTERM");
  serve
      ->add_option("--listen", options->listen,
                   "Where to listen, HOST:PORT (e.g. 127.0.0.1:8080); port 0 picks a free port, "
                   "printed on start")
      ->type_name("HOST:PORT")
      ->required();
  serve
      ->add_option("--data", options->data_dir,
                   "Directory that keeps the cloud across restarts (DIR/cloud.json); created if "
                   "missing")
      ->type_name("DIR")
      ->required();
  serve
      ->add_option("--latency", options->latency_ms,
                   "Milliseconds to wait before answering each API request (default 0)")
      ->type_name("MS");
  serve
      ->add_option("--fail-rate", options->fail_rate,
                   "Share of API requests, 0 to 1, that fail: evenly a 500, a 429 with "
                   "Retry-After: 1, or a dropped connection (half before the call runs, half "
                   "after) (default 0)")
      ->type_name("P");
  serve
      ->add_option("--seed", options->seed,
                   "Seed for --fail-rate, to repeat a run's failures (default 0: random)")
      ->type_name("N");
  serve
      ->add_option("--deploy-delay", options->deploy_delay_ms,
                   "Milliseconds a new cloud space stays DEPLOYING before it is DEPLOYED "
                   "(default 200)")
      ->type_name("MS");
  serve
      ->add_option("--job-duration", options->job_duration_ms,
                   "Milliseconds a backup job run through jobs/run takes from queued "
                   "(C) through running (R) to terminated (T) (default 1000)")
      ->type_name("MS");
  serve
      ->add_option("--bacularis-api", options->bacularis_api,
                   "The Bacularis the sandbox plays: 3, Bacularis 3.2.0 and later (API v2 and "
                   "v3); 2, an older one, which has no /api/v3/ (default 3)")
      ->type_name("N");
  serve
      ->add_option("--threads", options->threads,
                   "Requests served at once; each keep-alive connection holds one (default 128)")
      ->type_name("N");
  serve->add_flag("--log-requests", options->log_requests,
                  "Log one line per request on stderr: method, path, status, duration");
  serve->footer(
      fmt::format("The API takes 'Authorization: bearer TOKEN', where TOKEN is ${} if set, "
                  "else \"sandbox\".\nExit status: 0 stopped by SIGINT or SIGTERM, data "
                  "saved; 1 error (bad arguments, a data directory that cannot be "
                  "written or is in use, an address that cannot be bound).",
                  k_token_variable));
  context.on_run(serve, [options] { return run_serve(*options); });
}

} // namespace stove
