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
// Create: HEAD /{bucket}, then PUT /{bucket} (with a CreateBucketConfiguration
// naming the region unless it is us-east-1), then PUT ?versioning if
// enabled, then PUT ?tagging (with Content-MD5) if there are tags.
//
// Regions. Every request about a bucket is signed for the bucket's region
// and, when the endpoint is one of AWS's, sent to that region's endpoint
// (model/aws_s3_endpoint.hpp): the CreateBucket too, so that it reaches a
// regional endpoint that makes buckets there. Which region: the one S3 has
// shown (x-amz-bucket-region, GetBucketLocation, ListBuckets'
// BucketRegion), else the spec's, else the one last observed, else the
// provider's; an answer that says the bucket is elsewhere (301
// PermanentRedirect or 400 with x-amz-bucket-region, AuthorizationHeader-
// Malformed with <Region>) is followed once (s3_api.hpp). ListBuckets is
// signed for the provider's region. A CreateBucket refused for its region
// (an endpoint that serves one region only) says so and what to do.
// Combinations that cannot work are refused at validate time
// (model/bucket_region.hpp).
//
// Adoption. A bucket that already exists is adopted (its versioning and
// tags brought to the spec; a region other than the wanted one is an error)
// only when Target::adopt is set, i.e. an earlier create of this resource
// was interrupted and may have made it. Otherwise a bucket the HEAD finds,
// or a first PUT answered 409 BucketAlreadyOwnedByYou, is an error: "bucket
// X already exists and stove does not manage it". Unlike cloud spaces, a
// bucket is not adopted for merely looking like the one asked for (no
// versioning, no tags): its objects, policies and users are not in the spec,
// so matching versioning and tags say nothing about whose it is, and a later
// destroy would delete someone's (empty) bucket.
//
// The PUT is not idempotent. The HEAD having found the name free, a reply
// that is lost (no reply, a 5xx, 429) is settled by HEAD: a bucket there now
// is the lost attempt's; else the PUT is sent again. A 409
// BucketAlreadyOwnedByYou after a lost attempt is that attempt's bucket, and
// so is a BucketAlreadyExists then if HEAD can see the bucket (s3rver
// answers BucketAlreadyExists to the owner too). Otherwise
// BucketAlreadyExists (someone else's name) is an error.
//
// Read: HEAD, GET ?location, ?versioning, ?tagging (NoSuchTagSet: no tags).
// Servers that lack a subresource: a GET ?versioning answered 501, or 200
// with another document than a VersioningConfiguration (s3rver 3.7.1 reads
// it as ListObjects and answers a ListBucketResult), reads as "suspended";
// a GET ?tagging answered 501 NotImplemented (s3rver) reads as no tags. So
// buckets with the defaults create, read, plan as no-op and delete there.
// A spec that wants what the server lacks (versioning enabled, tags) fails
// with "the S3 server does not implement bucket versioning/tagging" and the
// server's answer, and nothing is PUT (s3rver would read PUT ?versioning as
// CreateBucket). A bucket created just before that failure stays recorded as
// incomplete, so the next apply adopts it and destroy removes it.
//
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
  std::string region = "us-east-1"; // the endpoint's: ListBuckets, and where "" regions go
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
// key "sandbox", the sandbox token as the secret key, region us-east-1
// (the sandbox's S3 serves every region at that one address).
std::unique_ptr<Provider> make_for_sandbox(const std::string& sandbox_url, const std::string& token,
                                           const std::string& token_variable,
                                           http::ClientOptions http);

// The factory registered for `type: s3`.
std::unique_ptr<Provider> factory(const ProviderConfig& config, const ProviderOptions& options);

} // namespace stove::providers::s3
