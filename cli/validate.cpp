#include "command.hpp"

#include "parse/config_loader.hpp"
#include "plan/inputs.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <map>
#include <memory>

namespace stove {

namespace {

struct ValidateOptions {
  std::string file;
  bool json = false;
};

int run_validate(const ValidateOptions& options, const Context& context) {
  SourceFile source = SourceFile::read(options.file);
  Diagnostics diagnostics;
  Config config = load_config_file(source, diagnostics);
  diagnostics.sort();

  if (options.json) {
    nlohmann::ordered_json out;
    out["format_version"] = 1;
    out["file"] = options.file;
    out["valid"] = !diagnostics.has_errors();
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& d : diagnostics.all()) {
      list.push_back({{"severity", d.severity == Severity::error ? "error" : "warning"},
                      {"line", d.mark.line},
                      {"column", d.mark.column},
                      {"message", d.message}});
    }
    out["diagnostics"] = std::move(list);
    out["resources"] = diagnostics.has_errors() ? 0 : config.resources.size();
    print_out(out.dump(2) + "\n");
    return diagnostics.has_errors() ? k_exit_error : k_exit_ok;
  }

  Inputs shown;
  shown.source = std::move(source);
  shown.diagnostics = std::move(diagnostics);
  if (report_diagnostics(shown, context)) {
    return k_exit_error;
  }
  if (config.implicit_sandbox) {
    print_note("the file declares no providers: using the embedded sandbox cloud");
  }
  std::map<std::string_view, size_t> counts;
  for (const auto& r : config.resources) {
    ++counts[to_string(r.kind)];
  }
  std::vector<std::string> parts;
  for (const auto& k : all_kinds()) {
    if (auto it = counts.find(k.name); it != counts.end()) {
      parts.push_back(fmt::format("{} {}", it->second, k.name));
    }
  }
  size_t total = config.resources.size();
  print_out(fmt::format("{} is valid: {} resource{}{}\n", options.file, total,
                        total == 1 ? "" : "s",
                        parts.empty() ? "" : fmt::format(" ({})", fmt::join(parts, ", "))));
  return k_exit_ok;
}

} // namespace

void set_validate_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<ValidateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "validate", "Check an infrastructure file against the schema; reads no state, calls no API");
  cmd->add_option("FILE", options->file, "The infrastructure file (YAML or JSON)")->required();
  cmd->add_flag("--json", options->json, "Print the result as JSON");
  cmd->footer("Exit status: 0 when the file is valid, 1 when it is not or cannot be read.");
  context.on_run(cmd, [options, &context] { return run_validate(*options, context); });
}

} // namespace stove
