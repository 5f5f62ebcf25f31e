#include "command.hpp"
#include "terminal.hpp"

#include "model/address.hpp"
#include "util/error.hpp"
#include "util/suggest.hpp"
#include "plan/render.hpp"
#include "session/session.hpp"
#include "state/state_edit.hpp"
#include "state/statefile.hpp"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <memory>

namespace stove {

namespace {

struct StateOptions {
  StateChoice choice;
  std::string address;
  bool json = false;
};

State load_existing_state(const std::string& path) {
  State state = load_state(path);
  if (!state.exists) {
    throw Error(ErrorKind::state, fmt::format("{}: no such state file", path));
  }
  return state;
}

// The resource's record exactly as the state file holds it: serialised by
// the state writer, so that the two never drift apart.
nlohmann::ordered_json resource_json(const ResourceState& r) {
  State single;
  single.resources.push_back(r);
  return nlohmann::ordered_json::parse(serialize_state(single))["resources"][0];
}

struct StateEditOptions {
  StateChoice choice;
  std::vector<std::string> addresses; // rm
  std::string from;                   // mv
  std::string to;                     // mv
  bool recursive = false;
  std::string lock_timeout = "0s";
};

// An edit of the state, as apply writes it: under the lock, with the journal
// of an interrupted run folded in first. `edit` changes the state it is
// given or throws, in which case nothing is written.
void edit_state(const std::string& path, const std::string& operation,
                std::chrono::milliseconds timeout, const std::function<void(State&)>& edit) {
  const Context plain; // only notes come: no colour to choose
  TerminalReporter reporter(plain);
  session::SessionOptions options;
  options.state_path = path;
  options.reporter = &reporter;
  options.lock_timeout = timeout;
  session::Session(std::move(options)).edit_state(operation, edit);
}

int run_rm(const StateEditOptions& options) {
  std::vector<Address> addresses;
  for (const auto& text : options.addresses) {
    addresses.push_back(address_argument(text));
  }
  const auto timeout = lock_timeout_option(options.lock_timeout);
  std::string path = chosen_state_path(options.choice);
  std::vector<std::string> removed;
  edit_state(path, "state rm", timeout, [&](State& state) {
    removed = remove_resources(state, path, addresses, options.recursive);
  });
  std::string out;
  for (const auto& address : removed) {
    out += fmt::format("Removed {}\n", address);
  }
  out += fmt::format("Successfully removed {} resource instance(s).\n", removed.size());
  print_out(out);
  return k_exit_ok;
}

int run_mv(const StateEditOptions& options) {
  Address from = address_argument(options.from);
  Address to = address_argument(options.to);
  const auto timeout = lock_timeout_option(options.lock_timeout);
  std::string path = chosen_state_path(options.choice);
  std::vector<MovedAddress> moved;
  edit_state(path, "state mv", timeout,
             [&](State& state) { moved = move_resource(state, path, from, to); });
  std::string out;
  for (const auto& m : moved) {
    out += fmt::format("Move \"{}\" to \"{}\"\n", m.from, m.to);
  }
  out += fmt::format("Successfully moved {} object(s).\n", moved.size());
  print_out(out);
  return k_exit_ok;
}

int run_list(const StateOptions& options) {
  std::string path = chosen_state_path(options.choice);
  State state = load_existing_state(path);
  if (options.json) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& r : state.resources) {
      list.push_back({{"address", r.address},
                      {"kind", r.kind},
                      {"remote_id", r.remote_id},
                      {"status", to_string(r.status)}});
    }
    print_out(list.dump(2) + "\n");
    return k_exit_ok;
  }
  std::string out;
  for (const auto& r : state.resources) {
    out += r.address;
    out += '\n';
  }
  print_out(out);
  return k_exit_ok;
}

int run_show(const StateOptions& options) {
  auto address = address_argument(options.address);
  std::string path = chosen_state_path(options.choice);
  State state = load_existing_state(path);
  std::string wanted = address.str();
  const ResourceState* found = nullptr;
  std::vector<std::string> addresses;
  for (const auto& r : state.resources) {
    if (r.address == wanted) {
      found = &r;
      break;
    }
    addresses.push_back(r.address);
  }
  if (found == nullptr) {
    throw Error(ErrorKind::input, fmt::format("{} has no resource {}{}", path, wanted,
                                              did_you_mean(wanted, addresses)));
  }
  const ResourceState& r = *found;
  if (options.json) {
    print_out(resource_json(r).dump(2) + "\n");
    return k_exit_ok;
  }
  std::string out = fmt::format("# {}\n", r.address);
  auto row = [&out](std::string_view key, const std::string& value) {
    out += fmt::format("{:<12} = {}\n", key, value);
  };
  row("kind", r.kind);
  row("provider", r.provider.empty() ? "(none)" : r.provider);
  row("remote_id", r.remote_id.empty() ? "(none)" : r.remote_id);
  row("status", std::string(to_string(r.status)));
  row("parent", r.parent.empty() ? "(none)" : r.parent);
  row("dependencies", render_value(r.dependencies));
  row("created_at", r.created_at);
  row("updated_at", r.updated_at);
  auto section = [&out](std::string_view title, const nlohmann::json& values) {
    out += fmt::format("\n{}:\n", title);
    if (values.empty()) {
      out += "  (none)\n";
    }
    size_t width = 0;
    for (const auto& [k, _] : values.items()) {
      width = std::max(width, k.size());
    }
    for (const auto& [k, v] : values.items()) {
      out += fmt::format("  {:<{}} = {}\n", k, width, render_value(v));
    }
  };
  section("spec", r.spec);
  section("observed", r.observed);
  print_out(out);
  return k_exit_ok;
}

} // namespace

void add_lock_timeout(CLI::App& command, std::string& lock_timeout) {
  command
      .add_option("--lock-timeout", lock_timeout,
                  "Wait up to DURATION for another stove to release the state lock (default 0s: "
                  "fail at once)")
      ->type_name("DURATION");
}

void set_state_command(CLI::App& app, Context& context) {
  CLI::App* state = app.add_subcommand("state", "Inspect the state file, or forget and rename "
                                                "resources in it");
  state->footer("Exit status: 0 success, 1 error (no state file, an unknown address, ...).");
  state->require_subcommand(1);

  auto list_options = std::make_shared<StateOptions>();
  CLI::App* list = state->add_subcommand("list", "List the addresses of the resources in the "
                                                 "state, one a line");
  add_state_choice(*list, list_options->choice);
  list->add_flag("--json", list_options->json, "Print a JSON list");
  context.on_run(list, [list_options] { return run_list(*list_options); });

  auto show_options = std::make_shared<StateOptions>();
  CLI::App* show = state->add_subcommand("show", "Show one resource as the state records it");
  show->add_option("ADDRESS", show_options->address,
                   "The resource's address, e.g. 'cloud_space[\"My VDC\"].machine[\"drupal\"]'")
      ->required();
  add_state_choice(*show, show_options->choice);
  show->add_flag("--json", show_options->json, "Print the record as JSON");
  context.on_run(show, [show_options] { return run_show(*show_options); });

  auto rm_options = std::make_shared<StateEditOptions>();
  CLI::App* rm = state->add_subcommand(
      "rm", "Forget resources: remove them from the state without destroying them");
  rm->add_option("ADDRESS", rm_options->addresses,
                 "The resources' addresses, e.g. 'cloud_space[\"My VDC\"].machine[\"drupal\"]'")
      ->required();
  rm->add_flag("-r,--recursive", rm_options->recursive,
               "Also forget the resources under each ADDRESS (without it, they must be named too)");
  add_state_choice(*rm, rm_options->choice);
  rm->get_option("--state")->description("The state file to change");
  add_lock_timeout(*rm, rm_options->lock_timeout);
  rm->footer("The objects stay in the cloud; a later plan offers to create them again unless the "
             "file drops them too.\nThe previous state is kept as PATH.backup.\nExit status: 0 "
             "success, 1 error (nothing is changed).");
  context.on_run(rm, [rm_options] { return run_rm(*rm_options); });

  auto mv_options = std::make_shared<StateEditOptions>();
  CLI::App* mv = state->add_subcommand(
      "mv", "Rename a resource's address in the state, with what is under it");
  mv->add_option("FROM", mv_options->from, "The resource's address")->required();
  mv->add_option("TO", mv_options->to,
                 "Its new address: same kind, same parent, not in the state yet")
      ->required();
  add_state_choice(*mv, mv_options->choice);
  mv->get_option("--state")->description("The state file to change");
  add_lock_timeout(*mv, mv_options->lock_timeout);
  mv->footer("Only the last segment of an address can change; moving a parent renames what is "
             "under it.\nThe previous state is kept as PATH.backup.\nExit status: 0 success, 1 "
             "error (nothing is changed).");
  context.on_run(mv, [mv_options] { return run_mv(*mv_options); });
}

} // namespace stove
