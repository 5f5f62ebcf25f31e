#include "sandbox/cloud.hpp"

#include "sandbox/admin.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>
#include <limits>
#include <stdexcept>
#include <utility>

namespace stove::sandbox {

using nlohmann::json;

namespace {

// A machine's IP address is 10.S.H.L: S from the cloud space's id, H.L
// from the machine's index in the space. Cloud spaces are private networks,
// so addresses only need to be unique inside one.
constexpr int64_t k_hosts_per_block = 254;
constexpr int64_t k_max_hosts = k_hosts_per_block * 256;
// The sandbox's image catalogue: images 1 to 99 exist, any other id is
// refused as the real API refuses an unknown image.
constexpr int64_t k_last_image_id = 99;

constexpr std::string_view k_document_format = "stove-sandbox-cloud";
constexpr int k_document_version = 1;

// A refused call: the status and the message the caller sees.
class ApiError : public std::exception {
public:
  ApiError(int status, std::string message) : m_status(status), m_message(std::move(message)) {}
  int status() const { return m_status; }
  const std::string& message() const { return m_message; }
  const char* what() const noexcept override { return m_message.c_str(); }

private:
  int m_status;
  std::string m_message;
};

[[noreturn]] void refuse(int status, std::string message) {
  throw ApiError(status, std::move(message));
}

// The parameters of a call, checked as the G8's portal checks them against
// the actor's spec (jumpscale_portal PortalRest.validate): a required
// parameter absent, null or "" is 400 "Param with name:X is missing.", and
// an optional one given as "" counts as absent. Like the real API (Python
// underneath), numeric strings are accepted where an integer is expected:
// ids travel as strings in many clients.
class Params {
public:
  explicit Params(const json& params) : m_params(params) {}

  int64_t integer(std::string_view name) const {
    auto value = optional_integer(name);
    if (!value) {
      missing(name);
    }
    return *value;
  }

  std::optional<int64_t> optional_integer(std::string_view name) const {
    const json* value = find(name);
    if (value == nullptr) {
      return std::nullopt;
    }
    if (value->is_number_integer()) {
      if (value->is_number_unsigned() &&
          value->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        refuse(400, fmt::format("parameter {} is out of range", name));
      }
      return value->get<int64_t>();
    }
    if (value->is_number_float()) {
      double d = value->get<double>();
      // 2^63 is exact as a double; anything at or past it does not fit.
      if (std::trunc(d) == d && d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
        return static_cast<int64_t>(d);
      }
    } else if (value->is_string()) {
      const auto& text = value->get_ref<const std::string&>();
      int64_t parsed = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
      if (ec == std::errc() && end == text.data() + text.size()) {
        return parsed;
      }
    }
    wrong_type(name, "int");
  }

  std::string text(std::string_view name) const {
    auto value = optional_text(name);
    if (!value) {
      missing(name);
    }
    return std::move(*value);
  }

  std::optional<std::string> optional_text(std::string_view name) const {
    const json* value = find(name);
    if (value == nullptr) {
      return std::nullopt;
    }
    if (!value->is_string()) {
      refuse(400, fmt::format("parameter {} must be a string", name));
    }
    return value->get<std::string>();
  }

  std::optional<bool> optional_flag(std::string_view name) const {
    const json* value = find(name);
    if (value == nullptr) {
      return std::nullopt;
    }
    if (value->is_boolean()) {
      return value->get<bool>();
    }
    if (value->is_string()) {
      const auto& text = value->get_ref<const std::string&>();
      if (text == "true" || text == "True") {
        return true;
      }
      if (text == "false" || text == "False") {
        return false;
      }
    }
    wrong_type(name, "bool");
  }

private:
  [[noreturn]] static void missing(std::string_view name) {
    refuse(400, fmt::format("Param with name:{} is missing.", name));
  }

  [[noreturn]] static void wrong_type(std::string_view name, std::string_view type) {
    refuse(400, fmt::format("Value of param {} not correct needs to be of type {}", name, type));
  }

  // The value of `name`; nullptr when absent, null or "", which the API
  // treats alike.
  const json* find(std::string_view name) const {
    auto it = m_params.find(name);
    if (it == m_params.end() || it->is_null() ||
        (it->is_string() && it->get_ref<const std::string&>().empty())) {
      return nullptr;
    }
    return &*it;
  }

  const json& m_params;
};

// A user name checked by the G8's name validator (jumpscale_portal
// Validators.NAME), as cloudspaces/create checks `access`.
std::string g8_name(const Params& params, std::string_view name) {
  std::string value = params.text(name);
  if (value.find_first_of("<>\"'") != std::string::npos) {
    refuse(400, "The name you entered contains invalid characters");
  }
  if (value.size() < 2) {
    refuse(400, "The name cannot be shorter than two characters");
  }
  return value;
}

std::string checked_name(const Params& params, std::string_view what) {
  std::string name = params.text("name");
  if (name.find_first_not_of(" \t") == std::string::npos) {
    refuse(400, fmt::format("the {} name must not be empty", what));
  }
  return name;
}

void check_memory(int64_t memory) {
  if (memory <= 0) {
    refuse(400, fmt::format("memory must be a positive number of MB, not {}", memory));
  }
  if (memory % 2 != 0) {
    refuse(400, fmt::format("memory must be an even number of MB, not {}", memory));
  }
}

void check_vcpus(int64_t vcpus) {
  if (vcpus < 1) {
    refuse(400, fmt::format("vcpus must be at least 1, not {}", vcpus));
  }
}

int64_t system_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string location_codes() {
  std::vector<std::string_view> codes;
  for (const auto& l : locations()) {
    codes.push_back(l.code);
  }
  return fmt::format("{}", fmt::join(codes, ", "));
}

std::string mac_address(int64_t machine_id) {
  auto id = static_cast<uint64_t>(machine_id);
  return fmt::format("52:54:00:{:02x}:{:02x}:{:02x}", (id >> 16) & 0xff, (id >> 8) & 0xff,
                     id & 0xff);
}

} // namespace

const std::vector<Location>& locations() {
  static const std::vector<Location> k_locations = {
      {1, 101, "be-g8-1", "Belgium, Ghent 1", "be"},
      {2, 102, "be-g8-2", "Belgium, Ghent 2", "be"},
      {3, 201, "ch-lug-1", "Switzerland, Lugano 1", "ch"},
  };
  return k_locations;
}

// One call's work, with the cloud locked. Each method checks every
// parameter before it changes anything, so a refused call changes nothing.
struct Cloud::Call {
  Cloud& cloud;
  int64_t now;

  CloudData& data() { return cloud.m_data; }

  uint64_t changed() { return ++cloud.m_version; }

  std::string_view status(const Space& s) const {
    if (s.deleted) {
      return "DELETED";
    }
    if (now < s.deploying_ms) {
      return "VIRTUAL";
    }
    return now < s.deployed_ms ? "DEPLOYING" : "DEPLOYED";
  }

  // A cloud space by id. An unknown (or DESTROYED) one is 404 as osis
  // answers the G8's lookup; a DELETED one is 404 too, as the G8's
  // authenticator answers a non-admin for anything but a delete.
  Space& space(int64_t id, bool deleted_too = false) {
    auto it = data().spaces.find(id);
    if (it == data().spaces.end()) {
      refuse(404, fmt::format("Could not find {} of type cloudspace", id));
    }
    if (it->second.deleted && !deleted_too) {
      refuse(404, "Could not find an accessible resource.");
    }
    return it->second;
  }

  // A machine by id: unknown (or DESTROYED) is osis's 404; a DELETED one
  // is machines/get's 404, unless `deleted_too`.
  Machine& machine(int64_t id, bool deleted_too = false) {
    auto it = data().machines.find(id);
    if (it == data().machines.end()) {
      refuse(404, fmt::format("Could not find {} of type vmachine", id));
    }
    if (it->second.deleted && !deleted_too) {
      refuse(404, fmt::format("Machine {} not found", id));
    }
    return it->second;
  }

  static std::string external_ip(const Space& s) {
    return fmt::format("203.0.113.{}", s.id % 254 + 1);
  }

  static int64_t gid(const Space& s) {
    for (const auto& l : locations()) {
      if (l.code == s.location) {
        return l.gid;
      }
    }
    return 0;
  }

  static json space_acl(const Space& s) {
    json acl = json::array();
    if (!s.access.empty()) {
      acl.push_back(
          {{"userGroupId", s.access}, {"type", "U"}, {"right", "ACDRUX"}, {"status", "CONFIRMED"}});
    }
    return acl;
  }

  // cloudspaces/get. The external address is known from the create on.
  json space_json(const Space& s) const {
    return {
        {"id", s.id},
        {"name", s.name},
        {"accountId", s.account_id},
        {"location", s.location},
        {"gid", gid(s)},
        {"type", "routeros"},
        {"status", status(s)},
        {"description", s.description},
        {"externalnetworkip", external_ip(s)},
        {"publicipaddress", external_ip(s)},
        {"resourceLimits", {{"CU_M", -1}, {"CU_D", -1}, {"CU_C", -1}, {"CU_NP", -1}, {"CU_I", -1}}},
        {"acl", space_acl(s)},
        {"creationTime", s.created_ms / 1000},
        {"updateTime", s.updated_ms / 1000}};
  }

  // cloudspaces/list: the stored documents, where the description is
  // `descr`.
  json space_summary(const Space& s) const {
    return {{"id", s.id},
            {"name", s.name},
            {"descr", s.description},
            {"status", status(s)},
            {"accountId", s.account_id},
            {"acl", space_acl(s)},
            {"type", "routeros"},
            {"externalnetworkip", external_ip(s)},
            {"publicipaddress", external_ip(s)},
            {"location", s.location},
            {"gid", gid(s)},
            {"creationTime", s.created_ms / 1000},
            {"updateTime", s.updated_ms / 1000}};
  }

  static json interfaces(const Machine& m) {
    return json::array({{{"ipAddress", m.ip_address},
                         {"macAddress", mac_address(m.id)},
                         {"type", "bridge"},
                         {"deviceName", fmt::format("vm-{}-0000", m.id)},
                         {"status", "ok"}}});
  }

  static int64_t storage(const Machine& m) {
    int64_t total = 0;
    for (const auto& d : m.disks) {
      total += d.size_gb;
    }
    return total;
  }

  // machines/get, with the real API's lower-case imageid, cloudspaceid and
  // sizeid (0: a custom size).
  static json machine_json(const Machine& m) {
    json disks = json::array();
    for (const auto& d : m.disks) {
      disks.push_back({{"id", d.id},
                       {"type", "B"},
                       {"name", "Boot disk"},
                       {"sizeMax", d.size_gb},
                       {"status", "ASSIGNED"}});
    }
    return {{"id", m.id},
            {"name", m.name},
            {"hostname", m.name},
            {"description", m.description},
            {"status", m.running ? "RUNNING" : "HALTED"},
            {"imageid", m.image_id},
            {"cloudspaceid", m.space_id},
            {"sizeid", 0},
            {"memory", m.size.memory},
            {"vcpus", m.size.vcpus},
            {"storage", storage(m)},
            {"disks", std::move(disks)},
            {"interfaces", interfaces(m)},
            {"accounts", json::array()},
            {"locked", false},
            {"creationTime", m.created_ms / 1000},
            {"updateTime", m.updated_ms / 1000}};
  }

  // machines/list: the stored documents (camel-case imageId and sizeId,
  // `nics`, disk ids) and the total `storage`.
  static json machine_summary(const Machine& m) {
    json disk_ids = json::array();
    for (const auto& d : m.disks) {
      disk_ids.push_back(d.id);
    }
    return {{"id", m.id},
            {"name", m.name},
            {"hostname", m.name},
            {"status", m.running ? "RUNNING" : "HALTED"},
            {"imageId", m.image_id},
            {"sizeId", 0},
            {"memory", m.size.memory},
            {"vcpus", m.size.vcpus},
            {"nics", interfaces(m)},
            {"disks", std::move(disk_ids)},
            {"storage", storage(m)},
            {"creationTime", m.created_ms / 1000},
            {"updateTime", m.updated_ms / 1000}};
  }

  // DELETED spaces still hold their names.
  void check_space_name_free(const Space& wanted) {
    for (const auto& [id, s] : data().spaces) {
      if (id != wanted.id && s.account_id == wanted.account_id && s.location == wanted.location &&
          s.name == wanted.name) {
        refuse(409, fmt::format("a cloud space named \"{}\" already exists in account {} at {} "
                                "(id {})",
                                wanted.name, wanted.account_id, wanted.location, id));
      }
    }
  }

  // DELETED machines still hold their names.
  void check_machine_name_free(int64_t space_id, const std::string& name) {
    auto& names = cloud.m_machines_by_space[space_id];
    auto it = names.find(name);
    if (it != names.end()) {
      refuse(409, fmt::format("a machine named \"{}\" already exists in cloud space {} (id {})",
                              name, space_id, it->second));
    }
  }

  void forget_machine(const Machine& m) {
    auto names = cloud.m_machines_by_space.find(m.space_id);
    if (names != cloud.m_machines_by_space.end()) {
      names->second.erase(m.name);
    }
    for (const auto& d : m.disks) {
      cloud.m_disk_owner.erase(d.id);
    }
  }

  // The ids of the machines in cloud space `space_id`, by id.
  std::vector<int64_t> machines_in(int64_t space_id) const {
    std::vector<int64_t> ids;
    auto names = cloud.m_machines_by_space.find(space_id);
    if (names != cloud.m_machines_by_space.end()) {
      for (const auto& [name, id] : names->second) {
        ids.push_back(id);
      }
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  // locations/list
  Reply list_locations(const Params&) {
    json list = json::array();
    for (const auto& l : locations()) {
      list.push_back({{"id", l.id},
                      {"gid", l.gid},
                      {"locationCode", l.code},
                      {"name", l.name},
                      {"flag", l.flag}});
    }
    return {200, std::move(list)};
  }

  // cloudspaces/create: the space is VIRTUAL, and its deployment starts at
  // once in the background (DEPLOYING, then DEPLOYED after the deploy
  // delay; VIRTUAL for its first quarter).
  Reply create_space(const Params& p) {
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

  Reply get_space(const Params& p) { return {200, space_json(space(p.integer("cloudspaceId")))}; }

  // cloudspaces/list: DELETED spaces only with includedeleted.
  Reply list_spaces(const Params& p) {
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

  Reply update_space(const Params& p) {
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
  Reply delete_space(const Params& p) {
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

  // machines/create: synchronous, as in OpenVCloud; the machine is RUNNING
  // when the call returns. The space may still be deploying.
  Reply create_machine(const Params& p) {
    int64_t space_id = p.integer("cloudspaceId");
    std::string name = checked_name(p, "machine");
    std::string description = p.optional_text("description").value_or("");
    int64_t image_id = p.integer("imageId");
    int64_t disk_size = p.integer("disksize");
    int64_t memory = p.integer("memory");
    int64_t vcpus = p.integer("vcpus");
    Space& s = space(space_id);
    check_memory(memory);
    check_vcpus(vcpus);
    if (disk_size < 1) {
      refuse(400, fmt::format("disksize must be at least 1 (GB), not {}", disk_size));
    }
    if (image_id < 1 || image_id > k_last_image_id) {
      refuse(400, fmt::format("image {} does not exist", image_id));
    }
    check_machine_name_free(space_id, name);
    Machine m;
    m.name = std::move(name);
    m.description = std::move(description);
    m.image_id = image_id;
    m.size = {memory, vcpus};
    return {200, add_machine(s, std::move(m), disk_size).id, changed()};
  }

  // Gives `m` (its name free in `s`) an id, a boot disk and an address, and
  // adds it to the cloud.
  Machine& add_machine(Space& s, Machine m, int64_t disk_size) {
    if (s.next_host >= k_max_hosts) {
      refuse(409, fmt::format("cloud space {} has no free IP address left", s.id));
    }
    m.id = data().next_machine_id++;
    m.space_id = s.id;
    m.disks.push_back({data().next_disk_id++, disk_size});
    int64_t host = s.next_host++;
    m.ip_address = fmt::format("10.{}.{}.{}", s.id % 256, host / k_hosts_per_block,
                               host % k_hosts_per_block + 1);
    m.created_ms = m.updated_ms = now;
    cloud.m_machines_by_space[s.id].emplace(m.name, m.id);
    cloud.m_disk_owner.emplace(m.disks.front().id, m.id);
    int64_t id = m.id;
    return data().machines.emplace(id, std::move(m)).first->second;
  }

  Reply get_machine(const Params& p) {
    return {200, machine_json(machine(p.integer("machineId")))};
  }

  // machines/list: DELETED machines left out.
  Reply list_machines(const Params& p) {
    int64_t space_id = p.integer("cloudspaceId");
    space(space_id);
    json list = json::array();
    for (int64_t id : machines_in(space_id)) {
      const Machine& m = data().machines.at(id);
      if (!m.deleted) {
        list.push_back(machine_summary(m));
      }
    }
    return {200, std::move(list)};
  }

  Reply update_machine(const Params& p) {
    Machine& m = machine(p.integer("machineId"));
    auto name = p.optional_text("name");
    auto description = p.optional_text("description");
    if (name) {
      name = checked_name(p, "machine");
    }
    bool rename = name && *name != m.name;
    bool redescribe = description && *description != m.description;
    if (!rename && !redescribe) {
      return {200, true};
    }
    if (rename) {
      check_machine_name_free(m.space_id, *name);
      auto& names = cloud.m_machines_by_space[m.space_id];
      names.erase(m.name);
      names.emplace(*name, m.id);
      m.name = std::move(*name);
    }
    if (redescribe) {
      m.description = std::move(*description);
    }
    m.updated_ms = now;
    return {200, true, changed()};
  }

  // machines/resize, as the G8's: memory and vcpus come together (or a
  // sizeId; the sandbox has no sizes). A machine that is not HALTED
  // cannot shrink (400, memory checked first). The new size is stored at
  // once; a RUNNING machine is resized live (200 true) unless its
  // hypervisor cannot (live_resize false): then 202 false, the size taking
  // effect at the next start after a stop.
  Reply resize_machine(const Params& p) {
    Machine& m = machine(p.integer("machineId"));
    auto size_id = p.optional_integer("sizeId");
    auto memory = p.optional_integer("memory");
    auto vcpus = p.optional_integer("vcpus");
    if (size_id && *size_id != -1 && (memory || vcpus)) {
      refuse(400, "sizeId and (vcpus or memory) are mutually exclusive");
    }
    if ((memory || vcpus) && !(memory && vcpus)) {
      refuse(400, "cannot pass vcpus or memory without the other.");
    }
    if (size_id && *size_id != -1) {
      refuse(404, fmt::format("Could not find {} of type size", *size_id));
    }
    if (!memory) {
      // The G8 fails with 500 here (None % 2).
      refuse(400, "missing parameter memory or vcpus");
    }
    if (*memory % 2 != 0) {
      refuse(400, "memory value should be an even number");
    }
    check_memory(*memory);
    check_vcpus(*vcpus);
    if (*memory < m.size.memory && m.running) {
      refuse(400, "Can not decrease memory on a running machine");
    }
    if (*vcpus < m.size.vcpus && m.running) {
      refuse(400, "Can not decrease vcpus on a running machine");
    }
    if (*memory == m.size.memory && *vcpus == m.size.vcpus) {
      return {200, true};
    }
    m.size = {*memory, *vcpus};
    m.updated_ms = now;
    if (m.running && !m.live_resize) {
      m.awaiting_restart = true;
      return {202, false, changed()};
    }
    return {200, true, changed()};
  }

  // machines/stop: `force` (pull the plug) is accepted; the sandbox's
  // guests always shut down at once. Stopping a HALTED machine is a no-op.
  Reply stop_machine(const Params& p) {
    Machine& m = machine(p.integer("machineId"));
    p.optional_flag("force");
    if (!m.running) {
      return {200, true};
    }
    m.running = false;
    m.updated_ms = now;
    return {200, true, changed()};
  }

  // machines/start: a size stored while it ran takes effect here.
  Reply start_machine(const Params& p) {
    Machine& m = machine(p.integer("machineId"));
    if (m.running) {
      return {200, true};
    }
    m.running = true;
    m.awaiting_restart = false;
    ++m.boots;
    m.updated_ms = now;
    return {200, true, changed()};
  }

  // machines/reboot: a RUNNING machine restarts (and is RUNNING again when
  // the call returns, like start and stop); a HALTED one cannot reboot. A
  // reboot is no stop and start: a size awaiting a restart still waits.
  Reply reboot_machine(const Params& p) {
    Machine& m = machine(p.integer("machineId"));
    if (!m.running) {
      refuse(409, fmt::format("machine {} is HALTED; it cannot be rebooted (start it)", m.id));
    }
    ++m.boots;
    m.updated_ms = now;
    return {200, true, changed()};
  }

  // machines/delete: without `permanently` the machine is DELETED (and
  // keeps its name); with it, DESTROYED and forgotten.
  Reply delete_machine(const Params& p) {
    int64_t id = p.integer("machineId");
    bool permanently = p.optional_flag("permanently").value_or(false);
    Machine& m = machine(id, /*deleted_too=*/true);
    if (permanently) {
      forget_machine(m);
      data().machines.erase(id);
      return {200, true, changed()};
    }
    if (m.deleted) {
      return {200, true};
    }
    m.deleted = true;
    m.running = false;
    m.updated_ms = now;
    return {200, true, changed()};
  }

  // disks/resize, as the G8's: only to a larger size (400). Grown at once;
  // on a RUNNING machine whose hypervisor cannot grow it live (live_resize
  // false), 202 false: the guest sees it after a stop and start.
  Reply resize_disk(const Params& p) {
    int64_t disk_id = p.integer("diskId");
    int64_t size = p.integer("size");
    auto owner = cloud.m_disk_owner.find(disk_id);
    if (owner == cloud.m_disk_owner.end()) {
      refuse(404, fmt::format("Could not find {} of type disk", disk_id));
    }
    Machine& m = data().machines.at(owner->second);
    auto disk = std::find_if(m.disks.begin(), m.disks.end(),
                             [&](const Disk& d) { return d.id == disk_id; });
    if (disk->size_gb >= size) {
      refuse(400, "The specified size is smaller than or equal the original size");
    }
    if (m.deleted) {
      refuse(400, fmt::format("Disk with id {} is not created", disk_id));
    }
    disk->size_gb = size;
    m.updated_ms = now;
    if (m.running && !m.live_resize) {
      m.awaiting_restart = true;
      return {202, false, changed()};
    }
    return {200, true, changed()};
  }

  // The admin endpoint (Cloud::admin_*): attributes checked strictly, and
  // none of the cloudapi's rules on when a change may happen.

  static json deleted(std::vector<int64_t> spaces, std::vector<int64_t> machines) {
    json out = json::object();
    if (!spaces.empty()) {
      out["cloudspaces"] = spaces;
    }
    out["machines"] = machines;
    return {{"deleted", std::move(out)}};
  }

  std::optional<std::string> admin_name(const admin::Attributes& a, std::string_view what) {
    auto name = a.text("name");
    if (name && name->find_first_not_of(" \t") == std::string::npos) {
      admin::refuse(400, fmt::format("attribute \"name\" must name the {}", what));
    }
    return name;
  }

  static admin::Attributes machine_attributes(const json& body) {
    return admin::Attributes(body, "machine",
                             {"name", "description", "status", "memory", "vcpus", "disk_size",
                              "image_id", "live_resize"});
  }

  Reply admin_update_machine(int64_t id, const json& body) {
    admin::Attributes a = machine_attributes(body);
    auto found = data().machines.find(id);
    if (found == data().machines.end()) {
      admin::refuse(404, fmt::format("machine {} not found", id));
    }
    Machine& m = found->second;
    auto name = admin_name(a, "machine");
    auto description = a.text("description");
    auto status = a.choice("status", {"RUNNING", "HALTED"});
    auto memory = a.integer("memory", 1);
    auto vcpus = a.integer("vcpus", 1);
    auto disk_size = a.integer("disk_size", 1);
    auto image_id = a.integer("image_id", 1);
    auto live_resize = a.flag("live_resize");
    Machine before = m;
    if (name && *name != m.name) {
      check_machine_name_free(m.space_id, *name);
      auto& names = cloud.m_machines_by_space[m.space_id];
      names.erase(m.name);
      names.emplace(*name, m.id);
      m.name = *name;
    }
    m.description = description.value_or(m.description);
    if (status) {
      m.running = *status == "RUNNING";
    }
    if (memory || vcpus) {
      // The size is set as it is, live: no restart awaited.
      m.size = {memory.value_or(m.size.memory), vcpus.value_or(m.size.vcpus)};
      m.awaiting_restart = false;
    }
    m.live_resize = live_resize.value_or(m.live_resize);
    if (disk_size && !m.disks.empty()) {
      m.disks.front().size_gb = *disk_size;
    }
    m.image_id = image_id.value_or(m.image_id);
    bool same = before.name == m.name && before.description == m.description &&
                before.running == m.running && before.size.memory == m.size.memory &&
                before.size.vcpus == m.size.vcpus &&
                before.awaiting_restart == m.awaiting_restart &&
                before.live_resize == m.live_resize && before.image_id == m.image_id &&
                (m.disks.empty() || before.disks.front().size_gb == m.disks.front().size_gb);
    if (same) {
      return {200, machine_json(m)};
    }
    m.updated_ms = now;
    return {200, machine_json(m), changed()};
  }

  Reply admin_delete_machine(int64_t id) {
    auto found = data().machines.find(id);
    if (found == data().machines.end()) {
      admin::refuse(404, fmt::format("machine {} not found", id));
    }
    forget_machine(found->second);
    data().machines.erase(found);
    return {200, deleted({}, {id}), changed()};
  }

  Reply admin_create_machine(int64_t space_id, const json& body) {
    admin::Attributes a = machine_attributes(body);
    auto found = data().spaces.find(space_id);
    if (found == data().spaces.end()) {
      admin::refuse(404, fmt::format("cloud space {} not found", space_id));
    }
    auto name = admin_name(a, "machine");
    if (!name) {
      admin::refuse(400, "attribute \"name\" is required");
    }
    Machine m;
    m.name = *name;
    m.description = a.text("description").value_or("");
    m.running = a.choice("status", {"RUNNING", "HALTED"}).value_or("RUNNING") == "RUNNING";
    m.size = {a.integer("memory", 1).value_or(1024), a.integer("vcpus", 1).value_or(1)};
    m.image_id = a.integer("image_id", 1).value_or(1);
    m.live_resize = a.flag("live_resize").value_or(true);
    int64_t disk_size = a.integer("disk_size", 1).value_or(10);
    check_machine_name_free(space_id, m.name);
    const Machine& added = add_machine(found->second, std::move(m), disk_size);
    return {201, machine_json(added), changed()};
  }

  Reply admin_update_space(int64_t id, const json& body) {
    admin::Attributes a(body, "cloud space", {"name", "description"});
    auto found = data().spaces.find(id);
    if (found == data().spaces.end()) {
      admin::refuse(404, fmt::format("cloud space {} not found", id));
    }
    Space& s = found->second;
    Space wanted = s;
    wanted.name = admin_name(a, "cloud space").value_or(s.name);
    wanted.description = a.text("description").value_or(s.description);
    if (wanted.name == s.name && wanted.description == s.description) {
      return {200, space_json(s)};
    }
    check_space_name_free(wanted);
    s.name = std::move(wanted.name);
    s.description = std::move(wanted.description);
    s.updated_ms = now;
    return {200, space_json(s), changed()};
  }

  Reply admin_delete_space(int64_t id) {
    if (data().spaces.find(id) == data().spaces.end()) {
      admin::refuse(404, fmt::format("cloud space {} not found", id));
    }
    std::vector<int64_t> machines;
    auto names = cloud.m_machines_by_space.find(id);
    if (names != cloud.m_machines_by_space.end()) {
      for (const auto& [name, machine_id] : names->second) {
        for (const auto& d : data().machines.at(machine_id).disks) {
          cloud.m_disk_owner.erase(d.id);
        }
        data().machines.erase(machine_id);
        machines.push_back(machine_id);
      }
      cloud.m_machines_by_space.erase(names);
    }
    std::sort(machines.begin(), machines.end());
    data().spaces.erase(id);
    return {200, deleted({id}, std::move(machines)), changed()};
  }
};

namespace {

struct Method {
  std::string_view actor;
  std::string_view name;
  bool mutating;
  Reply (Cloud::Call::*run)(const Params&);
};

constexpr Method k_methods[] = {
    {"locations", "list", false, &Cloud::Call::list_locations},
    {"cloudspaces", "create", true, &Cloud::Call::create_space},
    {"cloudspaces", "get", false, &Cloud::Call::get_space},
    {"cloudspaces", "list", false, &Cloud::Call::list_spaces},
    {"cloudspaces", "update", true, &Cloud::Call::update_space},
    {"cloudspaces", "delete", true, &Cloud::Call::delete_space},
    {"machines", "create", true, &Cloud::Call::create_machine},
    {"machines", "get", false, &Cloud::Call::get_machine},
    {"machines", "list", false, &Cloud::Call::list_machines},
    {"machines", "update", true, &Cloud::Call::update_machine},
    {"machines", "resize", true, &Cloud::Call::resize_machine},
    {"machines", "stop", true, &Cloud::Call::stop_machine},
    {"machines", "start", true, &Cloud::Call::start_machine},
    {"machines", "reboot", true, &Cloud::Call::reboot_machine},
    {"machines", "delete", true, &Cloud::Call::delete_machine},
    {"disks", "resize", true, &Cloud::Call::resize_disk},
};

const Method* find_method(std::string_view actor, std::string_view name) {
  for (const auto& m : k_methods) {
    if (m.actor == actor && m.name == name) {
      return &m;
    }
  }
  return nullptr;
}

} // namespace

Cloud::Cloud(std::chrono::milliseconds deploy_delay, Clock clock)
    : m_deploy_delay(deploy_delay), m_clock(clock ? std::move(clock) : Clock(system_now_ms)) {}

void Cloud::load(CloudData data) {
  std::lock_guard lock(m_mutex);
  m_data = std::move(data);
  m_machines_by_space.clear();
  m_disk_owner.clear();
  for (const auto& [id, m] : m_data.machines) {
    m_machines_by_space[m.space_id].emplace(m.name, id);
    for (const auto& d : m.disks) {
      m_disk_owner.emplace(d.id, id);
    }
  }
}

Reply Cloud::call(std::string_view actor, std::string_view method, const json& params) {
  const Method* found = find_method(actor, method);
  if (found == nullptr) {
    return {404, fmt::format("no method cloudapi.{}.{}", actor, method)};
  }
  if (!params.is_object()) {
    return {400, "the parameters must be a JSON object"};
  }
  std::lock_guard lock(m_mutex);
  Call call{*this, m_clock()};
  try {
    return (call.*(found->run))(Params(params));
  } catch (const ApiError& e) {
    return {e.status(), e.message()};
  }
}

template <typename Action>
Reply Cloud::run_admin(Action action) {
  std::lock_guard lock(m_mutex);
  Call call{*this, m_clock()};
  try {
    return action(call);
  } catch (const ApiError& e) {
    return admin::error(e.status(), e.message());
  } catch (const admin::Refused& e) {
    return admin::error(e.status(), e.what());
  }
}

Reply Cloud::admin_update_machine(int64_t id, const json& attributes) {
  return run_admin([&](Call& call) { return call.admin_update_machine(id, attributes); });
}

Reply Cloud::admin_delete_machine(int64_t id) {
  return run_admin([&](Call& call) { return call.admin_delete_machine(id); });
}

Reply Cloud::admin_create_machine(int64_t space_id, const json& attributes) {
  return run_admin([&](Call& call) { return call.admin_create_machine(space_id, attributes); });
}

Reply Cloud::admin_update_space(int64_t id, const json& attributes) {
  return run_admin([&](Call& call) { return call.admin_update_space(id, attributes); });
}

Reply Cloud::admin_delete_space(int64_t id) {
  return run_admin([&](Call& call) { return call.admin_delete_space(id); });
}

bool Cloud::is_mutating(std::string_view actor, std::string_view method) {
  const Method* found = find_method(actor, method);
  return found != nullptr && found->mutating;
}

bool Cloud::is_known(std::string_view actor, std::string_view method) {
  return find_method(actor, method) != nullptr;
}

std::optional<bool> Cloud::address_running(std::string_view ip) const {
  std::lock_guard lock(m_mutex);
  std::optional<bool> found;
  for (const auto& [id, m] : m_data.machines) {
    if (m.ip_address == ip && !m.deleted) {
      found = found.value_or(false) || m.running;
    }
  }
  return found;
}

Cloud::Snapshot Cloud::snapshot() const {
  std::lock_guard lock(m_mutex);
  return {m_version, m_data};
}

uint64_t Cloud::version() const {
  std::lock_guard lock(m_mutex);
  return m_version;
}

json to_document(const CloudData& data) {
  json spaces = json::array();
  for (const auto& [id, s] : data.spaces) {
    spaces.push_back({{"id", s.id},
                      {"account_id", s.account_id},
                      {"name", s.name},
                      {"location", s.location},
                      {"description", s.description},
                      {"access", s.access},
                      {"created_ms", s.created_ms},
                      {"updated_ms", s.updated_ms},
                      {"deploying_ms", s.deploying_ms},
                      {"deployed_ms", s.deployed_ms},
                      {"deleted", s.deleted},
                      {"next_host", s.next_host}});
  }
  json machines = json::array();
  for (const auto& [id, m] : data.machines) {
    json disks = json::array();
    for (const auto& d : m.disks) {
      disks.push_back({{"id", d.id}, {"size_gb", d.size_gb}});
    }
    machines.push_back({{"id", m.id},
                        {"cloudspace_id", m.space_id},
                        {"name", m.name},
                        {"description", m.description},
                        {"image_id", m.image_id},
                        {"memory", m.size.memory},
                        {"vcpus", m.size.vcpus},
                        {"running", m.running},
                        {"deleted", m.deleted},
                        {"boots", m.boots},
                        {"live_resize", m.live_resize},
                        {"awaiting_restart", m.awaiting_restart},
                        // What stove 0.1.0 read as a resize awaiting a
                        // start; kept so that it can read this file.
                        {"pending_size", nullptr},
                        {"disks", std::move(disks)},
                        {"ip_address", m.ip_address},
                        {"created_ms", m.created_ms},
                        {"updated_ms", m.updated_ms}});
  }
  return {{"format", k_document_format},
          {"version", k_document_version},
          {"next_ids",
           {{"cloudspace", data.next_space_id},
            {"machine", data.next_machine_id},
            {"disk", data.next_disk_id}}},
          {"cloudspaces", std::move(spaces)},
          {"machines", std::move(machines)}};
}

CloudData from_document(const json& document) {
  CloudData data;
  try {
    if (!document.is_object() || document.value("format", "") != k_document_format) {
      throw std::runtime_error(
          fmt::format("not a sandbox cloud (no \"format\": \"{}\")", k_document_format));
    }
    int version = document.at("version").get<int>();
    if (version != k_document_version) {
      throw std::runtime_error(
          fmt::format("version {} is not supported (this stove reads version {})", version,
                      k_document_version));
    }
    const json& next = document.at("next_ids");
    data.next_space_id = next.at("cloudspace").get<int64_t>();
    data.next_machine_id = next.at("machine").get<int64_t>();
    data.next_disk_id = next.at("disk").get<int64_t>();
    for (const json& j : document.at("cloudspaces")) {
      Space s;
      s.id = j.at("id").get<int64_t>();
      s.account_id = j.at("account_id").get<int64_t>();
      s.name = j.at("name").get<std::string>();
      s.location = j.at("location").get<std::string>();
      s.description = j.at("description").get<std::string>();
      s.access = j.at("access").get<std::string>();
      s.created_ms = j.at("created_ms").get<int64_t>();
      s.updated_ms = j.at("updated_ms").get<int64_t>();
      s.deployed_ms = j.at("deployed_ms").get<int64_t>();
      s.deploying_ms = j.value("deploying_ms", s.created_ms);
      s.deleted = j.value("deleted", false);
      s.next_host = j.at("next_host").get<int64_t>();
      // Ids are never reused, even if the counters were lost.
      data.next_space_id = std::max(data.next_space_id, s.id + 1);
      if (!data.spaces.emplace(s.id, std::move(s)).second) {
        throw std::runtime_error(fmt::format("cloud space {} appears twice", j.at("id").dump()));
      }
    }
    for (const json& j : document.at("machines")) {
      Machine m;
      m.id = j.at("id").get<int64_t>();
      m.space_id = j.at("cloudspace_id").get<int64_t>();
      m.name = j.at("name").get<std::string>();
      m.description = j.at("description").get<std::string>();
      m.image_id = j.at("image_id").get<int64_t>();
      m.size = {j.at("memory").get<int64_t>(), j.at("vcpus").get<int64_t>()};
      m.running = j.at("running").get<bool>();
      m.deleted = j.value("deleted", false);
      m.boots = j.value("boots", int64_t{0});
      m.live_resize = j.value("live_resize", true);
      m.awaiting_restart = j.value("awaiting_restart", false);
      // An older file's size awaiting a start: stored now, as the G8 does.
      const json pending = j.value("pending_size", json());
      if (!pending.is_null()) {
        m.size = Size{pending.at("memory").get<int64_t>(), pending.at("vcpus").get<int64_t>()};
        m.awaiting_restart = true;
      }
      for (const json& d : j.at("disks")) {
        Disk disk{d.at("id").get<int64_t>(), d.at("size_gb").get<int64_t>()};
        data.next_disk_id = std::max(data.next_disk_id, disk.id + 1);
        m.disks.push_back(disk);
      }
      m.ip_address = j.at("ip_address").get<std::string>();
      m.created_ms = j.at("created_ms").get<int64_t>();
      m.updated_ms = j.at("updated_ms").get<int64_t>();
      if (data.spaces.count(m.space_id) == 0) {
        throw std::runtime_error(
            fmt::format("machine {} is in cloud space {}, which does not exist", m.id, m.space_id));
      }
      data.next_machine_id = std::max(data.next_machine_id, m.id + 1);
      int64_t id = m.id;
      if (!data.machines.emplace(id, std::move(m)).second) {
        throw std::runtime_error(fmt::format("machine {} appears twice", id));
      }
    }
  } catch (const json::exception& e) {
    throw std::runtime_error(e.what());
  }
  return data;
}

} // namespace stove::sandbox
