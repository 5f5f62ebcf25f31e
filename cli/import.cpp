// `stove import FILE ADDRESS REMOTE_ID`: binds an object made outside stove
// to a resource the file declares, so that stove manages it from then on.

#include "command.hpp"

#include "apply/engine.hpp"
#include "apply/import.hpp"
#include "http/client.hpp"
#include "model/address.hpp"
#include "util/error.hpp"
#include "plan/inputs.hpp"
#include "plan/render.hpp"
#include "state/journal.hpp"
#include "state/lock.hpp"
#include "state/statefile.hpp"

#include <fmt/format.h>

#include <filesystem>
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

int run_import(const ImportCommandOptions& options, const Context& context) {
  const Address address = address_argument(options.address);
  const std::string canonical = address.str();
  const auto lock_timeout = lock_timeout_option(options.lock_timeout);

  const std::string state_path =
      options.state.empty() ? default_state_path(options.file) : options.state;
  // Said before the lock makes a directory or a lock file.
  std::error_code ec;
  if (!std::filesystem::exists(options.file, ec)) {
    throw Error(ErrorKind::io,
                fmt::format("{}: cannot read: No such file or directory", options.file));
  }
  StateLock lock = StateLock::acquire(state_path, "import", lock_timeout);

  // The file gives the resource and its provider's configuration; the state,
  // the parents the object must sit in.
  Inputs inputs = load_inputs(options.file, state_path);
  if (report_diagnostics(inputs, context)) {
    return k_exit_error;
  }
  const ImportRequest request =
      prepare_import(inputs.config, inputs.state, address, options.remote_id);
  if (inputs.config.implicit_sandbox) {
    print_note("the file declares no providers: using the embedded sandbox cloud");
  }

  CommandProviders command_providers(state_path, inputs.config.providers,
                                     http::ClientOptions{}.max_in_flight);
  print_out(fmt::format("{}: Importing from ID \"{}\"...\n", canonical, options.remote_id));
  ImportResult result = import_resource(request, command_providers.set(), ImportOptions{});
  print_out(fmt::format("{}: Import prepared!\n{}", canonical, prepared_text(result)));

  if (inputs.journal.found) {
    // The recovered state is written on its own first, so that PATH.backup
    // holds it: restoring the backup undoes the import, not the recovery.
    save_recovered_state(state_path, inputs.state, inputs.journal.records);
  }
  const std::string kind = result.record.kind;
  inputs.state.resources.push_back(std::move(result.record));
  write_state(state_path, inputs.state);
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
