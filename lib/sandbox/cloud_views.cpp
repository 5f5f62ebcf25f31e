// What the sandbox's cloudapi shows of its cloud spaces and machines: the
// documents cloudspaces/get and /list, machines/get and /list answer.

#include "sandbox/cloud_call.hpp"

#include <fmt/format.h>

namespace stove::sandbox {

using nlohmann::json;

namespace {

std::string mac_address(int64_t machine_id) {
  auto id = static_cast<uint64_t>(machine_id);
  return fmt::format("52:54:00:{:02x}:{:02x}:{:02x}", (id >> 16) & 0xff, (id >> 8) & 0xff,
                     id & 0xff);
}

std::string external_ip(const Space& s) {
  return fmt::format("203.0.113.{}", s.id % 254 + 1);
}

int64_t gid(const Space& s) {
  for (const auto& l : locations()) {
    if (l.code == s.location) {
      return l.gid;
    }
  }
  return 0;
}

json space_acl(const Space& s) {
  json acl = json::array();
  if (!s.access.empty()) {
    acl.push_back(
        {{"userGroupId", s.access}, {"type", "U"}, {"right", "ACDRUX"}, {"status", "CONFIRMED"}});
  }
  return acl;
}

json interfaces(const Machine& m) {
  return json::array({{{"ipAddress", m.ip_address},
                       {"macAddress", mac_address(m.id)},
                       {"type", "bridge"},
                       {"deviceName", fmt::format("vm-{}-0000", m.id)},
                       {"status", "ok"}}});
}

int64_t storage(const Machine& m) {
  int64_t total = 0;
  for (const auto& d : m.disks) {
    total += d.size_gb;
  }
  return total;
}

} // namespace

std::string_view Cloud::Call::status(const Space& s) const {
  if (s.deleted) {
    return "DELETED";
  }
  if (now < s.deploying_ms) {
    return "VIRTUAL";
  }
  return now < s.deployed_ms ? "DEPLOYING" : "DEPLOYED";
}

json Cloud::Call::space_json(const Space& s) const {
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

json Cloud::Call::space_summary(const Space& s) const {
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

json Cloud::Call::machine_json(const Machine& m) {
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

json Cloud::Call::machine_summary(const Machine& m) {
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

} // namespace stove::sandbox
