#pragma once

// The S3 adapter: buckets over the S3 REST API, path-style
// (`{endpoint}/{bucket}`), every request signed with Signature V4 (see
// sigv4.hpp). The `s3` provider type and the sandbox provider (whose S3
// subset lives under `{sandbox}/s3`) both build on it.
//
// A bucket's remote id is its name. What it observes:
//   {"name", "region", "versioning": "enabled"|"suspended", "tags": {..}}
// region is the bucket's LocationConstraint, "us-east-1" when S3 answers
// the empty one. A bucket never versioned reads as "suspended" (it keeps no
// versions, which is what suspended means for new objects), so a create
// with versioning suspended sends no PUT ?versioning; enabled sends one, and
// an update sends one whenever the wanted status differs.
//
// Create: PUT /{bucket} (with a CreateBucketConfiguration naming the region
// unless it is us-east-1), then PUT ?versioning if enabled, then PUT
// ?tagging (with Content-MD5) if there are tags. The PUT is not idempotent:
// a lost response is settled by HEAD, and a bucket that exists then, or a
// 409 BucketAlreadyOwnedByYou, is adopted (its versioning and tags brought
// to the spec; a region other than the wanted one is an error).
// BucketAlreadyExists (someone else's name) is an error.
// Read: HEAD, GET ?location, ?versioning, ?tagging (NoSuchTagSet: no tags).
// Update: versioning and tags in place (DELETE ?tagging when none remain).
// Delete: DELETE /{bucket}; already gone is fine; BucketNotEmpty is an
// error, since stove does not delete objects.

#include "providers/provider.hpp"
#include "providers/sigv4.hpp"

#include <memory>
#include <string>

namespace stove::providers::s3 {

struct Settings {
  std::string provider_name;
  std::string endpoint;             // http(s)://host[:port][/prefix], no trailing slash
  std::string region = "us-east-1"; // signed for, and where "" regions go
  sigv4::Credentials credentials;
  std::string access_key_variable;  // for messages: where the keys came from
  std::string secret_key_variable;
  // What a 403 for a bad signature or key id suggests; empty: "check the
  // keys in ACCESS_VARIABLE and SECRET_VARIABLE".
  std::string credential_hint;
};

// Reads an `s3` provider's settings and its keys from `environment`.
// Throws stove::Error(ErrorKind::input) naming a missing variable (never a
// value), or for a bad endpoint.
Settings settings_from_config(const ProviderConfig& config, const Environment& environment);

// The provider for those settings: one http::Client, the secret key and
// session token registered with it as secrets.
std::unique_ptr<Provider> make(Settings settings, http::ClientOptions http);

// The S3 adapter of the sandbox provider: endpoint {sandbox_url}/s3, access
// key "sandbox", the sandbox token as the secret key, region us-east-1.
std::unique_ptr<Provider> make_for_sandbox(const std::string& sandbox_url, const std::string& token,
                                           const std::string& token_variable,
                                           http::ClientOptions http);

// The factory registered for `type: s3`.
std::unique_ptr<Provider> factory(const ProviderConfig& config, const ProviderOptions& options);

} // namespace stove::providers::s3
