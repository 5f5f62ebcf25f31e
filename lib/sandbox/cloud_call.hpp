#pragma once

// One cloudapi (or admin) call's work on the sandbox's cloud, with the
// cloud locked. Internal to the cloud: its methods are defined by concept,
// in cloud_views.cpp (what the cloudapi shows), cloud_locations.cpp,
// cloud_spaces.cpp, cloud_machines.cpp, cloud_resize.cpp and
// cloud_admin.cpp. Each method checks every parameter before it changes
// anything, so a refused call changes nothing.

#include "sandbox/admin.hpp"
#include "sandbox/cloud.hpp"
#include "sandbox/cloud_params.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stove::sandbox {

struct Cloud::Call {
  Cloud& cloud;
  int64_t now;

  CloudData& data() { return cloud.m_data; }

  uint64_t changed() { return ++cloud.m_version; }

  // What the cloudapi shows (cloud_views.cpp).
  std::string_view status(const Space& s) const;
  // cloudspaces/get. The external address is known from the create on.
  nlohmann::json space_json(const Space& s) const;
  // cloudspaces/list: the stored documents, where the description is
  // `descr`.
  nlohmann::json space_summary(const Space& s) const;
  // machines/get, with the real API's lower-case imageid, cloudspaceid and
  // sizeid (0: a custom size).
  static nlohmann::json machine_json(const Machine& m);
  // machines/list: the stored documents (camel-case imageId and sizeId,
  // `nics`, disk ids) and the total `storage`.
  static nlohmann::json machine_summary(const Machine& m);

  // locations/list (cloud_locations.cpp).
  Reply list_locations(const Params&);

  // Cloud spaces (cloud_spaces.cpp).
  Space& space(int64_t id, bool deleted_too = false);
  void check_space_name_free(const Space& wanted);
  Reply create_space(const Params& p);
  Reply get_space(const Params& p);
  Reply list_spaces(const Params& p);
  Reply update_space(const Params& p);
  Reply delete_space(const Params& p);

  // Machines and the indexes over them (cloud_machines.cpp).
  Machine& machine(int64_t id, bool deleted_too = false);
  void check_machine_name_free(int64_t space_id, const std::string& name);
  void rename_machine(Machine& m, std::string name);
  void forget_machine(const Machine& m);
  std::vector<int64_t> machines_in(int64_t space_id) const;
  Machine& add_machine(Space& s, Machine m, int64_t disk_size);
  Reply create_machine(const Params& p);
  Reply get_machine(const Params& p);
  Reply list_machines(const Params& p);
  Reply update_machine(const Params& p);
  Reply stop_machine(const Params& p);
  Reply start_machine(const Params& p);
  Reply reboot_machine(const Params& p);
  Reply delete_machine(const Params& p);

  // Sizes of machines and disks (cloud_resize.cpp).
  Reply resize_machine(const Params& p);
  Reply resize_disk(const Params& p);

  // The admin endpoint (Cloud::admin_*, cloud_admin.cpp): attributes
  // checked strictly, and none of the cloudapi's rules on when a change
  // may happen.
  Reply admin_update_machine(int64_t id, const nlohmann::json& body);
  Reply admin_delete_machine(int64_t id);
  Reply admin_create_machine(int64_t space_id, const nlohmann::json& body);
  Reply admin_update_space(int64_t id, const nlohmann::json& body);
  Reply admin_delete_space(int64_t id);
};

} // namespace stove::sandbox
