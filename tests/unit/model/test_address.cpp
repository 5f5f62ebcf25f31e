#include "model/address.hpp"

#include <doctest/doctest.h>

using namespace stove;

TEST_SUITE("Address") {
  TEST_CASE("a nested address round-trips in canonical form") {
    auto a = parse_address(R"(cloud_space["My VDC"].machine["drupal"])");
    REQUIRE(a);
    REQUIRE(a->segments.size() == 2);
    CHECK(a->segments[0].kind == Kind::cloud_space);
    CHECK(a->segments[0].key == "My VDC");
    CHECK(a->segments[1].kind == Kind::machine);
    CHECK(a->segments[1].key == "drupal");
    CHECK(a->str() == R"(cloud_space["My VDC"].machine["drupal"])");
    CHECK(a->parent().str() == R"(cloud_space["My VDC"])");
  }

  TEST_CASE("bare keys and kind aliases are accepted and canonicalised") {
    auto a = parse_address("s3.my_bucket");
    REQUIRE(a);
    CHECK(a->str() == R"(bucket["my_bucket"])");
    auto b = parse_address(R"(cloud_space.web.machine["db 1"].bacula.nightly)");
    REQUIRE(b);
    CHECK(b->str() == R"(cloud_space["web"].machine["db 1"].backup["nightly"])");
  }

  TEST_CASE("quotes and backslashes in keys are escaped") {
    std::string out;
    append_segment(out, Kind::bucket, R"(a"b\c)");
    CHECK(out == R"(bucket["a\"b\\c"])");
    auto back = parse_address(out);
    REQUIRE(back);
    CHECK(back->segments[0].key == R"(a"b\c)");
  }

  TEST_CASE("malformed addresses report where and why") {
    struct Case {
      const char* text;
      size_t offset;
      const char* message;
    };
    const Case cases[] = {
        {"", 0, "an address cannot be empty"},
        {"vm[\"x\"]", 0, "unknown resource kind \"vm\" (kinds: cloud_space, machine, backup, bucket)"},
        {"bucket", 6, "expected [\"KEY\"] or .KEY after \"bucket\""},
        {"bucket[x]", 7, "expected '\"' after '['"},
        {"bucket[\"x\"", 10, "expected ']' after the quoted key"},
        {"bucket[\"x", 9, "missing closing '\"'"},
        {"bucket[\"\"]", 0, "a key cannot be empty"},
        {"machine[\"x\"]", 0,
         "a machine must be addressed inside its cloud_space, e.g. cloud_space[\"...\"].machine[\"x\"]"},
        {"bucket[\"a\"].machine[\"b\"]", 12, "a machine cannot be inside a bucket"},
        {"bucket[\"a\"]x", 11,
         "expected '.' between address segments (quote keys that hold spaces or other "
         "characters: kind[\"my key\"])"},
        {"bucket.", 7,
         "expected a key after '.' (quote keys with other characters: kind[\"my key\"])"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.text);
      AddressError error;
      CHECK_FALSE(parse_address(c.text, &error));
      CHECK(error.offset == c.offset);
      CHECK(error.message == c.message);
    }
  }
}
