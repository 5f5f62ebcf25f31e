#pragma once

// Who says yes or no to a plan before a session changes anything: the
// terminal's prompt, `--auto-approve`, a saved plan (approved when it was
// saved), and later a service's request.

#include <cstdint>

namespace stove {
struct Plan;
}

namespace stove::session {

enum class Question : uint8_t {
  apply,   // carry out this plan
  destroy, // destroy everything the state manages
  refresh, // record what the refresh found in the state
};

class Approver {
public:
  virtual ~Approver() = default;
  // True to go ahead. `plan` is null for a refresh. May throw stove::Error
  // (a terminal approver with no terminal to ask).
  virtual bool approve(Question question, const Plan* plan) = 0;
};

// Says yes to everything: --auto-approve, and a saved plan.
class AlwaysApprove final : public Approver {
public:
  bool approve(Question, const Plan*) override { return true; }
};

} // namespace stove::session
