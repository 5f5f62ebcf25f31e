#include "http/log.hpp"

#include "http/text.hpp"

#include <fmt/format.h>

#include <atomic>
#include <cstdio>
#include <functional>
#include <mutex>

namespace stove::http {

namespace {

struct LogState {
  std::atomic<LogLevel> level{LogLevel::warn};
  std::mutex mutex;
  std::function<void(std::string_view)> sink;
};

LogState& log_state() {
  static LogState state;
  return state;
}

std::string_view level_name(LogLevel level) {
  switch (level) {
  case LogLevel::error:
    return "error";
  case LogLevel::warn:
    return "warn";
  case LogLevel::info:
    return "info";
  case LogLevel::debug:
    return "debug";
  }
  return "debug";
}

} // namespace

namespace detail {

bool log_enabled(LogLevel level) {
  return level <= log_state().level.load(std::memory_order_relaxed);
}

// Writes one whole line: a single fwrite under the lock, so that lines from
// parallel requests never interleave (stdio's own lock keeps them apart
// from the CLI's stderr output too).
void emit(LogLevel level, std::string_view message) {
  std::string line = fmt::format("stove: {}: {}\n", level_name(level), message);
  LogState& state = log_state();
  std::lock_guard lock(state.mutex);
  if (state.sink) {
    state.sink(line);
    return;
  }
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

} // namespace detail

void set_log_level(LogLevel level) {
  log_state().level.store(level);
}

LogLevel log_level() {
  return log_state().level.load();
}

std::optional<LogLevel> parse_log_level(std::string_view text) {
  for (LogLevel level : {LogLevel::error, LogLevel::warn, LogLevel::info, LogLevel::debug}) {
    if (detail::iequals(text, level_name(level))) {
      return level;
    }
  }
  return std::nullopt;
}

void set_log_sink(std::function<void(std::string_view line)> sink) {
  LogState& state = log_state();
  std::lock_guard lock(state.mutex);
  state.sink = std::move(sink);
}

} // namespace stove::http
