// Resizing on the cloudapi: machines/resize and disks/resize, as the G8
// does them, live or awaiting a restart.

#include "sandbox/cloud_call.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace stove::sandbox {

// machines/resize, as the G8's: memory and vcpus come together (or a
// sizeId; the sandbox has no sizes). A machine that is not HALTED
// cannot shrink (400, memory checked first). The new size is stored at
// once; a RUNNING machine is resized live (200 true) unless its
// hypervisor cannot (live_resize false): then 202 false, the size taking
// effect at the next start after a stop.
Reply Cloud::Call::resize_machine(const Params& p) {
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

// disks/resize, as the G8's: only to a larger size (400). Grown at once;
// on a RUNNING machine whose hypervisor cannot grow it live (live_resize
// false), 202 false: the guest sees it after a stop and start.
Reply Cloud::Call::resize_disk(const Params& p) {
  int64_t disk_id = p.integer("diskId");
  int64_t size = p.integer("size");
  auto owner = cloud.m_disk_owner.find(disk_id);
  if (owner == cloud.m_disk_owner.end()) {
    refuse(404, fmt::format("Could not find {} of type disk", disk_id));
  }
  Machine& m = data().machines.at(owner->second);
  auto disk =
      std::find_if(m.disks.begin(), m.disks.end(), [&](const Disk& d) { return d.id == disk_id; });
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

} // namespace stove::sandbox
