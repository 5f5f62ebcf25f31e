#pragma once

// What the kill harness checks after a run converges: the sandbox's objects,
// read through its own APIs (cloudapi lists, S3 ListBuckets, the Bacularis
// director's listings and the jobs it has loaded), against the state stove
// wrote. Stove's own reading (refresh, drift) is not used: the harness must
// not agree with stove because it reads as stove does.

#include "support/background.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace stove::chaos {

// What one inspection found wrong, in words; empty when the cloud and the
// state agree.
struct Findings {
  std::vector<std::string> orphans;    // objects in the cloud no record names
  std::vector<std::string> missing;    // records whose object is not in the cloud
  std::vector<std::string> duplicates; // two objects under one name in one parent
  std::vector<std::string> corrupt;    // a state that does not read
  // An object whose attributes are not what the state's spec says (a
  // machine's memory, a bucket's versioning or tags, a backup's retention,
  // files or enabled).
  std::vector<std::string> mismatched;

  bool ok() const {
    return orphans.empty() && missing.empty() && duplicates.empty() && corrupt.empty() &&
           mismatched.empty();
  }
};

// Compares what `sandbox` holds with the state at `state_path` (and checks
// that `stove state list` reads it). `expected_records` is how many
// records the state must hold (the file's resources, or 0 after a destroy).
Findings inspect(const test::SandboxProcess& sandbox, const std::string& state_path,
                 size_t expected_records);

} // namespace stove::chaos
