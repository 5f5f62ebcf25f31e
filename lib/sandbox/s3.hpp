#pragma once

// The sandbox's S3: the subset of the S3 REST API stove's bucket adapter
// uses, path-style under a prefix (`/s3`, so `PUT /s3/my-bucket`), with S3's
// statuses and XML error documents (<Code>, <Message>, the elements AWS
// adds such as <BucketName> or <Region>, then <RequestId> and <HostId>; no
// body to a HEAD), and Signature V4 verified on every request (access key
// id "sandbox", the sandbox token as the secret key, service s3). Without
// HTTP: server.cpp puts it on the wire.
//
// Served:
//   GET    /s3/                       ListBuckets (prefix, bucket-region,
//                                     max-buckets, continuation-token)
//   PUT    /s3/{b}                    CreateBucket (CreateBucketConfiguration optional)
//   HEAD   /s3/{b}                    HeadBucket (x-amz-bucket-region)
//   DELETE /s3/{b}                    DeleteBucket (BucketNotEmpty while it holds objects)
//   GET    /s3/{b}                    ListObjects (keys only)
//   GET    /s3/{b}?location           GetBucketLocation
//   GET|PUT /s3/{b}?versioning        Get/PutBucketVersioning
//   GET|PUT|DELETE /s3/{b}?tagging    Get/Put/DeleteBucketTagging (PUT needs
//                                     Content-MD5 or an x-amz-checksum-*)
//   PUT|DELETE /s3/{b}/{key}          objects: only the key is kept, so that
//                                     tests can make a bucket non-empty
// Payloads as s3_payload.hpp says: signed, unsigned, or aws-chunked with a
// trailing checksum (what AWS's SDKs stream); checksums verified.
//
// Regions. The one address stands for every region's endpoint: a request
// signed for region R is one sent to R's endpoint, as AWS answers there.
//   - A request about an existing bucket must be signed for the bucket's
//     region; signed for another it is 301 PermanentRedirect with
//     x-amz-bucket-region (what a path-style request at another region's
//     endpoint gets), and a HEAD the same without a body.
//   - CreateBucket signed for us-east-1 takes any LocationConstraint but
//     us-east-1 itself (InvalidLocationConstraint) or none (us-east-1); one
//     signed for another region R needs LocationConstraint R, anything else
//     being IllegalLocationConstraintException. Re-creating a bucket one
//     owns is 409 BucketAlreadyOwnedByYou, except in us-east-1, where S3
//     answers 200 for legacy compatibility.
//   - A credential scope whose region is not shaped like a region is 400
//     AuthorizationHeaderMalformed naming the expected <Region> (the
//     bucket's, else us-east-1). ListBuckets and requests about missing
//     buckets take any region.
//
// Bucket names: S3's rules (3-63 characters of a-z 0-9 . -, starting and
// ending with a letter or digit) or, as S3 still accepts in us-east-1 for
// old buckets, the legacy ones (3-255 characters of letters, digits, '.',
// '-' and '_'), so that names such as `my_bucket` work here although AWS no
// longer creates them; a legacy name outside us-east-1 is InvalidBucketName.
// Buckets named `foreign-*` belong to another account: creating one answers
// BucketAlreadyExists, HEAD 403.
//
// Not served: objects' contents, ACLs, policies, lifecycle, presigned URLs
// (query-string auth), signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD).

#include "providers/sigv4.hpp"
#include "sandbox/committer.hpp"
#include "sandbox/reply.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stove::sandbox {

struct S3Request {
  std::string method;
  std::string target;  // the raw request target: /s3/my-bucket?versioning
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct S3Reply {
  int status = 200;
  std::string body;  // XML, or empty
  std::vector<std::pair<std::string, std::string>> headers;
  // The store's version after the request changed it; 0 when nothing
  // changed. The server answers only once that version is on disk.
  uint64_t version = 0;
};

struct S3Bucket {
  std::string name;
  std::string region;      // us-east-1 when created without a constraint
  std::string versioning;  // "" (never set), Enabled or Suspended
  std::map<std::string, std::string> tags;
  std::set<std::string> objects;
  int64_t created_ms = 0;
};

struct S3Data {
  std::map<std::string, S3Bucket> buckets;
};

// The document data_dir/s3.json holds, and back; the latter throws
// std::runtime_error saying what is wrong.
nlohmann::json to_document(const S3Data& data);
S3Data s3_from_document(const nlohmann::json& document);

class S3 {
public:
  using Clock = std::function<int64_t()>;  // Unix time in milliseconds

  S3(std::string prefix, std::string secret_key, Clock clock = {});

  // Whether `path` (decoded, without the query) is under the prefix.
  bool owns(std::string_view path) const;

  // Replaces everything with `data` (at start, before serving).
  void load(S3Data data);
  // Loads the store from `path` (data_dir/s3.json), or writes an empty one
  // there. Throws stove::Error(ErrorKind::io).
  void load_file(const std::string& path);

  // Verifies the signature and runs the request. Thread-safe.
  S3Reply handle(const S3Request& request);

  // The admin endpoint (server.cpp, /sandbox/admin/buckets/NAME): sets a
  // bucket's versioning and tags, or deletes it with its objects, without
  // signatures and behind S3's back. JSON replies; errors {"error": "..."}
  // (400 a bad attribute, 404 no such bucket). Thread-safe.
  Reply admin_update_bucket(const std::string& name, const nlohmann::json& attributes);
  Reply admin_delete_bucket(const std::string& name);

  // Whether a request with this method changes the store, whatever it
  // answers.
  static bool is_mutating(std::string_view method);
  // S3's current rules or the legacy us-east-1 ones.
  static bool valid_bucket_name(std::string_view name);
  // An S3 error document: <Error><Code>..</Code><Message>..</Message>, then
  // `details` (<BucketName>, <Region>, ...) in order, then </Error>.
  using Details = std::vector<std::pair<std::string, std::string>>;
  static S3Reply error(int status, std::string_view code, std::string_view message,
                       const Details& details = {});

  struct Snapshot {
    uint64_t version = 0;
    S3Data data;
  };
  Snapshot snapshot() const;
  // The snapshot as the committer writes it.
  Committer::Snapshot snapshot_document() const;
  uint64_t version() const;

private:
  using Query = std::vector<std::pair<std::string, std::string>>;

  // A request that passed authentication, taken apart.
  struct Call {
    const S3Request& request;
    std::string name;    // the bucket; "" for the service
    std::string key;     // the object key; "" for the bucket
    const Query& query;
    std::string region;  // of the credential scope
    std::string body;    // the payload, decoded
  };

  // Checks the Authorization header and the payload (s3_payload.hpp); on
  // success (status 200) sets `region` and decodes `body`.
  S3Reply authenticate(const S3Request& request, std::string_view path, std::string& region,
                       std::string& body) const;
  S3Reply verify_signature(const S3Request& request, std::string_view path,
                           const providers::sigv4::Authorization& auth,
                           const std::string& date) const;
  // An XML reply: the declaration, then `body`.
  static S3Reply xml(int status, std::string body);
  // The operations (s3_operations.cpp); each runs under m_mutex.
  S3Reply dispatch(const Call& call);
  S3Reply service_operation(const Call& call) const;
  S3Reply list_buckets(const Call& call) const;
  S3Reply create_bucket(const Call& call);
  // The bucket `call` is about, if the caller may reach it there; else
  // nullptr, and `refused` says why.
  S3Bucket* reachable_bucket(const Call& call, S3Reply& refused);
  // The operations on an existing bucket (or a key in it), which dispatch
  // finds in k_bucket_routes.
  S3Reply object_operation(const Call& call, S3Bucket& bucket);
  S3Reply head_bucket(const Call& call, S3Bucket& bucket);
  S3Reply location_operation(const Call& call, S3Bucket& bucket);
  S3Reply tagging_operation(const Call& call, S3Bucket& bucket);
  S3Reply versioning_operation(const Call& call, S3Bucket& bucket);
  S3Reply unserved_operation(const Call& call, S3Bucket& bucket);
  S3Reply delete_bucket(const Call& call, S3Bucket& bucket);
  S3Reply list_objects(const Call& call, S3Bucket& bucket);
  S3Reply changed(S3Reply reply);

  // An entry of the route table of a bucket's operations (s3_operations.cpp).
  struct Route;
  static const Route k_bucket_routes[];

  std::string m_prefix;
  std::string m_secret;
  Clock m_clock;
  mutable std::mutex m_mutex;
  S3Data m_data;
  uint64_t m_version = 0;
  uint64_t m_requests = 0;  // for request ids
};

} // namespace stove::sandbox
