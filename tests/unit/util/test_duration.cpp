#include "util/duration.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

TEST_SUITE("parse_duration") {

  TEST_CASE("parse_duration accepts integers with units in descending order") {
    struct Case {
      const char* text;
      long long milliseconds;
    };
    for (auto [text, milliseconds] :
         {Case{"0", 0}, Case{"0s", 0}, Case{"0ms", 0}, Case{"500ms", 500}, Case{"30s", 30000},
          Case{"5m", 300000}, Case{"1h", 3600000}, Case{"1m30s", 90000}, Case{"1h2m3s4ms", 3723004},
          Case{"2h500ms", 7200500}, Case{"007s", 7000}}) {
      CAPTURE(text);
      auto parsed = stove::parse_duration(text);
      REQUIRE(parsed);
      CHECK(parsed->count() == milliseconds);
    }
  }

  TEST_CASE("parse_duration refuses anything else") {
    for (const char* text : {"",
                             "-1s",
                             "5",
                             "5x",
                             "s",
                             "ms",
                             "1.5s",
                             "1s1m",
                             "1m1m",
                             "1s1s",
                             "1ms1s",
                             " 1s",
                             "1s ",
                             "1 s",
                             "1S",
                             "+1s",
                             "1h1",
                             "0x10s",
                             "1d",
                             "9223372036854775807s",
                             "99999999999999999999ms",
                             "00"}) {
      CAPTURE(text);
      CHECK_FALSE(stove::parse_duration(text));
    }
    CHECK(stove::parse_duration("9223372036854775807ms")->count() == 9223372036854775807LL);
  }

}
