#include "model/bacula_duration.hpp"

#include <doctest/doctest.h>

using namespace stove;

TEST_SUITE("bacula duration") {
  TEST_CASE("periods read as the director reads them") {
    CHECK(bacula_duration_seconds("30 days") == 2592000);
    CHECK(bacula_duration_seconds("30days") == 2592000);
    CHECK(bacula_duration_seconds("90") == 90);
    CHECK(bacula_duration_seconds("2h") == 7200);
    CHECK(bacula_duration_seconds("2 hours") == 7200);
    CHECK(bacula_duration_seconds("1 day 12 hours") == 129600);
    CHECK(bacula_duration_seconds("1.5 days") == 129600);
    CHECK(bacula_duration_seconds("2 weeks") == 1209600);
    CHECK(bacula_duration_seconds("1 year") == 31536000);
    CHECK(bacula_duration_seconds("1 quarter") == 7862400);
  }

  TEST_CASE("units match by prefix in the director's order: m is months, n and min minutes") {
    CHECK(bacula_duration_seconds("1m") == 2592000);
    CHECK(bacula_duration_seconds("1 month") == 2592000);
    CHECK(bacula_duration_seconds("1n") == 60);
    CHECK(bacula_duration_seconds("1 min") == 60);
    CHECK(bacula_duration_seconds("1 mins") == 60);
    CHECK(bacula_duration_seconds("1 Minutes") == 60);
    CHECK(bacula_duration_seconds("1 s") == 1);
    CHECK(bacula_duration_seconds("1 d") == 86400);
  }

  TEST_CASE("what is not a period") {
    CHECK_FALSE(bacula_duration_seconds(""));
    CHECK_FALSE(bacula_duration_seconds("   "));
    CHECK_FALSE(bacula_duration_seconds("days"));
    CHECK_FALSE(bacula_duration_seconds("30 dayz"));
    CHECK_FALSE(bacula_duration_seconds("30 fortnights"));
    CHECK_FALSE(bacula_duration_seconds("1.2.3 days"));
    CHECK_FALSE(bacula_duration_seconds("30 days!"));
  }
}
