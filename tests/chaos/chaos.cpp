// The kill harness: an estate with every kind (cloud spaces, machines,
// backups, buckets) applied, changed and destroyed against `stove sandbox
// serve`, each run killed with SIGKILL at a random moment and then run again
// plainly until it succeeds; after each phase the sandbox's objects are
// compared with the state (chaos/inspect.hpp).
//
//   stove-chaos [--trials N] [--seed S] [--keep]
//
// Trial T uses the seed S*1000+T, printed with anything it finds, so that
// `--seed S*1000+T --trials 1` (with --exact) repeats it. Exit status: 0 when
// every trial ends with no orphan, no missing object, no duplicate, no
// unreadable state, no attribute other than the state's spec says, and
// every re-run converged; 1 otherwise; 2 for bad arguments.

#include "chaos/inspect.hpp"
#include "support/background.hpp"
#include "support/run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using namespace stove;
using Clock = std::chrono::steady_clock;

namespace {

// The estate before (`changed` false) and after the change phase: a new
// schedule, retention and excludes, a machine grown in place and one shrunk
// (stopped, resized, started), a backup swapped for another, bucket tags
// changed.
std::string estate(const std::string& url, bool changed) {
  return fmt::format(R"(providers:
  lab:
    type: sandbox
    endpoint: {url}
resources:
  - type: cloud_space
    name: prod
    location_id: 1
    machines:
      - name: web-1
        image_id: 12
        memory: {web_memory}
        vcpus: 2
        disk_boot_size: 20
        backups:
          - name: web-nightly
            schedule: {web_schedule}
            fileset: [/var/www, /etc]
            excludes: {web_excludes}
            retention_days: 14
          - name: web-weekly
            schedule: Level=Full sun at 03:00
            fileset: [/var/www]
      - name: db
        image_id: 12
        memory: 4096
        vcpus: {db_vcpus}
        disk_boot_size: 40
        backups:
          - name: {db_backup}
            schedule: Level=Full Pool={db_backup}-pool 1st sun at 23:05
            fileset: [/var/lib/postgresql]
            retention_days: {db_retention}
  - type: cloud_space
    name: staging
    location_id: 1
    machines:
      - name: stage-1
        image_id: 12
        memory: 1024
        vcpus: 1
        disk_boot_size: 10
        backups:
          - name: stage-daily
            schedule: daily at 1:15
  - type: bucket
    name: assets
    versioning: enabled
    tags: {{app: web, stage: {tag}}}
  - type: bucket
    name: logs
)",
                     fmt::arg("url", url), fmt::arg("web_memory", changed ? 4096 : 2048),
                     fmt::arg("web_schedule", changed ? "Level=Incremental mon-fri at 01:30"
                                                      : "Level=Incremental mon-sat at 02:00"),
                     fmt::arg("web_excludes", changed ? "[/var/www/cache, /tmp]" : "[]"),
                     fmt::arg("db_vcpus", changed ? 1 : 2),
                     fmt::arg("db_backup", changed ? "db-weekly" : "db-monthly"),
                     fmt::arg("db_retention", changed ? 90 : 365),
                     fmt::arg("tag", changed ? "two" : "one"));
}

// 2 cloud spaces, 3 machines, 4 backups, 2 buckets.
constexpr size_t k_records = 11;

enum class Phase { create, change, destroy };
constexpr const char* k_phase_names[] = {"apply", "change", "destroy"};

struct Options {
  int trials = 20;
  uint64_t seed = 1;
  bool exact = false; // the seed is a trial's own
  bool keep = false;
};

struct Figures {
  int trials = 0;
  int killed[3] = {0, 0, 0};   // runs the kill landed in
  int finished[3] = {0, 0, 0}; // runs that ended before the kill
  int reruns = 0;
  int max_reruns = 0;
  int not_converged = 0;
  size_t orphans = 0, missing = 0, duplicates = 0, corrupt = 0, mismatched = 0;
  int failed_trials = 0;
};

struct Trial {
  fs::path dir;
  test::SandboxProcess sandbox;
  std::string file;
  std::string state;

  explicit Trial(const fs::path& d)
      : dir(d), sandbox((d / "cloud").string(), {"--deploy-delay", "40", "--latency", "1"}),
        file((d / "infra.yaml").string()), state((d / "infra.state.json").string()) {}

  void write(bool changed) const { std::ofstream(file) << estate(sandbox.url(), changed); }

  std::vector<std::string> args(Phase phase) const {
    return {"--no-color",
            phase == Phase::destroy ? "destroy" : "apply",
            "--auto-approve",
            "--state",
            state,
            file};
  }

  test::RunOptions env() const {
    test::RunOptions options;
    options.env["STOVE_SANDBOX_TOKEN"] = sandbox.token();
    return options;
  }

  // The run, SIGKILLed after `after`: its exit code (137 when killed).
  int killed_run(Phase phase, std::chrono::milliseconds after) const {
    test::Background run(STOVE_BINARY, args(phase), env());
    std::this_thread::sleep_for(after);
    run.signal(SIGKILL);
    return run.wait();
  }

  test::RunResult plain_run(Phase phase) const { return test::run_stove(args(phase), env()); }
};

fs::path make_dir(const std::string& name) {
  fs::path base = fs::path(STOVE_TEST_TMP) / "chaos";
  fs::create_directories(base);
  fs::path dir = base / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// How long each phase takes uninterrupted, on this machine now.
std::array<std::chrono::milliseconds, 3> calibrate() {
  fs::path dir = make_dir("calibrate");
  Trial trial(dir);
  std::array<std::chrono::milliseconds, 3> took{};
  for (Phase phase : {Phase::create, Phase::change, Phase::destroy}) {
    trial.write(phase != Phase::create);
    auto start = Clock::now();
    test::RunResult r = trial.plain_run(phase);
    if (r.exit_code != 0) {
      throw std::runtime_error(fmt::format("calibration {} failed: {}{}",
                                           k_phase_names[static_cast<int>(phase)], r.out, r.err));
    }
    took[static_cast<int>(phase)] =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  }
  fs::remove_all(dir);
  return took;
}

// One trial: each phase killed, then re-run until it succeeds, then
// inspected. Returns whether it found nothing wrong.
bool run_trial(uint64_t seed, const std::array<std::chrono::milliseconds, 3>& took,
               const Options& options, Figures& figures) {
  std::mt19937_64 rng(seed);
  const fs::path dir = make_dir(fmt::format("trial-{}", seed));
  Trial trial(dir);
  bool clean = true;
  for (Phase phase : {Phase::create, Phase::change, Phase::destroy}) {
    const int p = static_cast<int>(phase);
    trial.write(phase != Phase::create);
    // Anywhere from the start to the end of an uninterrupted run.
    const auto limit = took[p].count();
    const std::chrono::milliseconds kill_at{std::uniform_int_distribution<int64_t>(0, limit)(rng)};
    const int exit_code = trial.killed_run(phase, kill_at);
    (exit_code == 128 + SIGKILL ? figures.killed : figures.finished)[p]++;

    int reruns = 0;
    bool converged = false;
    std::string last;
    for (; reruns < 4 && !converged; ++reruns) {
      test::RunResult r = trial.plain_run(phase);
      converged = r.exit_code == 0;
      last = r.out + r.err;
    }
    if (converged && phase != Phase::destroy) {
      test::RunResult plan = test::run_stove(
          {"plan", "--detailed-exitcode", "--state", trial.state, trial.file}, trial.env());
      converged = plan.exit_code == 0;
      last = plan.out + plan.err;
    }
    figures.reruns += reruns;
    figures.max_reruns = std::max(figures.max_reruns, reruns);
    chaos::Findings found =
        chaos::inspect(trial.sandbox, trial.state, phase == Phase::destroy ? 0 : k_records);
    figures.orphans += found.orphans.size();
    figures.missing += found.missing.size();
    figures.duplicates += found.duplicates.size();
    figures.corrupt += found.corrupt.size();
    figures.mismatched += found.mismatched.size();
    if (!converged || !found.ok()) {
      clean = false;
      figures.not_converged += converged ? 0 : 1;
      fmt::print("trial seed {}: {} killed after {} ms (exit {}):\n", seed, k_phase_names[p],
                 kill_at.count(), exit_code);
      if (!converged) {
        fmt::print("  did not converge in {} re-runs; the last said:\n{}\n", reruns, last);
      }
      for (const auto& [what, list] :
           {std::pair{"orphan", &found.orphans}, std::pair{"missing", &found.missing},
            std::pair{"duplicate", &found.duplicates}, std::pair{"corrupt", &found.corrupt},
            std::pair{"mismatched", &found.mismatched}}) {
        for (const auto& item : *list) {
          fmt::print("  {}: {}\n", what, item);
        }
      }
      break;
    }
  }
  if (clean && !options.keep) {
    fs::remove_all(dir);
  } else {
    fmt::print("  files kept in {}\n", dir.string());
  }
  return clean;
}

bool parse(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::optional<std::string> {
      return i + 1 < argc ? std::optional<std::string>(argv[++i]) : std::nullopt;
    };
    if (arg == "--trials") {
      auto v = value();
      if (!v || (options.trials = std::atoi(v->c_str())) < 1) {
        return false;
      }
    } else if (arg == "--seed") {
      auto v = value();
      if (!v) {
        return false;
      }
      options.seed = std::strtoull(v->c_str(), nullptr, 10);
    } else if (arg == "--exact") {
      options.exact = true;
    } else if (arg == "--keep") {
      options.keep = true;
    } else {
      return false;
    }
  }
  return true;
}

} // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse(argc, argv, options)) {
    fmt::print(stderr, "usage: stove-chaos [--trials N] [--seed S [--exact]] [--keep]\n");
    return 2;
  }
  try {
    const auto started = Clock::now();
    const auto took = calibrate();
    fmt::print("uninterrupted: apply {} ms, change {} ms, destroy {} ms\n", took[0].count(),
               took[1].count(), took[2].count());
    Figures figures;
    for (int t = 0; t < options.trials; ++t) {
      const uint64_t seed = options.exact ? options.seed : options.seed * 1000 + t;
      ++figures.trials;
      if (!run_trial(seed, took, options, figures)) {
        ++figures.failed_trials;
      }
    }
    const auto seconds =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count() /
        1000.0;
    fmt::print("{} trials in {:.1f} s (seed {}): kills landed in {} applies, {} changes, {} "
               "destroys ({}, {}, {} runs ended first); {} re-runs (at most {} in a phase); "
               "{} not converged, {} orphans, {} missing, {} duplicates, {} corrupt states, {} "
               "mismatched attributes; {} trials failed\n",
               figures.trials, seconds, options.seed, figures.killed[0], figures.killed[1],
               figures.killed[2], figures.finished[0], figures.finished[1], figures.finished[2],
               figures.reruns, figures.max_reruns, figures.not_converged, figures.orphans,
               figures.missing, figures.duplicates, figures.corrupt, figures.mismatched,
               figures.failed_trials);
    return figures.failed_trials == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "stove-chaos: {}\n", e.what());
    return 1;
  }
}
