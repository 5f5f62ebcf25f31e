#pragma once

// How the sandbox checks credentials: the bearer token every API carries,
// and Bacularis' basic auth. (S3 signs its requests instead: s3.cpp.)

#include <string>
#include <string_view>

namespace stove::sandbox {

// Compares in time independent of where the strings differ, so that the
// token cannot be guessed a character at a time.
bool same_secret(std::string_view a, std::string_view b);

// Whether `header` (an Authorization header) carries `token`: "Bearer
// TOKEN", the scheme in any case.
bool bearer_authorized(std::string_view header, const std::string& token);

// Whether `header` carries `token` as Bacularis takes it: "Bearer TOKEN",
// or "Basic base64(sandbox:TOKEN)"; the scheme in any case.
bool bearer_or_basic_authorized(std::string_view header, const std::string& token);

} // namespace stove::sandbox
