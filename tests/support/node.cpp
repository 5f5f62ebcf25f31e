#include "support/node.hpp"

#include "support/run.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>

#include <unistd.h>

namespace fs = std::filesystem;

namespace stove::test {

namespace {

const std::string k_install = "run `npm ci --prefix tests/node` (.ci/deps installs Node.js and "
                              "runs it; CI does)";

} // namespace

std::string require_node(const std::vector<std::string>& packages, int min_major) {
  auto node = find_program("node");
  REQUIRE_MESSAGE(node.has_value(),
                  "node is not on PATH: install Node.js (Debian: apt-get install nodejs npm), "
                  "then ",
                  k_install);
  RunResult version = run_program(*node, {"--version"});
  REQUIRE_MESSAGE(version.exit_code == 0, "`node --version` failed: ", version.err);
  // "v20.20.2"
  const int major = version.out.size() > 1 ? std::atoi(version.out.c_str() + 1) : 0;
  REQUIRE_MESSAGE(major >= min_major, "node ", version.out, " is older than ", min_major,
                  ", which tests/node's packages need: install a newer Node.js");
  for (const std::string& package : packages) {
    fs::path manifest =
        fs::path(STOVE_SOURCE_DIR) / "tests" / "node" / "node_modules" / package / "package.json";
    REQUIRE_MESSAGE(fs::exists(manifest), "tests/node/node_modules lacks ", package, ": ",
                    k_install);
  }
  return *node;
}

std::string node_script(const std::string& name) {
  return (fs::path(STOVE_SOURCE_DIR) / "tests" / "node" / name).string();
}

} // namespace stove::test
