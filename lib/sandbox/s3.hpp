#pragma once

// The sandbox's S3: the subset of the S3 REST API stove's bucket adapter
// uses, path-style under a prefix (`/s3`, so `PUT /s3/my-bucket`), with S3's
// statuses and XML error documents, and Signature V4 verified on every
// request (access key id "sandbox", the sandbox token as the secret key,
// any region, service s3). Without HTTP: server.cpp puts it on the wire.
//
// Served:
//   GET    /s3/                       ListBuckets
//   PUT    /s3/{b}                    CreateBucket (CreateBucketConfiguration optional)
//   HEAD   /s3/{b}                    HeadBucket
//   DELETE /s3/{b}                    DeleteBucket (BucketNotEmpty while it holds objects)
//   GET    /s3/{b}                    ListObjects (keys only)
//   GET    /s3/{b}?location           GetBucketLocation
//   GET|PUT /s3/{b}?versioning        Get/PutBucketVersioning
//   GET|PUT|DELETE /s3/{b}?tagging    Get/Put/DeleteBucketTagging (PUT needs Content-MD5)
//   PUT|DELETE /s3/{b}/{key}          objects: only the key is kept, so that
//                                     tests can make a bucket non-empty
//
// Bucket names: S3's rules (3-63 characters of a-z 0-9 . -, starting and
// ending with a letter or digit) or, as S3 still accepts in us-east-1 for
// old buckets, the legacy ones (3-255 characters of letters, digits, '.',
// '-' and '_'), so that names such as `my_bucket` work here although AWS no
// longer creates them. Buckets named `foreign-*` belong to another account:
// creating one answers BucketAlreadyExists, HEAD 403.
//
// Not served: objects' contents, ACLs, policies, lifecycle, presigned URLs
// (query-string auth), chunked (STREAMING-*) payloads.

#include "sandbox/cloud.hpp"
#include "sandbox/committer.hpp"

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
  // An S3 error document: <Error><Code>..</Code><Message>..</Message>..</Error>.
  static S3Reply error(int status, std::string_view code, std::string_view message,
                       std::string_view resource = {});

  struct Snapshot {
    uint64_t version = 0;
    S3Data data;
  };
  Snapshot snapshot() const;
  // The snapshot as the committer writes it.
  Committer::Snapshot snapshot_document() const;
  uint64_t version() const;

private:
  S3Reply authenticate(const S3Request& request, std::string_view path) const;
  S3Reply dispatch(const S3Request& request, const std::string& path,
                   const std::vector<std::pair<std::string, std::string>>& query);

  std::string m_prefix;
  std::string m_secret;
  Clock m_clock;
  mutable std::mutex m_mutex;
  S3Data m_data;
  uint64_t m_version = 0;
  uint64_t m_requests = 0;  // for request ids
};

} // namespace stove::sandbox
