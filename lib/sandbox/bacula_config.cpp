#include "sandbox/bacula_config.hpp"

#include "model/bacula_name.hpp"
#include "model/bacula_run.hpp"
#include "sandbox/bacula_directives.hpp"

#include <fmt/format.h>

#include <string>

namespace stove::sandbox::bacula {

namespace {

using nlohmann::json;

bool exists(const Resources& resources, std::string_view type, const std::string& name) {
  auto t = resources.find(type);
  return t != resources.end() && t->second.count(name) > 0;
}

// One directive's lines in the file, `indent` deep.
void write_directive(std::string& out, const Directive& d, const json& value,
                     const std::string& indent) {
  auto line = [&](std::string_view key, const std::string& text) {
    out += fmt::format("{}{} = {}\n", indent, key, text);
  };
  switch (d.kind) {
  case Kind::runs:
    for (const auto& item : value) {
      line(d.key, directive_text(*run_from_bdirjson(item)));
    }
    return;
  case Kind::include:
  case Kind::exclude:
    for (const auto& block : list_of(value)) {
      out += fmt::format("{}{} {{\n", indent, d.key);
      for (const auto& f : block.value("File", json::array())) {
        line("  File", bacula_quoted(f.get<std::string>()));
      }
      for (const auto& options : block.value("Options", json::array())) {
        out += fmt::format("{}  Options {{\n", indent);
        for (const auto& [key, v] : options.items()) {
          out += fmt::format("{}    {} = {}\n", indent, key == "OneFs" ? "OneFS" : key,
                             v.get<std::string>());
        }
        out += fmt::format("{}  }}\n", indent);
      }
      out += fmt::format("{}}}\n", indent);
    }
    return;
  case Kind::references:
    for (const auto& item : value) {
      line(d.key, bacula_quoted(item.get<std::string>()));
    }
    return;
  case Kind::boolean:
    line(d.key, value.get<bool>() ? "yes" : "no");
    return;
  case Kind::integer:
  case Kind::duration:
    line(d.key, value.dump());
    return;
  case Kind::job_type:
  case Kind::job_level:
    line(d.key, value.get<std::string>());
    return;
  default:
    line(d.key, bacula_quoted(value.get<std::string>()));
    return;
  }
}

} // namespace

const json* find_resource(const Resources& resources, std::string_view type,
                          const std::string& name) {
  auto t = resources.find(type);
  if (t == resources.end()) {
    return nullptr;
  }
  auto r = t->second.find(name);
  return r == t->second.end() ? nullptr : &r->second;
}

Resources base_resources(const std::string& working_directory) {
  Resources base;
  base["Director"]["sandbox-dir"] = {{"Name", "sandbox-dir"},
                                     {"Messages", "Standard"},
                                     {"QueryFile", "/etc/bacula/scripts/query.sql"},
                                     {"WorkingDirectory", working_directory},
                                     {"PidDirectory", working_directory},
                                     {"Password", "sandbox-director"}};
  base["Catalog"]["MyCatalog"] = {{"Name", "MyCatalog"}, {"DbName", "bacula"}};
  base["Messages"]["Standard"] = {{"Name", "Standard"}};
  base["Storage"]["File1"] = {{"Name", "File1"},
                              {"Address", "localhost"},
                              {"Password", "sandbox-storage"},
                              {"Device", json::array({"FileChgr1"})},
                              {"MediaType", "File1"}};
  return base;
}

void check_config(const Resources& resources) {
  for (const auto& [type_name, by_name] : resources) {
    const ResourceType& type = type_of(type_name);
    for (const auto& [name, resource] : by_name) {
      require(type, resource);
      for (const auto& d : type.directives) {
        auto it = resource.find(std::string(d.key));
        if (it == resource.end() || d.refers_to.empty()) {
          continue;
        }
        for (const auto& target : list_of(*it)) {
          if (!exists(resources, d.refers_to, target.get<std::string>())) {
            throw ConfigError(fmt::format("Could not find config Resource \"{}\" referenced by "
                                          "{} \"{}\" : \"{}\"",
                                          target.get<std::string>(), type.name, name, d.key));
          }
        }
      }
      if (type.name == "Schedule") {
        for (const auto& run : resource.value("Run", json::array())) {
          for (const auto& [key, refers_to] : run_references()) {
            if (auto r = run.find(std::string(key));
                r != run.end() && !exists(resources, refers_to, r->get<std::string>())) {
              throw ConfigError(fmt::format("Could not find specified {} Resource: {}", refers_to,
                                            r->get<std::string>()));
            }
          }
        }
      }
      if (type.name == "Job") {
        const std::string job_type = resource.value("Type", "");
        if (job_type == "Backup" || job_type == "Verify") {
          for (const char* key : {"Client", "Fileset"}) {
            if (!resource.contains(key)) {
              throw ConfigError(fmt::format("\"{}\" directive in Job \"{}\" resource is required, "
                                            "but not found.",
                                            key, name));
            }
          }
        }
        bool storage = resource.contains("Storage");
        if (!storage && resource.contains("Pool")) {
          auto pools = resources.find("Pool");
          if (pools != resources.end()) {
            auto pool = pools->second.find(resource["Pool"].get<std::string>());
            storage = pool != pools->second.end() && pool->second.contains("Storage");
          }
        }
        if (!storage) {
          throw ConfigError(fmt::format("No storage specified in Job \"{}\" nor in Pool.", name));
        }
      }
    }
  }
}

json dependents(const Resources& resources, std::string_view type, std::string_view name) {
  json out = json::array();
  for (const auto& [type_name, by_name] : resources) {
    const ResourceType& t = type_of(type_name);
    for (const auto& [resource_name, resource] : by_name) {
      for (const auto& d : t.directives) {
        auto it = resource.find(std::string(d.key));
        if (it == resource.end() || d.refers_to != type) {
          continue;
        }
        for (const auto& target : list_of(*it)) {
          if (target == json(name)) {
            out.push_back({{"component_type", "Director"},
                           {"resource_type", type_name},
                           {"resource_name", resource_name},
                           {"directive_name", d.key}});
          }
        }
      }
      if (t.name == "Schedule") {
        for (const auto& run : resource.value("Run", json::array())) {
          for (const auto& [key, refers_to] : run_references()) {
            if (refers_to == type && run.value(std::string(key), json()) == json(name)) {
              out.push_back({{"component_type", "Director"},
                             {"resource_type", type_name},
                             {"resource_name", resource_name},
                             {"directive_name", key}});
            }
          }
        }
      }
    }
  }
  return out;
}

void rename_references(Resources& resources, std::string_view type, const std::string& from,
                       const std::string& to) {
  for (auto& [type_name, by_name] : resources) {
    const ResourceType& t = type_of(type_name);
    for (auto& [resource_name, resource] : by_name) {
      for (const auto& d : t.directives) {
        auto it = resource.find(std::string(d.key));
        if (it == resource.end() || d.refers_to != type) {
          continue;
        }
        if (it->is_array()) {
          for (auto& item : *it) {
            if (item == json(from)) {
              item = to;
            }
          }
        } else if (*it == json(from)) {
          *it = to;
        }
      }
      if (t.name == "Schedule" && resource.contains("Run")) {
        for (auto& run : resource["Run"]) {
          for (const auto& [key, refers_to] : run_references()) {
            if (auto r = run.find(std::string(key));
                r != run.end() && refers_to == type && *r == json(from)) {
              *r = to;
            }
          }
        }
      }
    }
  }
}

std::string config_text(const Resources& resources) {
  std::string out;
  for (const auto& type : resource_types()) {
    auto of_type = resources.find(type.name);
    if (of_type == resources.end()) {
      continue;
    }
    for (const auto& [name, resource] : of_type->second) {
      out += fmt::format("{} {{\n", type.name == "Fileset" ? "FileSet" : type.name);
      for (const auto& d : type.directives) {
        if (auto it = resource.find(std::string(d.key)); it != resource.end()) {
          write_directive(out, d, *it, "  ");
        }
      }
      out += "}\n\n";
    }
  }
  return out;
}

} // namespace stove::sandbox::bacula
