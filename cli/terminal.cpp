#include "terminal.hpp"

#include "command.hpp"

#include "http/client.hpp"
#include "plan/inputs.hpp"
#include "plan/render.hpp"
#include "sandbox/embedded.hpp"
#include "util/error.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <unistd.h>

namespace stove {

using session::Event;
using session::EventType;

void TerminalReporter::report(const Event& event) {
  std::lock_guard lock(m_mutex);
  const RenderOptions render{m_context.color_stdout()};
  switch (event.type) {
  case EventType::note:
    print_note(event.message);
    break;
  case EventType::diagnostics:
    m_file_errors = report_diagnostics(*event.inputs, m_context);
    break;
  case EventType::planned: {
    std::string drifted = render_drift(event.plan->drift, render);
    print_out(drifted.empty() ? std::string() : fmt::format("{}\n", drifted));
    print_out(render_plan(*event.plan, render));
    break;
  }
  case EventType::drift_recorded:
    print_out(fmt::format("\nThe state now records the {} change{} made outside of Stove.\n",
                          event.count, event.count == 1 ? "" : "s"));
    break;
  case EventType::cancelled:
    print_out(fmt::format("\n{} cancelled: nothing was changed.\n",
                          event.message == "destroy"   ? "Destroy"
                          : event.message == "refresh" ? "Refresh"
                                                       : "Apply"));
    break;
  case EventType::applying:
    print_out("\n");
    break;
  case EventType::started:
  case EventType::still_running:
  case EventType::done:
  case EventType::failed:
  case EventType::skipped:
    print_out(format_progress(*event.progress) + "\n");
    break;
  case EventType::summary:
    print_out("\n" + format_apply_summary(*event.result, event.destroy));
    break;
  case EventType::refreshed:
  case EventType::importing:
  case EventType::imported:
  case EventType::executing:
  case EventType::action_note:
    break;
  }
}

bool TerminalApprover::approve(session::Question question, const Plan*) {
  using session::Question;
  const char* verb = question == Question::destroy ? "destroy"
                     : question == Question::refresh ? "refresh"
                                                     : "apply";
  if (::isatty(STDIN_FILENO) != 1) {
    throw Error(ErrorKind::usage, fmt::format("{} needs approval and standard input is not a "
                                              "terminal: nothing was changed; {}",
                                              verb, m_hint));
  }
  switch (question) {
  case Question::destroy:
    return answered_yes("\nDo you really want to destroy all resources?\n"
                        "  Stove will destroy everything it manages in this state. There is no "
                        "undo.\n  Only 'yes' will be accepted to confirm.\n\n  Enter a value: ");
  case Question::refresh:
    return answered_yes(
        "\nDo you want to update the state to match?\n"
        "  Stove will record the changes above in the state; the cloud is not changed.\n"
        "  Only 'yes' will be accepted to approve.\n\n  Enter a value: ");
  case Question::apply:
    break;
  }
  return answered_yes("\nDo you want to perform these actions?\n"
                      "  Stove will perform the actions described above.\n"
                      "  Only 'yes' will be accepted to approve.\n\n  Enter a value: ");
}

CommandSession::CommandSession(session::SessionOptions options) {
  std::filesystem::path sandbox_dir =
      std::filesystem::path(options.state_path).parent_path() / "sandbox";
  m_embedded = std::make_unique<sandbox::Embedded>(sandbox_dir.string());
  sandbox::Embedded* embedded = m_embedded.get();
  options.make_provider = [embedded](const ProviderConfig& config,
                                     const providers::ProviderOptions& given) {
    // Resolving starts the sandbox, whose token the environment then holds.
    ProviderConfig resolved = embedded->resolve(config);
    providers::ProviderOptions with_sandbox = given;
    with_sandbox.environment = embedded->environment(std::move(with_sandbox.environment));
    return providers::make_provider(resolved, with_sandbox);
  };
  m_session = std::make_unique<session::Session>(std::move(options));
}

CommandSession::~CommandSession() = default;

} // namespace stove
