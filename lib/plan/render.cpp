#include "plan/render.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace stove {

namespace {

struct Palette {
  bool on = false;
  std::string_view paint(std::string_view code) const { return on ? code : ""; }
  std::string_view green() const { return paint("\033[32m"); }
  std::string_view yellow() const { return paint("\033[33m"); }
  std::string_view red() const { return paint("\033[31m"); }
  std::string_view bold() const { return paint("\033[1m"); }
  std::string_view reset() const { return paint("\033[0m"); }
};

std::string header(const ResourceChange& c) {
  switch (c.action) {
  case Action::create:
    return c.reason == ChangeReason::status_incomplete
               ? fmt::format("{} will be created (its last create did not complete)", c.address)
               : fmt::format("{} will be created", c.address);
  case Action::update:
    return c.reason == ChangeReason::status_incomplete
               ? fmt::format("{} will be updated in-place (its last request did not complete)",
                             c.address)
               : fmt::format("{} will be updated in-place", c.address);
  case Action::destroy:
    return fmt::format("{} will be destroyed (it is no longer in the file)", c.address);
  case Action::replace:
    switch (c.reason) {
    case ChangeReason::parent_replaced:
      return fmt::format("{} must be replaced because its parent {} is replaced", c.address,
                         c.parent);
    case ChangeReason::parent_changed:
      return fmt::format("{} must be replaced: it moved from {}", c.address,
                         c.previous_address);
    case ChangeReason::provider_changed:
      return fmt::format("{} must be replaced: its provider changed to \"{}\"", c.address,
                         c.provider);
    default:
      return fmt::format("{} must be replaced", c.address);
    }
  case Action::no_op:
    break;
  }
  return c.address;
}

const nlohmann::json& field_of(const nlohmann::json& spec, std::string_view name) {
  static const nlohmann::json k_null;
  if (!spec.is_object()) {
    return k_null;
  }
  auto it = spec.find(std::string(name));
  return it == spec.end() ? k_null : *it;
}

} // namespace

std::string render_value(const nlohmann::json& value) {
  if (value.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < value.size(); ++i) {
      out += i == 0 ? "" : ", ";
      out += render_value(value[i]);
    }
    return out + "]";
  }
  if (value.is_object()) {
    if (value.empty()) {
      return "{}";
    }
    std::string out = "{ ";
    bool first = true;
    for (const auto& [k, v] : value.items()) {
      out += first ? "" : ", ";
      out += nlohmann::json(k).dump() + " = " + render_value(v);
      first = false;
    }
    return out + " }";
  }
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

// One attribute line of a change's block.
struct AttributeLine {
  std::string_view marker_color;
  char marker;
  std::string_view field;
  std::string value;
  bool forces = false;
};

// The attribute lines of change `c`: every field of a create or a destroy,
// the changed ones otherwise (`hidden` counts the others).
std::vector<AttributeLine> field_lines(const ResourceChange& c, const KindSchema& schema,
                                       const Palette& p, size_t& hidden) {
  std::vector<AttributeLine> lines;
  for (const auto& field : schema.fields) {
    const auto& before = field_of(c.before, field.name);
    const auto& after = field_of(c.after, field.name);
    bool forces = std::find(c.replace_paths.begin(), c.replace_paths.end(), field.name) !=
                  c.replace_paths.end();
    switch (c.action) {
    case Action::create:
      lines.push_back({p.green(), '+', field.name, render_value(after)});
      break;
    case Action::destroy:
      lines.push_back({p.red(), '-', field.name, render_value(before) + " -> null"});
      break;
    default:
      if (before == after) {
        ++hidden;
      } else if (before.is_null()) {
        lines.push_back({p.green(), '+', field.name, render_value(after), forces});
      } else {
        lines.push_back({p.yellow(), '~', field.name,
                         render_value(before) + " -> " + render_value(after), forces});
      }
      break;
    }
  }
  return lines;
}

// The block of one change that is not a no-op: its header, then its
// attributes, aligned.
void render_change(std::string& out, const ResourceChange& c, const Palette& p) {
  const KindSchema& schema = schema_of(c.kind);
  const nlohmann::json& named = c.after.is_object() ? c.after : c.before;
  std::string name = field_of(named, "name").is_string()
                         ? field_of(named, "name").get<std::string>() : std::string();

  std::string marker;
  std::string indent = "  ";
  switch (c.action) {
  case Action::create: marker = fmt::format("{}+{}", p.green(), p.reset()); break;
  case Action::update: marker = fmt::format("{}~{}", p.yellow(), p.reset()); break;
  case Action::destroy: marker = fmt::format("{}-{}", p.red(), p.reset()); break;
  case Action::replace:
    marker = fmt::format("{}-{}/{}+{}", p.red(), p.reset(), p.green(), p.reset());
    indent = "";
    break;
  case Action::no_op: break;
  }
  out += fmt::format("\n  {}# {}{}\n", p.bold(), header(c), p.reset());
  out += fmt::format("{}{} {} {} {{\n", indent, marker, schema.name,
                     nlohmann::json(name).dump(-1, ' ', false,
                                               nlohmann::json::error_handler_t::replace));

  size_t hidden = 0;
  std::vector<AttributeLine> lines = field_lines(c, schema, p, hidden);
  size_t width = 0;
  for (const auto& l : lines) {
    width = std::max(width, l.field.size());
  }
  for (const auto& l : lines) {
    out += fmt::format("      {}{}{} {:<{}} = {}{}\n", l.marker_color, l.marker, p.reset(),
                       l.field, width, l.value,
                       l.forces ? fmt::format(" {}# forces replacement{}", p.red(), p.reset())
                                : "");
  }
  if (hidden > 0) {
    out += fmt::format("        # ({} unchanged attribute{} hidden)\n", hidden,
                       hidden == 1 ? "" : "s");
  }
  out += "    }\n";
}

} // namespace

std::string render_plan(const Plan& plan, const RenderOptions& options) {
  Palette p{options.color};
  PlanSummary summary = plan.summary();
  std::string out;
  if (!summary.has_changes()) {
    out += fmt::format("{}No changes.{} The infrastructure matches the file and the state.\n",
                       p.bold(), p.reset());
    return out;
  }
  out += "Stove will perform the following actions:\n";
  for (const auto& c : plan.changes) {
    if (c.action != Action::no_op) {
      render_change(out, c, p);
    }
  }
  out += fmt::format("\n{}Plan:{} {} to add, {} to change, {} to destroy.\n", p.bold(), p.reset(),
                     summary.add, summary.change, summary.destroy);
  return out;
}

std::string render_drift(const DriftReport& report, const RenderOptions& options) {
  Palette p{options.color};
  std::string out;
  if (!report.drift.empty()) {
    out += fmt::format("{}Objects have changed outside of Stove{}\n\n", p.bold(), p.reset());
    out += "Stove found these changes made since the last apply, outside of Stove:\n";
    for (const auto& d : report.drift) {
      if (d.deleted) {
        out += fmt::format("\n  {}# {} has been deleted{}\n", p.bold(), d.address, p.reset());
        out += fmt::format("  {}-{} {} [id={}]\n", p.red(), p.reset(), to_string(d.kind),
                           d.remote_id);
        continue;
      }
      if (!d.missing.empty()) {
        out += fmt::format("\n  {}# {} is incomplete (a run cut short, or a change made by "
                           "hand){}\n",
                           p.bold(), d.address, p.reset());
        for (const auto& part : d.missing) {
          out += fmt::format("  {}!{} missing: {}\n", p.red(), p.reset(), part);
        }
        if (d.attributes.empty()) {
          continue;
        }
      } else {
        out += fmt::format("\n  {}# {} has changed{}\n", p.bold(), d.address, p.reset());
      }
      out += fmt::format("  {}~{} {} [id={}] {{\n", p.yellow(), p.reset(), to_string(d.kind),
                         d.remote_id);
      size_t width = 0;
      for (const auto& a : d.attributes) {
        width = std::max(width, a.field.size());
      }
      for (const auto& a : d.attributes) {
        out += fmt::format("      {}~{} {:<{}} = {} -> {}\n", p.yellow(), p.reset(), a.field,
                           width, render_value(a.state), render_value(a.real));
      }
      out += "    }\n";
    }
  }
  if (!report.unmanaged.empty()) {
    out += out.empty() ? "" : "\n";
    out += fmt::format("{}Objects Stove does not manage, inside resources it does{}\n",
                       p.bold(), p.reset());
    out += "\nStove leaves them alone; import them to manage them (stove import):\n\n";
    for (const auto& u : report.unmanaged) {
      out += fmt::format("  ? {}: {} {} [id={}]\n", u.parent, to_string(u.kind),
                         nlohmann::json(u.name).dump(), u.remote_id);
    }
  }
  return out;
}

} // namespace stove
