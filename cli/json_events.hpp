#pragma once

// `stove apply --json` and `stove destroy --json`: the session's events as
// JSON lines on standard output, one object per event, ending with one
// summary (documented in stove-apply(1)).

#include "session/reporter.hpp"

#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

namespace stove {

class JsonReporter final : public session::Reporter {
public:
  explicit JsonReporter(std::string operation) : m_operation(std::move(operation)) {}
  // The first line: {"type":"version","stove":"0.1.0","format_version":1}.
  void begin();
  void report(const session::Event& event) override;
  bool file_had_errors() const { return m_file_errors; }

  // The final summary of a run that made no changes (nothing to do, or the
  // file was invalid); a run that applied has printed its own.
  void finish(bool ok, int exit_code);
  // A run that ended in an error: {"type":"error"} and then the summary.
  void error(const std::string& message, int exit_code);

private:
  void print(nlohmann::ordered_json object);
  void planned(const session::Event& event);
  void progress(const session::Event& event);
  void summary(const session::Event& event);

  std::mutex m_mutex;
  std::string m_operation;
  bool m_file_errors = false;
  bool m_summarised = false;
};

} // namespace stove
