#include "stove/version.hpp"

#include <cstdio>

int main() {
  std::printf("stove %s\n", stove::k_version);
  return 0;
}
