#include "support/run.hpp"

#include <doctest/doctest.h>

TEST_CASE("stove runs") {
  auto r = stove::test::run_stove({});
  CHECK(r.exit_code == 0);
}
