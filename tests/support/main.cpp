#define DOCTEST_CONFIG_IMPLEMENT
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>

// doctest exits 0 when a --test-case filter matches nothing; CTest runs one
// filter per test, so a name CTest mangles would pass without running.
int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  int result = context.run();
  if (context.shouldExit()) {
    return result;
  }
  bool filtered = false;
  for (int i = 1; i < argc; ++i) {
    filtered = filtered || std::strncmp(argv[i], "--test-case=", 12) == 0 ||
               std::strncmp(argv[i], "-tc=", 4) == 0;
  }
  if (filtered && stove::test::test_cases_started() == 0) {
    std::fprintf(stderr, "no test case matched the filter\n");
    return 1;
  }
  return result;
}
