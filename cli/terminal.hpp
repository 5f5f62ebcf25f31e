#pragma once

// How the commands talk to a person at a terminal (or to CI reading the
// same lines): the session's events as terraform-style text, and the
// prompt that approves a plan.

#include "session/approver.hpp"
#include "session/reporter.hpp"
#include "session/session.hpp"

#include <memory>
#include <mutex>
#include <string>

namespace stove {

struct Context;
namespace sandbox {
class Embedded;
}

// Notes and the file's problems on stderr; the plan, each operation and
// the outcome on stdout, as `stove apply` has always printed them. A
// command that shows something its own way overrides `report` for that
// event and passes the rest on.
class TerminalReporter : public session::Reporter {
public:
  explicit TerminalReporter(const Context& context) : m_context(context) {}
  void report(const session::Event& event) override;
  // Whether the file had errors (after a diagnostics event).
  bool file_had_errors() const { return m_file_errors; }

protected:
  const Context& m_context;

private:
  std::mutex m_mutex;
  bool m_file_errors = false;
};

// The terminal's prompt: only "yes" approves. Without a terminal on
// standard input it refuses with a usage error saying how to approve
// instead (`hint`, e.g. "run with --auto-approve").
class TerminalApprover final : public session::Approver {
public:
  explicit TerminalApprover(std::string hint) : m_hint(std::move(hint)) {}
  bool approve(session::Question question, const Plan* plan) override;

private:
  std::string m_hint;
};

// A command's session, with the embedded sandbox cloud standing in for
// `sandbox[:DIR]` endpoints (its data under the state's directory,
// sandbox/), started only when a resource of that provider is reached.
class CommandSession {
public:
  CommandSession(session::SessionOptions options);
  ~CommandSession();
  CommandSession(const CommandSession&) = delete;
  CommandSession& operator=(const CommandSession&) = delete;

  session::Session* operator->() { return m_session.get(); }
  session::Session& operator*() { return *m_session; }

private:
  std::unique_ptr<sandbox::Embedded> m_embedded; // outlives the session's providers
  std::unique_ptr<session::Session> m_session;
};

} // namespace stove
