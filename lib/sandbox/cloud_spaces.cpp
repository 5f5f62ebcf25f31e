// The cloudapi's cloud spaces: cloudspaces/create, get, list, update and
// delete.

#include "sandbox/cloud_call.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace stove::sandbox {

using nlohmann::json;

namespace {

std::string location_codes() {
  std::vector<std::string_view> codes;
  for (const auto& l : locations()) {
    codes.push_back(l.code);
  }
  return fmt::format("{}", fmt::join(codes, ", "));
}

} // namespace

// A cloud space by id. An unknown (or DESTROYED) one is 404 as osis
// answers the G8's lookup; a DELETED one is 404 too, as the G8's
// authenticator answers a non-admin for anything but a delete.
Space& Cloud::Call::space(int64_t id, bool deleted_too) {
  auto it = data().spaces.find(id);
  if (it == data().spaces.end()) {
    refuse(404, fmt::format("Could not find {} of type cloudspace", id));
  }
  if (it->second.deleted && !deleted_too) {
    refuse(404, "Could not find an accessible resource.");
  }
  return it->second;
}

// DELETED spaces still hold their names.
void Cloud::Call::check_space_name_free(const Space& wanted) {
  for (const auto& [id, s] : data().spaces) {
    if (id != wanted.id && s.account_id == wanted.account_id && s.location == wanted.location &&
        s.name == wanted.name) {
      refuse(409, fmt::format("a cloud space named \"{}\" already exists in account {} at {} "
                              "(id {})",
                              wanted.name, wanted.account_id, wanted.location, id));
    }
  }
}

// cloudspaces/create: the space is VIRTUAL, and its deployment starts at
// once in the background (DEPLOYING, then DEPLOYED after the deploy
// delay; VIRTUAL for its first quarter).
Reply Cloud::Call::create_space(const Params& p) {
  Space s;
  s.account_id = p.integer("accountId");
  s.location = p.text("location");
  s.name = checked_name(p, "cloud space");
  s.access = g8_name(p, "access");
  s.description = p.optional_text("description").value_or("");
  if (s.account_id < 1) {
    refuse(400, fmt::format("accountId must be a positive integer, not {}", s.account_id));
  }
  bool known = std::any_of(locations().begin(), locations().end(),
                           [&](const Location& l) { return l.code == s.location; });
  if (!known) {
    refuse(400, fmt::format("location \"{}\" does not exist (locations: {})", s.location,
                            location_codes()));
  }
  check_space_name_free(s);
  s.id = data().next_space_id++;
  s.created_ms = s.updated_ms = now;
  s.deploying_ms = now + cloud.m_deploy_delay.count() / 4;
  s.deployed_ms = now + cloud.m_deploy_delay.count();
  int64_t id = s.id;
  data().spaces.emplace(id, std::move(s));
  return {200, id, changed()};
}

Reply Cloud::Call::get_space(const Params& p) {
  return {200, space_json(space(p.integer("cloudspaceId")))};
}

// cloudspaces/list: DELETED spaces only with includedeleted.
Reply Cloud::Call::list_spaces(const Params& p) {
  auto account = p.optional_integer("accountId");
  bool deleted_too = p.optional_flag("includedeleted").value_or(false);
  json list = json::array();
  for (const auto& [id, s] : data().spaces) {
    if ((!account || s.account_id == *account) && (deleted_too || !s.deleted)) {
      list.push_back(space_summary(s));
    }
  }
  return {200, std::move(list)};
}

Reply Cloud::Call::update_space(const Params& p) {
  Space& s = space(p.integer("cloudspaceId"));
  auto name = p.optional_text("name");
  auto description = p.optional_text("description");
  if (name) {
    name = checked_name(p, "cloud space");
  }
  Space wanted = s;
  wanted.name = name.value_or(s.name);
  wanted.description = description.value_or(s.description);
  if (wanted.name == s.name && wanted.description == s.description) {
    return {200, true};
  }
  check_space_name_free(wanted);
  s.name = std::move(wanted.name);
  s.description = std::move(wanted.description);
  s.updated_ms = now;
  return {200, true, changed()};
}

// cloudspaces/delete, as the G8's: refused (409) while the space holds
// machines that are not DELETED, and (400) while DEPLOYING. Without
// `permanently` the space is DELETED and keeps its name; with it, it is
// DESTROYED with its DELETED machines, and forgotten.
Reply Cloud::Call::delete_space(const Params& p) {
  int64_t id = p.integer("cloudspaceId");
  bool permanently = p.optional_flag("permanently").value_or(false);
  Space& s = space(id, /*deleted_too=*/true);
  std::vector<int64_t> machines = machines_in(id);
  for (int64_t machine_id : machines) {
    if (!data().machines.at(machine_id).deleted) {
      refuse(409, "In order to delete a CloudSpace it can not contain Machines.");
    }
  }
  if (status(s) == "DEPLOYING") {
    refuse(400, "Can not delete a CloudSpace that is being deployed.");
  }
  if (!permanently) {
    if (!s.deleted) {
      s.deleted = true;
      s.updated_ms = now;
      return {200, true, changed()};
    }
    return {200, true};
  }
  for (int64_t machine_id : machines) {
    forget_machine(data().machines.at(machine_id));
    data().machines.erase(machine_id);
  }
  cloud.m_machines_by_space.erase(id);
  data().spaces.erase(id);
  return {200, true, changed()};
}

} // namespace stove::sandbox
