#include "command.hpp"

#include "model/address.hpp"
#include "model/error.hpp"
#include "parse/suggest.hpp"
#include "plan/render.hpp"
#include "state/statefile.hpp"

#include <fmt/format.h>

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
  AddressError problem;
  auto address = parse_address(options.address, &problem);
  if (!address) {
    throw Error(ErrorKind::usage, fmt::format("bad address \"{}\": {} (at character {})",
                                              options.address, problem.message,
                                              problem.offset + 1));
  }
  std::string path = chosen_state_path(options.choice);
  State state = load_existing_state(path);
  std::string wanted = address->str();
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

void set_state_command(CLI::App& app, Context& context) {
  CLI::App* state = app.add_subcommand("state", "Inspect the state file");
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
}

} // namespace stove
