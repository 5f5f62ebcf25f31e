#pragma once

// Node.js and the packages pinned in tests/node, for the integration tests
// whose protocol peers are Node programs (tests/node/*.js). A missing one
// fails the test, saying what to install: these tests never pass by
// skipping.

#include <string>
#include <vector>

namespace stove::test {

// The path of `node` on PATH, after checking that it is at least major
// version `min_major` and that tests/node/node_modules holds each of
// `packages`. Fails the test (doctest REQUIRE) otherwise.
std::string require_node(const std::vector<std::string>& packages, int min_major = 18);

// tests/node/NAME, the path of one of the Node programs.
std::string node_script(const std::string& name);

} // namespace stove::test
