#pragma once

#include "model/config.hpp"
#include "parse/config_loader.hpp"
#include "state/state.hpp"

#include <doctest/doctest.h>

#include <string>

namespace stove::test {

// Loads YAML text that must be valid.
inline Config config_from(const std::string& yaml) {
  SourceFile source{"infra.yaml", yaml};
  Diagnostics diagnostics;
  Config config = load_config_file(source, diagnostics);
  REQUIRE_MESSAGE(!diagnostics.has_errors(), render_diagnostics(source, diagnostics, false));
  return config;
}

// A state in which every resource of `config` was applied as it is.
inline State state_from(const Config& config) {
  State state;
  state.exists = true;
  state.serial = 7;
  state.lineage = "00000000-0000-4000-8000-000000000001";
  int id = 100;
  for (const auto& r : config.resources) {
    ResourceState s;
    s.address = r.address;
    s.kind = std::string(to_string(r.kind));
    s.provider = r.provider;
    s.remote_id = std::to_string(id++);
    s.parent = r.parent_address;
    s.spec = r.attrs;
    s.dependencies = r.dependencies();
    s.created_at = s.updated_at = "2026-11-22T00:00:00Z";
    state.resources.push_back(std::move(s));
  }
  return state;
}

inline const char* k_estate = R"(- type: cloud_space
  name: web
  location_id: 1
  machines:
    - name: app
      image_id: 12
      memory: 1024
      vcpus: 1
      disk_boot_size: 10
      backups:
        - {name: nightly, schedule: Level=Full sun at 02:00}
- type: cloud_space
  name: db
  location_id: 1
- {type: bucket, name: assets}
)";

} // namespace stove::test
