#pragma once

#include <stdexcept>
#include <string>

namespace stove {

// What went wrong, as the top level needs to know it: each kind maps to an
// exit code and a way of printing.
enum class ErrorKind {
  usage,      // the command line was wrong
  input,      // the infrastructure file, a plan file or an argument was wrong
  state,      // the state file is unreadable, locked, too new or stale
  io,         // the filesystem failed us
  provider,   // a provider refused or failed a call, or could not be reached
  internal,   // a bug in stove
};

// The one exception type that crosses layers. Low-level code returns values
// or collects diagnostics; only the command layer throws, and only main()
// catches.
class Error : public std::runtime_error {
public:
  Error(ErrorKind kind, const std::string& message)
    : std::runtime_error(message), m_kind(kind) {}
  ErrorKind kind() const { return m_kind; }

private:
  ErrorKind m_kind;
};

} // namespace stove
