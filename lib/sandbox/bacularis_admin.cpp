// The admin endpoint's changes to the director's configuration
// (server.cpp, /sandbox/admin/bacula/{Type}/{Name}), behind Bacularis'
// back.

#include "sandbox/bacularis.hpp"

#include "model/bacula_name.hpp"
#include "sandbox/admin.hpp"
#include "sandbox/committer.hpp"

#include <fmt/format.h>

#include <exception>
#include <utility>

namespace stove::sandbox {

using nlohmann::json;

Reply Bacularis::committed(Reply reply) {
  if (reply.version != 0 && m_committer) {
    if (auto error = m_committer->commit(reply.version)) {
      return admin::error(500, fmt::format("the sandbox could not save its data: {}", *error));
    }
  }
  return reply;
}

Reply Bacularis::admin_update(const std::string& type_name, const std::string& name,
                              const json& directives) {
  Reply reply;
  {
    std::lock_guard lock(m_mutex);
    auto type = bacula::canonical_type(type_name);
    if (!type || !bacula::editable_type(*type)) {
      return admin::error(404, fmt::format("the sandbox's director has no {} resources to change "
                                           "(it has Client, Fileset, Schedule, Pool and Job)",
                                           type_name));
    }
    if (auto problem = check_bacula_name(name)) {
      return admin::error(400, fmt::format("{} \"{}\": {}", *type, name, problem->message));
    }
    if (!directives.is_object()) {
      return admin::error(400, "the request body must be a JSON object of directives");
    }
    if (auto given = directives.find("Name"); given != directives.end() && *given != json(name)) {
      return admin::error(400, fmt::format("{} \"{}\": Name {} differs from the name in the path",
                                           *type, name, given->dump()));
    }
    auto& resources = m_config[*type];
    auto existing = resources.find(name);
    const bool create = existing == resources.end();
    json d = create ? json::object() : existing->second;
    for (const auto& [key, value] : directives.items()) {
      if (value.is_null()) {
        d.erase(key);
      } else {
        d[key] = value;
      }
    }
    d["Name"] = name;
    json read;
    try {
      read = bacula::read_resource(*type, d);
    } catch (const std::exception& e) {
      return admin::error(400, fmt::format("{} \"{}\": {}", *type, name, e.what()));
    }
    if (!create && read == existing->second) {
      return {200, read};
    }
    resources[name] = read;
    reply = {create ? 201 : 200, std::move(read), ++m_version};
  }
  return committed(std::move(reply));
}

Reply Bacularis::admin_delete(const std::string& type_name, const std::string& name) {
  Reply reply;
  {
    std::lock_guard lock(m_mutex);
    auto type = bacula::canonical_type(type_name);
    if (!type || !bacula::editable_type(*type)) {
      return admin::error(404, fmt::format("the sandbox's director has no {} resources to change "
                                           "(it has Client, Fileset, Schedule, Pool and Job)",
                                           type_name));
    }
    auto resources = m_config.find(*type);
    if (resources == m_config.end() || resources->second.erase(name) == 0) {
      return admin::error(404, fmt::format("{} \"{}\" not found", *type, name));
    }
    if (resources->second.empty()) {
      m_config.erase(resources);
    }
    reply = {200, json{{"deleted", {{*type, json::array({name})}}}}, ++m_version};
  }
  return committed(std::move(reply));
}

} // namespace stove::sandbox
