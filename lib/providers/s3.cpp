#include "providers/s3.hpp"

#include "util/error.hpp"
#include "providers/s3_api.hpp"
#include "providers/s3_xml.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <utility>

namespace stove::providers::s3 {

namespace {

using nlohmann::json;

std::string what(std::string_view method, std::string_view bucket, std::string_view sub = {}) {
  return sub.empty() ? fmt::format("{} bucket {}", method, bucket)
                     : fmt::format("{} bucket {}?{}", method, bucket, sub);
}

std::string spec_string(const Target& target, const char* name, bool required = true) {
  auto it = target.spec.find(name);
  if (it == target.spec.end() || it->is_null()) {
    if (required) {
      throw ProviderError(fmt::format("{}: the spec has no {}", target.address, name));
    }
    return {};
  }
  if (!it->is_string()) {
    throw ProviderError(fmt::format("{}: {} is not a string", target.address, name));
  }
  return it->get<std::string>();
}

using Tags = std::map<std::string, std::string>;

Tags spec_tags(const Target& target) {
  Tags tags;
  auto it = target.spec.find("tags");
  if (it == target.spec.end() || it->is_null()) {
    return tags;
  }
  if (!it->is_object()) {
    throw ProviderError(fmt::format("{}: tags is not a map", target.address));
  }
  for (const auto& [key, value] : it->items()) {
    if (!value.is_string()) {
      throw ProviderError(fmt::format("{}: tag {} is not a string", target.address, key));
    }
    tags[key] = value.get<std::string>();
  }
  return tags;
}

// "enabled" or "suspended"; anything else is refused.
std::string spec_versioning(const Target& target) {
  std::string v = spec_string(target, "versioning", false);
  if (v.empty()) {
    return "suspended";
  }
  if (v != "enabled" && v != "suspended") {
    throw ProviderError(fmt::format(
        "{}: versioning is \"{}\"; it takes enabled or suspended", target.address, v));
  }
  return v;
}

// S3's legacy name for eu-west-1.
std::string region_of_constraint(std::string constraint) {
  if (constraint.empty()) {
    return "us-east-1";
  }
  if (constraint == "EU") {
    return "eu-west-1";
  }
  return constraint;
}

// The first element of an XML document ("ListBucketResult"), or "".
std::string_view root_element(std::string_view xml) {
  size_t at = 0;
  while ((at = xml.find('<', at)) != std::string_view::npos) {
    if (at + 1 < xml.size() && (xml[at + 1] == '?' || xml[at + 1] == '!')) {
      ++at;
      continue;
    }
    size_t end = xml.find_first_of(" \t\r\n/>", at + 1);
    return xml.substr(at + 1, end == std::string_view::npos ? std::string_view::npos
                                                               : end - at - 1);
  }
  return {};
}

// Whether the server implements a bucket subresource, as far as known.
struct Support {
  bool known = false;      // false: not asked yet (a bucket just created)
  std::string missing;     // set when it does not: what the server answered
};

struct Current {
  std::string region;
  std::string versioning;  // enabled | suspended
  Tags tags;
  Support versioning_support;
  Support tagging_support;
};

json observed_of(const std::string& name, const Current& c) {
  json tags = json::object();
  for (const auto& [k, v] : c.tags) {
    tags[k] = v;
  }
  return {{"name", name}, {"region", c.region}, {"versioning", c.versioning}, {"tags", tags}};
}

class Buckets final : public KindAdapter {
public:
  explicit Buckets(Api& api) : m_api(api) {}

  std::optional<Remote> read(const Target& target, const OpContext& context) override {
    const Ref b = recorded(target);
    auto current = fetch(b, context);
    if (!current) {
      return std::nullopt;
    }
    return Remote{b.name, observed_of(b.name, *current)};
  }

  Remote create(const Target& target, const OpContext& context) override {
    const std::string name = spec_string(target, "name");
    std::string region = spec_string(target, "region", false);
    if (region.empty()) {
      region = m_api.settings().region;
    }
    const std::string versioning = spec_versioning(target);
    const Tags tags = spec_tags(target);

    const Ref b{name, region};
    const Made made = create_or_adopt(target, b, context);
    Current current{region, "suspended", {}, {}, {}};
    if (made != Made::created) {
      auto existing = fetch(b, context);
      if (!existing) {
        throw ProviderError(
            fmt::format("bucket {} was reported to exist, then could not be found", name));
      }
      current = std::move(*existing);
      if (current.region != region) {
        throw ProviderError(fmt::format(
            "{}: bucket {} already exists in region {}, not {}; it cannot be adopted",
            target.address, name, current.region, region));
      }
    }
    reconcile(b, current, versioning, tags, context);
    return read_back(b, context);
  }

  Remote update(const Target& target, const OpContext& context) override {
    const Ref b = recorded(target);
    const std::string& name = b.name;
    for (const char* field : {"name", "region"}) {
      auto before = target.prior_spec.find(field);
      auto after = target.spec.find(field);
      bool had = before != target.prior_spec.end();
      bool has = after != target.spec.end();
      if (had && has && *before != *after) {
        throw ProviderError(
            fmt::format("{}: a bucket's {} cannot change in place", target.address, field));
      }
    }
    auto current = fetch(b, context);
    if (!current) {
      throw ProviderError(
          fmt::format("{}: bucket {} no longer exists", target.address, name), 404);
    }
    reconcile(b, *current, spec_versioning(target), spec_tags(target), context);
    return read_back(b, context);
  }

  void destroy(const Target& target, const OpContext& context) override {
    const Ref b = recorded(target);
    const std::string& name = b.name;
    Reply reply = request(b, "DELETE", "", context);
    if (reply.ok() || reply.status == 404) {
      m_api.forget_region(name);
      return;  // 404: gone already (or a retry after a lost response)
    }
    if (reply.status == 409 && reply.code() == "BucketNotEmpty") {
      throw ProviderError(
          fmt::format("bucket {} is not empty; empty it first (stove does not delete objects), "
                      "then apply again",
                      name),
          409);
    }
    m_api.fail(what("DELETE", name), reply);
  }

  std::optional<Remote> find(const Target& target, const OpContext& context) override {
    const Ref b{spec_string(target, "name"), region_hint(target)};
    auto current = fetch(b, context);
    if (!current) {
      return std::nullopt;
    }
    return Remote{b.name, observed_of(b.name, *current)};
  }

  std::vector<Remote> list(const std::vector<Parent>& /*parents*/,
                           const OpContext& context) override {
    Reply reply = m_api.send("GET", "", "", "", {}, context, m_api.settings().region);
    if (!reply.ok()) {
      m_api.fail("GET / (list buckets)", reply);
    }
    std::vector<Remote> out;
    for (std::string_view bucket : s3xml::elements(reply.body, "Bucket")) {
      auto name = s3xml::text(bucket, "Name");
      if (name && !name->empty()) {
        // Listings with a parameter name each bucket's region (AWS since 2024).
        m_api.learn_region(*name, s3xml::text(bucket, "BucketRegion").value_or(""));
        out.push_back(Remote{*name, {{"name", *name}}});
      }
    }
    return out;
  }

  // ListBuckets shows names only: the region, versioning and tags are read
  // as read() reads them, less the HEAD (the listing has just shown the
  // bucket). A bucket deleted since the listing keeps what the listing
  // showed (its name; the recorded rest stays): the next refresh sees it
  // gone.
  std::optional<Remote> complete(const Target& target, Remote listed,
                                 const OpContext& context) override {
    const Ref b{target.remote_id.empty() ? listed.remote_id : target.remote_id,
                region_hint(target)};
    auto current = fetch(b, context, Head::skip);
    if (!current) {
      return std::nullopt;  // deleted since the listing
    }
    return Remote{b.name, observed_of(b.name, *current)};
  }

private:
  enum class Head { send, skip };

  // A bucket, and the region its requests are signed for first.
  struct Ref {
    std::string name;
    std::string hint;  // "": the provider's
  };

  // The bucket a recorded target names, expected in its spec's region or
  // the one last observed.
  static Ref recorded(const Target& target) {
    return Ref{target.remote_id.empty() ? spec_string(target, "name") : target.remote_id,
               region_hint(target)};
  }

  static std::string region_hint(const Target& target) {
    std::string region = spec_string(target, "region", false);
    if (region.empty()) {
      auto seen = target.prior_observed.find("region");
      if (seen != target.prior_observed.end() && seen->is_string()) {
        region = seen->get<std::string>();
      }
    }
    return region;
  }

  Reply request(const Ref& b, std::string_view method, std::string_view sub,
                const OpContext& context, const std::string& body = {},
                const http::Headers& headers = {}) {
    return m_api.bucket_request(method, b.name, sub, body, headers, context, b.hint);
  }

  // HEAD: whether the bucket exists (and is ours to see).
  bool exists(const Ref& b, const OpContext& context) {
    const std::string& name = b.name;
    Reply reply = request(b, "HEAD", "", context);
    if (reply.ok()) {
      return true;
    }
    if (reply.status == 404) {
      return false;
    }
    if (reply.status == 403 || reply.status == 400) {
      // A HEAD reply has no body to say why: ask again with a GET, whose
      // error document names the cause (SignatureDoesNotMatch, AccessDenied,
      // the region an endpoint serving one region wants). Such a GET may
      // then find that there is no bucket.
      Reply location = request(b, "GET", "location", context);
      if (gone(location)) {
        return false;
      }
      if (location.error) {
        m_api.fail(what("GET", name, "location"), location);
      }
    }
    m_api.fail(what("HEAD", name), reply);
  }

  // Everything read observes; nullopt when the bucket does not exist.
  // Head::skip leaves out the HEAD that asks first, for a bucket just
  // listed: a bucket gone since is still seen, by ?location's NoSuchBucket.
  std::optional<Current> fetch(const Ref& b, const OpContext& context, Head head = Head::send) {
    const std::string& name = b.name;
    if (head == Head::send && !exists(b, context)) {
      return std::nullopt;
    }
    Current c;
    Reply location = request(b, "GET", "location", context);
    if (gone(location)) {
      return std::nullopt;
    }
    if (!location.ok()) {
      m_api.fail(what("GET", name, "location"), location);
    }
    c.region = region_of_constraint(s3xml::text(location.body, "LocationConstraint").value_or(""));
    m_api.learn_region(name, c.region);

    if (!read_versioning(b, c, context) || !read_tagging(b, c, context)) {
      return std::nullopt;
    }
    return c;
  }

  static bool gone(const Reply& reply) {
    return reply.status == 404 && reply.code() == "NoSuchBucket";
  }

  // A server without the subresource: 501 NotImplemented.
  static bool not_implemented(const Reply& reply) {
    return reply.status == 501;
  }

  // GET ?versioning into c.versioning and c.versioning_support; false when
  // the bucket is gone. A server that does not implement it (501, or a 200
  // with another document: s3rver answers a ListBucketResult, since it reads
  // the request as ListObjects) has it "suspended", which is all it can be.
  bool read_versioning(const Ref& b, Current& c, const OpContext& context) {
    const std::string& name = b.name;
    Reply reply = request(b, "GET", "versioning", context);
    if (gone(reply)) {
      return false;
    }
    c.versioning = "suspended";
    c.versioning_support = Support{true, {}};
    if (not_implemented(reply)) {
      c.versioning_support.missing = m_api.error_text(what("GET", name, "versioning"), reply);
      return true;
    }
    if (!reply.ok()) {
      m_api.fail(what("GET", name, "versioning"), reply);
    }
    std::string_view root = root_element(reply.body);
    if (root != "VersioningConfiguration") {
      c.versioning_support.missing = fmt::format(
          "{}: {} with {}, not a VersioningConfiguration", what("GET", name, "versioning"),
          reply.status,
          root.empty() ? std::string("no document") : fmt::format("a {} document", root));
      return true;
    }
    if (s3xml::text(reply.body, "Status").value_or("") == "Enabled") {
      c.versioning = "enabled";
    }
    return true;
  }

  // GET ?tagging into c.tags and c.tagging_support; false when the bucket is
  // gone. NoSuchTagSet is no tags; a server that does not implement tagging
  // (501 NotImplemented: s3rver) has none.
  bool read_tagging(const Ref& b, Current& c, const OpContext& context) {
    const std::string& name = b.name;
    Reply reply = request(b, "GET", "tagging", context);
    if (gone(reply)) {
      return false;
    }
    c.tags.clear();
    c.tagging_support = Support{true, {}};
    if (reply.status == 404 && reply.code() == "NoSuchTagSet") {
      return true;
    }
    if (not_implemented(reply)) {
      c.tagging_support.missing = m_api.error_text(what("GET", name, "tagging"), reply);
      return true;
    }
    if (!reply.ok()) {
      m_api.fail(what("GET", name, "tagging"), reply);
    }
    auto tags = s3xml::parse_tagging(reply.body);
    if (!tags) {
      throw ProviderError(
          fmt::format("{}: the reply is not a tag set", what("GET", name, "tagging")));
    }
    for (auto& [k, v] : *tags) {
      c.tags[std::move(k)] = std::move(v);
    }
    return true;
  }

  Remote read_back(const Ref& b, const OpContext& context) {
    auto current = fetch(b, context);
    if (!current) {
      throw ProviderError(fmt::format("bucket {} vanished while stove configured it", b.name));
    }
    return Remote{b.name, observed_of(b.name, *current)};
  }

  // Brings versioning and tags from `current` to the wanted values. A
  // subresource whose support is not known yet (a bucket just created) is
  // read first when it must change, so that a server without it gets no
  // PUT it would misread (s3rver takes PUT ?versioning for CreateBucket).
  void reconcile(const Ref& b, Current& current, const std::string& versioning, const Tags& tags,
                 const OpContext& context) {
    const std::string& name = b.name;
    if (versioning != current.versioning && !current.versioning_support.known) {
      if (!read_versioning(b, current, context)) {
        throw ProviderError(fmt::format("bucket {} vanished while stove configured it", name));
      }
    }
    if (versioning != current.versioning) {
      if (!current.versioning_support.missing.empty()) {
        throw ProviderError(fmt::format(
            "bucket {}: the S3 server does not implement bucket versioning, so versioning: {} "
            "cannot be applied ({})",
            name, versioning, current.versioning_support.missing));
      }
      // Content-MD5, which AWS's model marks required (httpChecksum).
      std::string body = fmt::format(
          "<VersioningConfiguration xmlns=\"{}\"><Status>{}</Status></VersioningConfiguration>",
          s3xml::k_namespace, versioning == "enabled" ? "Enabled" : "Suspended");
      Reply reply = request(b, "PUT", "versioning", context, body,
                            {{"Content-MD5", sigv4::content_md5(body)}});
      if (!reply.ok()) {
        m_api.fail(what("PUT", name, "versioning"), reply);
      }
    }
    if (tags != current.tags && !current.tagging_support.known) {
      if (!read_tagging(b, current, context)) {
        throw ProviderError(fmt::format("bucket {} vanished while stove configured it", name));
      }
    }
    if (tags != current.tags) {
      if (!current.tagging_support.missing.empty()) {
        throw ProviderError(fmt::format(
            "bucket {}: the S3 server does not implement bucket tagging, so tags cannot be "
            "applied ({})",
            name, current.tagging_support.missing));
      }
      if (tags.empty()) {
        Reply reply = request(b, "DELETE", "tagging", context);
        if (!reply.ok() && !(reply.status == 404 && reply.code() == "NoSuchTagSet")) {
          m_api.fail(what("DELETE", name, "tagging"), reply);
        }
      } else {
        std::string body = s3xml::tagging_document(tags);
        Reply reply = request(b, "PUT", "tagging", context, body,
                              {{"Content-MD5", sigv4::content_md5(body)}});
        if (!reply.ok()) {
          m_api.fail(what("PUT", name, "tagging"), reply);
        }
      }
    }
  }

  // How create_or_adopt got the bucket.
  enum class Made {
    created,    // by its PUT's 200
    recovered,  // by an attempt whose reply was lost (a HEAD or a 409 after it says so)
    adopted,    // it was there before; target.adopt allowed taking it over
  };

  // HEAD's status alone: 200, 404, 403 (another account's), ...
  long head_status(const Ref& b, const OpContext& context) {
    return request(b, "HEAD", "", context).status;
  }

  [[noreturn]] static void not_managed(const std::string& name, const std::string& answer) {
    std::string text = fmt::format("bucket {} already exists and stove does not manage it; "
                                   "rename the resource, or delete the existing bucket",
                                   name);
    if (!answer.empty()) {
      text = fmt::format("{} (the server answered {})", text, answer);
    }
    throw NothingCreated(text, 409);
  }

  // PUT /{bucket}, which is not idempotent, with the adoption rule of
  // s3.hpp, signed for the bucket's own region (b.hint) and sent to its
  // endpoint, with a LocationConstraint unless that is us-east-1: what a
  // regional endpoint requires (any other constraint is
  // IllegalLocationConstraintException there). A HEAD first: a bucket we
  // can see already is adopted when target.adopt, else it is one stove does
  // not manage. The name being free then, a reply lost later (no reply, a
  // 5xx, 429) is settled by HEAD: a bucket there now is the lost attempt's.
  // Otherwise the PUT is sent again, with the client's backoff, as many
  // times as the client tries an idempotent request.
  Made create_or_adopt(const Target& target, const Ref& b, const OpContext& context) {
    const std::string& name = b.name;
    const std::string& region = b.hint;
    std::string body;
    if (region != "us-east-1") {
      body = fmt::format("<CreateBucketConfiguration xmlns=\"{}\"><LocationConstraint>{}"
                         "</LocationConstraint></CreateBucketConfiguration>",
                         s3xml::k_namespace, s3xml::escape(region));
    }
    const std::string label = what("PUT", name);
    auto adopt = [&] {
      note(context, fmt::format("adopting the existing bucket {}", name));
      return Made::adopted;
    };
    // 404: free. 403: someone else's, or not ours to see; the PUT will say
    // which.
    if (head_status(b, context) == 200) {
      if (target.adopt) {
        return adopt();
      }
      not_managed(name, "");
    }
    const http::RetryPolicy& retry = m_api.retry();
    const int attempts = std::max(1, retry.max_attempts);
    auto delay = std::max(retry.base, std::chrono::milliseconds(1));
    bool lost = false;  // an earlier attempt's outcome is unknown
    for (int attempt = 1;; ++attempt) {
      std::string failure;
      long status = 0;
      try {
        Reply reply = m_api.send("PUT", name, "", body, {}, context, region, /*idempotent=*/false);
        if (reply.ok()) {
          m_api.learn_region(name, region);
          return lost ? Made::recovered : Made::created;
        }
        if (reply.status == 409 &&
            (reply.code() == "BucketAlreadyOwnedByYou" || reply.code() == "BucketAlreadyExists")) {
          // After a lost attempt: that attempt's bucket, if we can see it
          // (s3rver answers BucketAlreadyExists even to its owner).
          if (lost && (reply.code() == "BucketAlreadyOwnedByYou" ||
                       head_status(b, context) == 200)) {
            return Made::recovered;
          }
          if (reply.code() == "BucketAlreadyOwnedByYou") {
            if (target.adopt) {
              return adopt();
            }
            not_managed(name, m_api.error_text(label, reply));
          }
          std::string taken = fmt::format("{} (the name is taken by another account; S3 bucket "
                                          "names are global, so choose another)",
                                          m_api.error_text(label, reply));
          if (!lost) {
            throw NothingCreated(taken, 409);
          }
          throw ProviderError(taken, 409);
        }
        if (reply.status < 500 && reply.status != 429) {
          std::string refused = m_api.error_text(label, reply, false);
          if (auto elsewhere = reply.region_elsewhere()) {
            refused = fmt::format("{} (the endpoint takes requests signed for {}, so it cannot "
                                  "make a bucket in {}: use a provider whose endpoint serves {})",
                                  refused, *elsewhere, region, region);
          }
          if (!lost) {
            throw NothingCreated(refused, reply.status);
          }
          throw ProviderError(refused, reply.status);
        }
        failure = m_api.error_text(label, reply);
        status = reply.status;
      } catch (const http::TransportError& e) {
        if (e.reason() == http::TransportError::Reason::cancelled || context.deadline.expired()) {
          throw;
        }
        failure = e.what();
      }
      lost = true;
      if (exists(b, context)) {
        return Made::recovered;
      }
      if (attempt >= attempts) {
        throw ProviderError(failure, status);
      }
      context.deadline.sleep(delay);
      delay = std::min(delay * 2, std::max(retry.cap, retry.base));
    }
  }

  Api& m_api;
};

class S3Provider final : public Provider {
public:
  S3Provider(Settings settings, http::ClientOptions options)
    : m_api(std::move(settings), std::move(options)), m_buckets(m_api) {}

  KindAdapter* adapter(Kind kind) override {
    return kind == Kind::bucket ? &m_buckets : nullptr;
  }

  http::Stats stats() const override { return m_api.stats(); }

private:
  Api m_api;
  Buckets m_buckets;
};

} // namespace

Settings settings_from_config(const ProviderConfig& config, const Environment& environment) {
  Settings s;
  s.provider_name = config.name;
  s.endpoint = normalise_endpoint(config);
  s.region = setting_string(config, "region").value_or("us-east-1");
  s.access_key_variable = setting_string(config, "access_key_env").value_or("AWS_ACCESS_KEY_ID");
  s.secret_key_variable =
      setting_string(config, "secret_key_env").value_or("AWS_SECRET_ACCESS_KEY");
  const std::string token_variable =
      setting_string(config, "session_token_env").value_or("AWS_SESSION_TOKEN");
  s.credentials.access_key = require_variable(environment, config, s.access_key_variable,
                                              "access key id (access_key_env)");
  s.credentials.secret_key = require_variable(environment, config, s.secret_key_variable,
                                              "secret access key (secret_key_env)");
  s.credentials.session_token = read_variable(environment, token_variable).value_or("");
  return s;
}

std::unique_ptr<Provider> make(Settings settings, http::ClientOptions http) {
  if (http.name.empty()) {
    http.name = settings.provider_name;
  }
  return std::make_unique<S3Provider>(std::move(settings), std::move(http));
}

std::unique_ptr<Provider> make_for_sandbox(const std::string& sandbox_url, const std::string& token,
                                           const std::string& token_variable,
                                           http::ClientOptions http) {
  Settings s;
  s.provider_name = http.name;
  s.endpoint = fmt::format("{}/s3", sandbox_url);
  s.credentials.access_key = "sandbox";
  s.credentials.secret_key = token;
  s.access_key_variable = "the access key \"sandbox\"";
  s.secret_key_variable = token_variable;
  s.credential_hint = fmt::format("check the sandbox token in {}", token_variable);
  return make(std::move(s), std::move(http));
}

std::unique_ptr<Provider> factory(const ProviderConfig& config, const ProviderOptions& options) {
  http::ClientOptions http = options.http;
  http.name = config.name;
  return make(settings_from_config(config, options.environment), std::move(http));
}

} // namespace stove::providers::s3
