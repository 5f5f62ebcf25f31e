// The document data_dir/cloud.json holds (cloud_data.hpp), and back.

#include "sandbox/cloud_data.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace stove::sandbox {

using nlohmann::json;

namespace {

constexpr std::string_view k_document_format = "stove-sandbox-cloud";
constexpr int k_document_version = 1;

// A cloud space of the document; `data`'s next id moves past it.
Space space_from_document(const json& j, CloudData& data) {
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
  return s;
}

// A machine of the document; `data`'s next disk id moves past its disks.
Machine machine_from_document(const json& j, CloudData& data) {
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
  return m;
}

} // namespace

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
      Space s = space_from_document(j, data);
      if (!data.spaces.emplace(s.id, std::move(s)).second) {
        throw std::runtime_error(fmt::format("cloud space {} appears twice", j.at("id").dump()));
      }
    }
    for (const json& j : document.at("machines")) {
      Machine m = machine_from_document(j, data);
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
