#include "command.hpp"

#include "util/error.hpp"
#include "model/kind.hpp"
#include "plan/render.hpp"

#include <fmt/format.h>

#include <memory>

namespace stove {

namespace {

struct SchemaOptions {
  std::string kind;
  bool json = false;
};

std::string describe_change(const FieldSchema& f) {
  switch (f.update) {
  case UpdateRule::in_place: return "in place";
  case UpdateRule::forces_replacement: return "replaces";
  case UpdateRule::grows_in_place: return "grows in place, shrinking replaces";
  }
  return "";
}

std::string describe_values(const FieldSchema& f) {
  switch (f.type) {
  case FieldType::integer: {
    std::string out = fmt::format("{}..{}", f.min, f.max);
    if (!f.unit.empty()) {
      out += " " + std::string(f.unit);
    }
    if (f.even) {
      out += ", even";
    }
    return out;
  }
  case FieldType::string: {
    std::string limit = f.max_length != 0 ? fmt::format("up to {} characters", f.max_length) : "";
    switch (f.syntax) {
    case Syntax::none: return limit;
    case Syntax::bacula_name: return fmt::format("Bacula name, <= {} chars", f.max_length);
    case Syntax::bacula_schedule: return "Bacula Run directive";
    case Syntax::bucket_name: return "S3 bucket name";
    }
    return limit;
  }
  case FieldType::enumeration: return fmt::format("{}", fmt::join(f.allowed, " | "));
  default: return "";
  }
}

std::string render_kind(const KindSchema& k) {
  std::string out = fmt::format("{}", k.name);
  if (!k.aliases.empty()) {
    out += fmt::format(" (alias: {})", fmt::join(k.aliases, ", "));
  }
  out += fmt::format(": {}\n", k.doc);
  if (k.parent) {
    out += fmt::format("  nests under a {}; moving it to another {} replaces it\n",
                       to_string(*k.parent), to_string(*k.parent));
  }
  if (k.child) {
    out += fmt::format("  holds {} entries under: {}\n", to_string(*k.child),
                       fmt::join(k.child_keys, ", "));
  }
  out += fmt::format("  provider types: {}\n\n", fmt::join(k.provider_types, ", "));
  out += fmt::format("  {:<16} {:<16} {:<9} {:<12} {:<28} {}\n", "FIELD", "TYPE", "REQUIRED",
                     "DEFAULT", "VALUES", "CHANGE");
  for (const auto& f : k.fields) {
    out += fmt::format("  {:<16} {:<16} {:<9} {:<12} {:<28} {}\n", f.name, to_string(f.type),
                       f.required ? "yes" : "no",
                       f.default_value.is_null() ? "-" : render_value(f.default_value),
                       describe_values(f), describe_change(f));
  }
  if (k.actions.empty()) {
    out += "\n  actions (stove exec): none\n";
    return out;
  }
  out += "\n  actions (stove exec):\n";
  for (const auto& a : k.actions) {
    out += fmt::format("  {:<16} {}\n", a.name, a.doc);
    for (const auto& p : a.params) {
      std::string values =
          p.type == FieldType::enumeration
              ? fmt::format("{}", fmt::join(p.allowed, "|"))
              : std::string(p.type == FieldType::boolean ? "true|false" : to_string(p.type));
      std::string more = p.required ? std::string("required")
                         : p.default_value.is_null()
                             ? std::string("optional")
                             : fmt::format("default {}", render_value(p.default_value));
      out += fmt::format("  {:<16}   --param {}={} ({}): {}\n", "", p.name, values, more, p.doc);
    }
  }
  return out;
}

int run_schema(const SchemaOptions& options) {
  std::vector<const KindSchema*> chosen;
  if (options.kind.empty()) {
    for (const auto& k : all_kinds()) {
      chosen.push_back(&k);
    }
  } else {
    auto kind = find_kind(options.kind);
    if (!kind) {
      throw Error(ErrorKind::usage, fmt::format("unknown kind \"{}\"", options.kind));
    }
    chosen.push_back(&schema_of(*kind));
  }
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto* k : chosen) {
      out.push_back(schema_to_json(*k));
    }
    print_out(out.dump(2) + "\n");
    return k_exit_ok;
  }
  std::string out;
  for (const auto* k : chosen) {
    out += out.empty() ? "" : "\n";
    out += render_kind(*k);
  }
  print_out(out);
  return k_exit_ok;
}

} // namespace

void set_schema_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<SchemaOptions>();
  CLI::App* cmd = app.add_subcommand(
      "schema",
      "Describe the resource kinds: fields, types, defaults, ranges, update rules, actions");
  cmd->add_option("KIND", options->kind, "One kind (cloud_space, machine, backup, bucket)");
  cmd->add_flag("--json", options->json, "Print the declarations as JSON");
  cmd->footer("Exit status: 0 success, 1 error (for example, an unknown kind).");
  context.on_run(cmd, [options] { return run_schema(*options); });
}

} // namespace stove
