#include "util/suggest.hpp"

#include <doctest/doctest.h>

#include <array>

using namespace stove;

TEST_SUITE("suggest") {
  TEST_CASE("a close typo gets a suggestion and a distant word does not") {
    std::array<std::string_view, 4> fields{"memory", "vcpus", "image_id", "disk_boot_size"};
    CHECK(did_you_mean("memroy", fields) == "; did you mean \"memory\"?");
    CHECK(did_you_mean("vcpu", fields) == "; did you mean \"vcpus\"?");
    CHECK(did_you_mean("colour", fields) == "");
    CHECK(did_you_mean("memory", fields) == "");
  }

  TEST_CASE("edit distance stops early past its limit") {
    CHECK(edit_distance("kitten", "sitting", 10) == 3);
    CHECK(edit_distance("kitten", "sitting", 1) == 2);
    CHECK(edit_distance("", "abc", 5) == 3);
  }
}
