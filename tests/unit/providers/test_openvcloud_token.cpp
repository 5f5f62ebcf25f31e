// What the itsyou.online exchange sends and answers, and who a JWT names:
// lib/providers/openvcloud_token.cpp, without HTTP.

#include "providers/openvcloud_token.hpp"
#include "unit/providers/provider_fixtures.hpp"

#include <doctest/doctest.h>

using namespace stove::providers::openvcloud;
using nlohmann::json;
using stove::test::jwt;
using stove::test::user_jwt;

TEST_SUITE("openvcloud token") {
  TEST_CASE("the exchange posts the client credentials grant for an id_token") {
    CHECK(exchange_form("stove client", "s3cr&t=") ==
          "grant_type=client_credentials&client_id=stove%20client&client_secret=s3cr%26t%3D"
          "&response_type=id_token");
  }

  TEST_CASE("itsyou.online's plain-text JWT is the token, and so is its JSON form") {
    const std::string token = user_jwt("john");
    // Content-Type application/jwt: the bare token (a newline tolerated).
    CHECK(token_from_reply(token) == token);
    CHECK(token_from_reply(token + "\n") == token);
    // Accept: application/json: {"access_token": JWT}.
    CHECK(token_from_reply(json{{"access_token", token}}.dump() + "\n") == token);
    // Another server's JSON answer, whatever its token's shape.
    CHECK(token_from_reply(R"({"access_token": "opaque-1", "token_type": "bearer"})") ==
          "opaque-1");
  }

  TEST_CASE("an answer that is neither a JWT nor JSON with an access_token gives no token") {
    CHECK(token_from_reply("") == std::nullopt);
    CHECK(token_from_reply("<html><body>Sign in</body></html>") == std::nullopt);
    CHECK(token_from_reply("Bad Request\n") == std::nullopt);
    CHECK(token_from_reply(R"({"token_type": "bearer"})") == std::nullopt);
    CHECK(token_from_reply(R"({"access_token": ""})") == std::nullopt);
    CHECK(token_from_reply(R"({"access_token": 5})") == std::nullopt);
    CHECK(token_from_reply(R"(["a.b.c"])") == std::nullopt);
  }

  TEST_CASE("a JWT is three non-empty base64url parts") {
    CHECK(looks_like_jwt("eyJh.eyJz.c2ln"));
    CHECK(looks_like_jwt(user_jwt("john")));
    CHECK_FALSE(looks_like_jwt("sandbox"));
    CHECK_FALSE(looks_like_jwt("a.b"));
    CHECK_FALSE(looks_like_jwt("a.b.c.d"));
    CHECK_FALSE(looks_like_jwt("a..c"));
    CHECK_FALSE(looks_like_jwt("a.b.c "));
    CHECK_FALSE(looks_like_jwt("a+b.c.d"));
  }

  TEST_CASE("access is USERNAME@ISS from the JWT's claims, as the G8 names the bearer") {
    CHECK(access_from_jwt(user_jwt("john")) == "john@itsyouonline");
    CHECK(access_from_jwt(jwt({{"username", "ann"}, {"iss", "iyo.example"}})) == "ann@iyo.example");
    // An organization's client credentials name no user.
    CHECK(access_from_jwt(jwt({{"globalid", "gig"}, {"iss", "itsyouonline"}})) == std::nullopt);
    CHECK(access_from_jwt(jwt({{"username", "john"}})) == std::nullopt);
    CHECK(access_from_jwt(jwt({{"username", 7}, {"iss", "itsyouonline"}})) == std::nullopt);
    CHECK(access_from_jwt(jwt(json::array({1}))) == std::nullopt);
    CHECK(access_from_jwt("sandbox") == std::nullopt);
    CHECK(access_from_jwt("eyJh.!!!!.c2ln") == std::nullopt);
    CHECK(access_from_jwt("eyJh.bm90IGpzb24.c2ln") == std::nullopt); // "not json"
  }
}
