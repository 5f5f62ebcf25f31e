// `stove import FILE ADDRESS REMOTE_ID`: binds an object made outside stove
// to a resource the file declares, so that stove manages it from then on.

#include "command.hpp"

#include "terminal.hpp"

#include "apply/import.hpp"
#include "model/address.hpp"
#include "plan/inputs.hpp"
#include "plan/render.hpp"

#include <fmt/format.h>

#include <memory>

namespace stove {

namespace {

struct ImportCommandOptions {
  std::string file;
  std::string address;
  std::string remote_id;
  std::string state;
  std::string lock_timeout = "0s";
};

// "  Prepared machine for import", and the fields where the object differs
// from the file, which the next plan changes.
std::string prepared_text(const ImportResult& result) {
  std::string out = fmt::format("  Prepared {} for import\n", result.record.kind);
  const size_t n = result.differences.size();
  if (n == 0) {
    return out;
  }
  out += fmt::format("  The real {} differs from the file in {} field{}:\n", result.record.kind, n,
                     n == 1 ? "" : "s");
  for (const auto& d : result.differences) {
    out += fmt::format("    {}: file {}, real {}\n", d.field, render_value(d.state),
                       render_value(d.real));
  }
  return out;
}

// "Importing from ID ...", then what was read.
class ImportReporter final : public TerminalReporter {
public:
  using TerminalReporter::TerminalReporter;
  void report(const session::Event& event) override {
    if (event.type == session::EventType::importing) {
      print_out(fmt::format("{}: Importing from ID \"{}\"...\n", event.address, event.message));
    } else if (event.type == session::EventType::imported) {
      print_out(fmt::format("{}: Import prepared!\n{}", event.address,
                            prepared_text(*event.imported)));
    } else {
      TerminalReporter::report(event);
    }
  }
};

int run_import(const ImportCommandOptions& options, const Context& context) {
  const Address address = address_argument(options.address);
  const auto lock_timeout = lock_timeout_option(options.lock_timeout);

  ImportReporter reporter(context);
  session::SessionOptions session_options;
  session_options.state_path =
      options.state.empty() ? default_state_path(options.file) : options.state;
  session_options.reporter = &reporter;
  session_options.lock_timeout = lock_timeout;
  session_options.parallelism = 0;
  CommandSession session(std::move(session_options));
  session::ImportOutcome outcome = session->import(options.file, address, options.remote_id);
  if (!outcome.valid) {
    return k_exit_error;
  }
  const std::string kind = outcome.result.record.kind;
  print_out(
      fmt::format("\nImport successful!\n\nThe imported {} is now in the state and managed by "
                  "stove.\n`stove plan` shows any difference from the file.\n",
                  kind));
  return k_exit_ok;
}

} // namespace

void set_import_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<ImportCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "import", "Bind an object that already exists (made outside stove) to a resource the file "
                "declares, so that stove manages it");
  cmd->add_option("FILE", options->file,
                  "The infrastructure file: it declares the resource and its provider, and its "
                  "state is used by default")
      ->required();
  cmd->add_option("ADDRESS", options->address,
                  "The resource, e.g. 'cloud_space[\"web\"].machine[\"app\"]'; its parent must be "
                  "in the state")
      ->required();
  cmd->add_option("REMOTE_ID", options->remote_id,
                  "The provider's id of the object: a cloud space's or machine's number, a "
                  "bucket's or backup job's name")
      ->required();
  cmd->add_option("--state", options->state,
                  "The state file to change (default: state/<stem>.json under the current "
                  "directory)")
      ->type_name("PATH");
  cmd->add_option("--lock-timeout", options->lock_timeout,
                  "Wait up to DURATION for another stove to release the state lock (default 0s: "
                  "fail at once)")
      ->type_name("DURATION");
  cmd->footer("The object is read, never changed. The state records it with the file's spec, "
              "each field the provider reports taking the object's real value: `stove plan` "
              "then shows any difference from the file.\nThe previous state is kept as "
              "PATH.backup.\nExit status: 0 imported, 1 error (an unknown address, one already "
              "managed, a parent not in the state, no such object at the provider, ...; nothing "
              "is changed).");
  context.on_run(cmd, [options, &context] { return run_import(*options, context); });
}

} // namespace stove
