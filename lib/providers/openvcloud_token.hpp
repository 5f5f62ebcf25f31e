#pragma once

// OpenVCloud credentials without HTTP: what the itsyou.online client
// credentials exchange sends and answers, and who a JWT says its bearer is
// (the G8 names the caller USERNAME@ISS from the JWT's claims). The
// adapter (openvcloud.cpp) does the HTTP.

#include <optional>
#include <string>
#include <string_view>

namespace stove::providers::openvcloud {

// The form body of the exchange: grant_type=client_credentials, client_id,
// client_secret and response_type=id_token, percent-encoded. Without
// response_type=id_token itsyou.online answers an opaque OAuth2 token the
// G8 does not take.
std::string exchange_form(std::string_view client_id, std::string_view client_secret);

// The token in a 200 answer of the exchange: the body itself when it is a
// JWT (itsyou.online answers `Content-Type: application/jwt` and the bare
// token, surrounding whitespace aside), or the `access_token` string of a
// JSON object (its answer when the request's Accept includes
// application/json, and other token servers'). nullopt when it is neither.
std::optional<std::string> token_from_reply(std::string_view body);

// Whether `token` has a JWT's shape: three non-empty base64url parts
// joined by dots (the signature is not checked: the G8 does that).
bool looks_like_jwt(std::string_view token);

// "USERNAME@ISS" from a JWT's `username` and `iss` claims (e.g.
// john@itsyouonline): who the G8 takes the bearer for, and so the user
// to give access to a new cloud space, as ovc-sdk-go does. nullopt when
// `token` is not a JWT or either claim is missing or not a string.
std::optional<std::string> access_from_jwt(std::string_view token);

} // namespace stove::providers::openvcloud
