#pragma once

#include <stdexcept>
#include <string>

namespace stove {

// What went wrong, as the top level needs to know it: each kind maps to an
// exit code (exit_code() below, documented in stove(1) and ARCHITECTURE.md)
// and a way of printing.
enum class ErrorKind {
  usage,      // the command line was wrong
  input,      // the infrastructure file, a plan file or an argument was wrong
  state,      // the state file is unreadable, locked, too new or stale
  io,         // the filesystem failed us
  provider,   // a provider refused or failed a call, or could not be reached
  internal,   // a bug in stove
};

// The exception that crosses floors. Code that can report and go on returns
// values or collects diagnostics (the loader's file, line, column and
// field); what cannot go on throws an Error of the kind that says why.
// Adapters throw providers::ProviderError instead, which the engine records
// against the operation. main() catches what reaches the top.
class Error : public std::runtime_error {
public:
  Error(ErrorKind kind, const std::string& message)
    : std::runtime_error(message), m_kind(kind) {}
  ErrorKind kind() const { return m_kind; }

private:
  ErrorKind m_kind;
};

// The process's exit code for an error of `kind`. Every kind exits 1, as
// terraform's errors do: 2 and 3 already mean "changes present" (plan
// --detailed-exitcode) and "drift found" / "unapplied changes" (drift), and
// scripts test for them.
constexpr int exit_code(ErrorKind kind) {
  switch (kind) {
  case ErrorKind::usage:
  case ErrorKind::input:
  case ErrorKind::state:
  case ErrorKind::io:
  case ErrorKind::provider:
  case ErrorKind::internal:
    return 1;
  }
  return 1;
}

} // namespace stove
