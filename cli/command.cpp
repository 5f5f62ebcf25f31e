#include "command.hpp"

#include "apply/engine.hpp"
#include "apply/refresh.hpp"
#include "model/address.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"
#include "plan/inputs.hpp"
#include "providers/provider.hpp"
#include "sandbox/embedded.hpp"
#include "state/journal.hpp"
#include "state/lock.hpp"
#include "state/statefile.hpp"

#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <unistd.h>

namespace stove {

namespace {

bool color_allowed(int fd, bool no_color) {
  const char* env = std::getenv("NO_COLOR");
  if (no_color || (env != nullptr && env[0] != '\0')) {
    return false;
  }
  return ::isatty(fd) == 1;
}

} // namespace

bool Context::color_stdout() const { return color_allowed(STDOUT_FILENO, no_color); }
bool Context::color_stderr() const { return color_allowed(STDERR_FILENO, no_color); }

void keep_pointer_until_exit(const void* object) {
  static auto* kept = new std::vector<const void*>();
  kept->push_back(object);
}

void print_out(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

void print_err(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

bool answered_yes(std::string_view prompt) {
  print_out(prompt);
  std::string answer;
  if (!std::getline(std::cin, answer)) {
    print_out("\n");
    return false;
  }
  return answer == "yes";
}

void print_note(std::string_view text) { print_err(fmt::format("stove: note: {}\n", text)); }

bool report_diagnostics(const Inputs& inputs, const Context& context) {
  if (inputs.diagnostics.all().empty()) {
    return false;
  }
  Diagnostics sorted = inputs.diagnostics;
  sorted.sort();
  print_err(render_diagnostics(inputs.source, sorted, context.color_stderr()));
  if (sorted.has_errors()) {
    size_t n = sorted.error_count();
    print_err(fmt::format("stove: error: {} has {} error{}\n", inputs.source.path, n,
                          n == 1 ? "" : "s"));
  }
  return sorted.has_errors();
}

void add_state_choice(CLI::App& command, StateChoice& choice) {
  command.add_option("--state", choice.state_path, "The state file to read")
      ->type_name("PATH");
  command.add_option("-f,--file", choice.config_path,
                     "Use the default state of this infrastructure file (state/<stem>.json)")
      ->type_name("FILE");
}

std::string chosen_state_path(const StateChoice& choice) {
  if (!choice.state_path.empty()) {
    return choice.state_path;
  }
  if (!choice.config_path.empty()) {
    return default_state_path(choice.config_path);
  }
  // With neither, a lone state under ./state/ is the obvious one.
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("state", ec)) {
    const auto& p = entry.path();
    if (entry.is_regular_file() && p.extension() == ".json" &&
        p.filename() != "state.schema.json") {
      found.push_back(p.string());
    }
  }
  if (found.size() == 1) {
    return found.front();
  }
  std::sort(found.begin(), found.end());
  throw Error(ErrorKind::usage,
              found.empty()
                  ? std::string("no state file found under ./state/; name one with --state PATH "
                                "or --file INFRA_FILE")
                  : fmt::format("several state files under ./state/ ({}); name one with --state "
                                "PATH or --file INFRA_FILE",
                                fmt::join(found, ", ")));
}

struct InterruptHandlers::Saved {
  struct sigaction interrupt {};
  struct sigaction terminate {};
};

InterruptHandlers::InterruptHandlers(void (*handler)(int)) : m_saved(std::make_unique<Saved>()) {
  struct sigaction action {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, &m_saved->interrupt);
  ::sigaction(SIGTERM, &action, &m_saved->terminate);
}

InterruptHandlers::~InterruptHandlers() {
  ::sigaction(SIGINT, &m_saved->interrupt, nullptr);
  ::sigaction(SIGTERM, &m_saved->terminate, nullptr);
}

std::chrono::milliseconds lock_timeout_option(const std::string& text) {
  auto duration = parse_duration(text);
  if (!duration) {
    throw Error(ErrorKind::usage, fmt::format("--lock-timeout {}: not a duration (examples: 0, "
                                              "500ms, 30s, 5m, 1h)",
                                              text));
  }
  return *duration;
}

struct CommandProviders::Parts {
  Parts(const std::string& sandbox_dir, std::vector<ProviderConfig> configs, size_t max_in_flight)
    : embedded(sandbox_dir), set(std::move(configs), [this, max_in_flight](const ProviderConfig& c) {
        ProviderConfig resolved = embedded.resolve(c);
        providers::ProviderOptions options;
        options.environment = embedded.environment(providers::process_environment());
        options.http.name = c.name;
        options.http.max_in_flight = max_in_flight;
        return providers::make_provider(resolved, options);
      }) {}

  sandbox::Embedded embedded;
  ProviderSet set;
};

CommandProviders::CommandProviders(const std::string& state_path,
                                   std::vector<ProviderConfig> configs, size_t max_in_flight) {
  providers::register_builtin_provider_types();
  std::filesystem::path sandbox_dir = std::filesystem::path(state_path).parent_path() / "sandbox";
  m_parts = std::make_unique<Parts>(sandbox_dir.string(), std::move(configs), max_in_flight);
}

CommandProviders::~CommandProviders() = default;

ProviderSet& CommandProviders::set() { return m_parts->set; }

DriftReport refresh_inputs(const Inputs& inputs, CommandProviders& providers, int parallelism,
                           const std::map<Kind, std::vector<std::string>>& ignored,
                           std::string_view hint) {
  if (inputs.state.resources.empty()) {
    return DriftReport{};
  }
  RefreshOptions options;
  options.parallelism = parallelism;
  options.ignored = ignored;
  for (const auto& r : inputs.config.resources) {
    if (!r.lifecycle.ignore_changes.empty()) {
      options.ignored_by_address.emplace(r.address, r.lifecycle.ignore_changes);
    }
  }
  try {
    return refresh_state(inputs.state, providers.set(), options);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::provider || hint.empty()) {
      throw;
    }
    throw Error(ErrorKind::provider, fmt::format("{}\n{}", e.what(), hint));
  }
}

void check_parallelism(int parallelism) {
  if (parallelism < 1 || parallelism > 1024) {
    throw Error(ErrorKind::usage,
                fmt::format("--parallelism {}: must be between 1 and 1024", parallelism));
  }
}

Address address_argument(const std::string& text) {
  AddressError problem;
  auto address = parse_address(text, &problem);
  if (!address) {
    throw Error(ErrorKind::usage, fmt::format("bad address \"{}\": {} (at character {})", text,
                                              problem.message, problem.offset + 1));
  }
  return std::move(*address);
}

void save_recovered_state(const std::string& state_path, State& state, size_t records) {
  print_note(fmt::format("recovered {} step(s) of an interrupted apply from {}", records,
                         journal_path_for(state_path)));
  write_state(state_path, state);
  Journal(state_path).remove();
}

} // namespace stove
