#include "command.hpp"

#include "model/address.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"
#include "plan/inputs.hpp"

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

std::function<void(bool)> interrupt_guard(void (*handler)(int)) {
  auto handlers = std::make_shared<std::unique_ptr<InterruptHandlers>>();
  return [handlers, handler](bool changing) {
    if (changing) {
      *handlers = std::make_unique<InterruptHandlers>(handler);
    } else {
      handlers->reset();
    }
  };
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

} // namespace stove
