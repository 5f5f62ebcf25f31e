#include "providers/openvcloud.hpp"

#include "util/error.hpp"
#include "model/observed.hpp"
#include "providers/openvcloud_token.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <functional>
#include <mutex>
#include <utility>

namespace stove::providers::openvcloud {

namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr std::chrono::milliseconds k_poll_first{100};
constexpr std::chrono::milliseconds k_poll_cap{2000};

// What an error response says: the API answers with a JSON string, an
// object such as {"error": msg}, or (behind a proxy) plain text or HTML.
std::string error_message(const std::string& body) {
  constexpr size_t k_max = 300;
  auto j = json::parse(body, nullptr, false);
  if (!j.is_discarded()) {
    if (j.is_string()) {
      return j.get<std::string>();
    }
    if (j.is_object()) {
      // OAuth2: {"error": "invalid_client", "error_description": "..."}.
      auto error = j.find("error");
      auto description = j.find("error_description");
      if (error != j.end() && description != j.end() && error->is_string() &&
          description->is_string()) {
        return fmt::format("{}: {}", error->get<std::string>(), description->get<std::string>());
      }
      for (const char* key : {"error", "message", "detail", "error_description"}) {
        auto it = j.find(key);
        if (it == j.end()) {
          continue;
        }
        if (it->is_string()) {
          return it->get<std::string>();
        }
        if (it->is_object() && it->contains("message") && (*it)["message"].is_string()) {
          return (*it)["message"].get<std::string>();
        }
      }
    }
    if (j.is_null()) {
      return {};
    }
    std::string text = j.dump();
    return text.size() > k_max ? fmt::format("{}...", text.substr(0, k_max)) : text;
  }
  // Plain text: one line, trimmed, bounded.
  std::string text;
  bool space = false;
  for (char c : body) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !text.empty();
      continue;
    }
    if (space) {
      text.push_back(' ');
      space = false;
    }
    text.push_back(c);
    if (text.size() >= k_max) {
      text.append("...");
      break;
    }
  }
  return text;
}

// Remote ids are strings in stove; the API's are integers.
std::string id_string(const json& j) {
  if (j.is_number_integer()) {
    return std::to_string(j.get<int64_t>());
  }
  if (j.is_number_unsigned()) {
    return std::to_string(j.get<uint64_t>());
  }
  if (j.is_string()) {
    return j.get<std::string>();
  }
  if (j.is_object() && j.contains("id")) {
    return id_string(j["id"]);
  }
  return {};
}

json id_value(std::string_view remote_id) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(remote_id.data(), remote_id.data() + remote_id.size(), value);
  if (ec == std::errc() && end == remote_id.data() + remote_id.size() && !remote_id.empty()) {
    return value;
  }
  return std::string(remote_id);
}

// The first of `names` present in `object`, or nullptr: the cloudapi spells
// some fields both ways (imageId, imageid).
const json* field(const json& object, std::initializer_list<const char*> names) {
  if (!object.is_object()) {
    return nullptr;
  }
  for (const char* name : names) {
    auto it = object.find(name);
    if (it != object.end() && !it->is_null()) {
      return &*it;
    }
  }
  return nullptr;
}

std::string string_field(const json& object, std::initializer_list<const char*> names) {
  const json* f = field(object, names);
  return f != nullptr && f->is_string() ? f->get<std::string>() : std::string();
}

std::optional<int64_t> int_field(const json& object, std::initializer_list<const char*> names) {
  const json* f = field(object, names);
  if (f == nullptr) {
    return std::nullopt;
  }
  if (f->is_number_integer()) {
    return f->get<int64_t>();
  }
  if (f->is_string()) {
    json v = id_value(f->get<std::string>());
    if (v.is_number_integer()) {
      return v.get<int64_t>();
    }
  }
  return std::nullopt;
}

int64_t spec_int(const Target& target, const char* name) {
  auto it = target.spec.find(name);
  if (it == target.spec.end() || !it->is_number_integer()) {
    throw ProviderError(fmt::format("{}: the spec has no integer {}", target.address, name));
  }
  return it->get<int64_t>();
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

json value_of(const json& object, const char* name) {
  if (!object.is_object()) {
    return nullptr;
  }
  auto it = object.find(name);
  return it == object.end() ? json() : *it;
}

bool changed(const Target& target, const char* name) {
  return value_of(target.prior_spec, name) != value_of(target.spec, name);
}

// Calls `step` until it returns true, sleeping 100 ms doubling to 2 s in
// between; raises ProviderError(on_timeout()) when the deadline comes first.
void poll(const OpContext& context, const std::function<bool()>& step,
          const std::function<std::string()>& on_timeout) {
  auto delay = k_poll_first;
  try {
    while (!step()) {
      if (context.deadline.expired()) {
        throw ProviderError(on_timeout());
      }
      context.deadline.sleep(delay);
      delay = std::min(delay * 2, k_poll_cap);
    }
  } catch (const http::TransportError& e) {
    if (e.reason() == http::TransportError::Reason::timeout && context.deadline.expired()) {
      throw ProviderError(on_timeout());
    }
    throw;
  }
}

// ---------------------------------------------------------------------------

class Api {
public:
  struct Reply {
    long status = 0;
    json body; // null when empty or not JSON
    bool is_json = false;
    std::string text;
    bool ok() const { return status >= 200 && status < 300; }
  };

  Api(Settings settings, http::ClientOptions options)
      : m_settings(std::move(settings)), m_client(std::move(options)) {
    if (m_settings.token && m_settings.token_is_secret) {
      m_client.add_secret(*m_settings.token);
    }
    if (m_settings.credentials) {
      m_client.add_secret(m_settings.credentials->client_secret);
    }
  }

  const Settings& settings() const { return m_settings; }
  http::Stats stats() const { return m_client.stats(); }
  const http::RetryPolicy& retry() const { return m_client.options().retry; }

  // POSTs {endpoint}/restmachine/cloudapi/{call}. Returns whatever status
  // came back; transport failures throw http::TransportError.
  Reply post(std::string_view call, const json& body, const OpContext& context,
             bool idempotent = true) {
    const std::string url = fmt::format("{}/restmachine/cloudapi/{}", m_settings.endpoint, call);
    for (int round = 0;; ++round) {
      const std::string bearer = token(context);
      http::Request request = http::Request::json("POST", url, body);
      request.headers.emplace_back("Authorization", fmt::format("bearer {}", bearer));
      request.idempotent = idempotent;
      http::Response response = m_client.send(request, context.deadline);
      // An exchanged token may have expired: fetch a new one, once. A 401
      // was not carried out, so even a create may be sent again.
      if (response.status == 401 && round == 0 && !m_settings.token) {
        drop_token(bearer);
        continue;
      }
      Reply reply;
      reply.status = response.status;
      reply.text = std::move(response.body);
      reply.body = json::parse(reply.text, nullptr, false);
      reply.is_json = !reply.body.is_discarded();
      if (!reply.is_json) {
        reply.body = nullptr;
      }
      return reply;
    }
  }

  // POSTs and returns the body of a 2xx response; anything else is a
  // ProviderError.
  json call(std::string_view call, const json& body, const OpContext& context,
            bool idempotent = true) {
    Reply reply = post(call, body, context, idempotent);
    if (!reply.ok()) {
      fail(call, reply);
    }
    if (!reply.is_json && !reply.text.empty()) {
      throw ProviderError(fmt::format("{}: the response is not JSON", call), reply.status);
    }
    return std::move(reply.body);
  }

  // "cloudspaces/create: 400 Bad Request: <the API's message>".
  std::string error_text(std::string_view call, const Reply& reply) const {
    std::string message = error_message(reply.text);
    std::string_view reason = http::reason_phrase(reply.status);
    std::string text = reason.empty() ? fmt::format("{}: {}", call, reply.status)
                                      : fmt::format("{}: {} {}", call, reply.status, reason);
    if (!message.empty()) {
      text = fmt::format("{}: {}", text, message);
    }
    if (reply.status == 401 || reply.status == 403) {
      text = fmt::format("{} ({})", text, credential_hint());
    }
    return redact(std::move(text));
  }

  [[noreturn]] void fail(std::string_view call, const Reply& reply) const {
    throw ProviderError(error_text(call, reply), reply.status);
  }

  // The code of the location whose id is `location_id`, from locations/list
  // (fetched once).
  std::string location_code(int64_t location_id, const OpContext& context) {
    std::lock_guard lock(m_locations_mutex);
    const auto& locations = load_locations(context);
    for (const auto& [id, code] : locations) {
      if (id == location_id) {
        return code;
      }
    }
    std::string known;
    for (const auto& [id, code] : locations) {
      known = known.empty() ? fmt::format("{} ({})", id, code)
                            : fmt::format("{}, {} ({})", known, id, code);
    }
    throw ProviderError(fmt::format("location_id {} is not a location of provider \"{}\" ({})",
                                    location_id, m_settings.provider_name,
                                    known.empty() ? std::string("it lists none")
                                                  : fmt::format("locations: {}", known)));
  }

  // The id of the location whose code is `code`, from the same cached
  // locations/list; nullopt for a code it does not list.
  std::optional<int64_t> location_id(const std::string& code, const OpContext& context) {
    if (code.empty()) {
      return std::nullopt;
    }
    std::lock_guard lock(m_locations_mutex);
    for (const auto& [id, known] : load_locations(context)) {
      if (known == code) {
        return id;
      }
    }
    return std::nullopt;
  }

  // The `access` of cloudspaces/create: the setting, else USERNAME@ISS
  // from the claims of the token (exchanged first if need be). A token
  // that does not say is refused before the create is sent.
  std::string access(const OpContext& context) {
    if (!m_settings.access.empty()) {
      return m_settings.access;
    }
    if (auto derived = access_from_jwt(token(context))) {
      return *derived;
    }
    const std::string from = m_settings.credentials
                                 ? http::redact_url(m_settings.credentials->token_url)
                                 : m_settings.token_variable;
    throw NothingCreated(fmt::format(
        "provider \"{}\": the token from {} is not a JWT with username and iss claims, so "
        "stove cannot tell which user cloudspaces/create should give access to; set \"access\" "
        "(the G8 user, such as john@itsyouonline)",
        m_settings.provider_name, from));
  }

private:
  // locations/list as (id, code) pairs, fetched on first use; the caller
  // holds m_locations_mutex.
  const std::vector<std::pair<int64_t, std::string>>& load_locations(const OpContext& context) {
    if (!m_locations) {
      json list = call("locations/list", json::object(), context);
      if (!list.is_array()) {
        throw ProviderError("locations/list: expected a list of locations");
      }
      std::vector<std::pair<int64_t, std::string>> locations;
      for (const auto& l : list) {
        auto id = int_field(l, {"id"});
        std::string code = string_field(l, {"locationCode", "locationcode", "code"});
        if (id && !code.empty()) {
          locations.emplace_back(*id, std::move(code));
        }
      }
      m_locations = std::move(locations);
    }
    return *m_locations;
  }

  std::string credential_hint() const {
    if (m_settings.token) {
      return fmt::format("check the token in {}", m_settings.token_variable);
    }
    const auto& c = *m_settings.credentials;
    return fmt::format("check the client credentials in {} and {}", c.client_id_variable,
                       c.client_secret_variable);
  }

  std::string redact(std::string text) const {
    if (m_settings.token && m_settings.token_is_secret) {
      text = redact_secret(std::move(text), *m_settings.token);
    }
    if (m_settings.credentials) {
      text = redact_secret(std::move(text), m_settings.credentials->client_secret);
    }
    std::lock_guard lock(m_token_mutex);
    if (m_token) {
      text = redact_secret(std::move(text), *m_token);
    }
    return text;
  }

  // The bearer token: the one given, or one exchanged for the client
  // credentials on first use.
  std::string token(const OpContext& context) {
    if (m_settings.token) {
      return *m_settings.token;
    }
    std::lock_guard lock(m_exchange_mutex);
    {
      std::lock_guard token_lock(m_token_mutex);
      if (m_token) {
        return *m_token;
      }
    }
    std::string fetched = exchange(context);
    m_client.add_secret(fetched);
    std::lock_guard token_lock(m_token_mutex);
    m_token = fetched;
    return fetched;
  }

  // Client credentials for a JWT, as ovc-sdk-go asks itsyou.online: a
  // form with response_type=id_token and no Accept: application/json, so
  // that the answer is the JWT itself (application/jwt). A JSON answer
  // {"access_token": ...} is taken too.
  std::string exchange(const OpContext& context) {
    const ClientCredentials& c = *m_settings.credentials;
    http::Request request;
    request.method = "POST";
    request.url = c.token_url;
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    request.body = exchange_form(c.client_id, c.client_secret);
    http::Response response = m_client.send(request, context.deadline);
    const std::string where = fmt::format("token exchange at {}", http::redact_url(c.token_url));
    if (!response.ok()) {
      Reply reply;
      reply.status = response.status;
      reply.text = response.body;
      std::string text = error_text(where, reply);
      // itsyou.online answers wrong credentials with 400 "Bad Request".
      if (response.status == 400) {
        text = fmt::format("{} ({})", text, credential_hint());
      }
      throw ProviderError(text, response.status);
    }
    auto fetched = token_from_reply(response.body);
    if (!fetched) {
      // Never the body: it may hold a token after all.
      throw ProviderError(
          fmt::format("{}: the answer is neither a JWT (application/jwt) nor JSON holding an "
                      "access_token (Content-Type {}, {} bytes)",
                      where, response.header("content-type").value_or("none"),
                      response.body.size()),
          response.status);
    }
    return std::move(*fetched);
  }

  void drop_token(const std::string& stale) {
    std::lock_guard lock(m_token_mutex);
    if (m_token && *m_token == stale) {
      m_token.reset();
    }
  }

  Settings m_settings;
  http::Client m_client;
  std::mutex m_exchange_mutex;      // one exchange at a time
  mutable std::mutex m_token_mutex; // guards m_token
  std::optional<std::string> m_token;
  std::mutex m_locations_mutex;
  std::optional<std::vector<std::pair<int64_t, std::string>>> m_locations;
};

// Sends a create, which is not idempotent. When its response is lost (no
// response, a 5xx) the object may exist all the same, and when the name is
// taken (409) after such a loss, or when an earlier run's create was
// interrupted (`may_adopt`), that attempt may have made it: either way, look
// it up by name and adopt it. A name taken on what looks like a first
// attempt is adopted only when the object is the one asked for (`same`):
// libcurl silently re-sends a request whose reused connection died before
// any reply, so even a "first" 409 may be our own lost create; an object
// that differs belongs to someone else, and is an error. A create that left
// nothing behind is sent again.
std::string create_or_adopt(Api& api, std::string_view call, const json& body,
                            const OpContext& context, std::string_view what, bool may_adopt,
                            const std::function<std::optional<Remote>()>& find,
                            const std::function<bool(const Remote&)>& same) {
  auto adopt = [&](const Remote& found) {
    note(context, fmt::format("adopting the existing {} (id {})", what, found.remote_id));
    return found.remote_id;
  };
  // As many attempts as the client makes of an idempotent request, with
  // its backoff (without the jitter).
  const http::RetryPolicy& retry = api.retry();
  const int attempts = std::max(1, retry.max_attempts);
  auto delay = std::max(retry.base, std::chrono::milliseconds(1));
  for (int attempt = 1;; ++attempt) {
    std::string failure;
    long status = 0;
    try {
      Api::Reply reply = api.post(call, body, context, /*idempotent=*/false);
      if (reply.ok()) {
        std::string id = id_string(reply.body);
        if (id.empty()) {
          throw ProviderError(fmt::format("{}: the response holds no id", call), reply.status);
        }
        return id;
      }
      if (reply.status == 409) {
        if (auto found = find(); found && (may_adopt || attempt > 1 || same(*found))) {
          return adopt(*found);
        }
        std::string text = fmt::format("{}; stove does not manage it (rename the resource, or "
                                       "delete the existing one)",
                                       api.error_text(call, reply));
        // The first attempt of a create never interrupted before: nothing
        // of ours can hold the name. After a lost attempt (whose object the
        // listing may not show yet), the record stays, so that the next run
        // adopts what that attempt made.
        if (attempt == 1 && !may_adopt) {
          throw NothingCreated(text, reply.status);
        }
        throw ProviderError(text, reply.status);
      }
      if (reply.status < 500 && reply.status != 429) {
        api.fail(call, reply);
      }
      failure = api.error_text(call, reply);
      status = reply.status;
    } catch (const http::TransportError& e) {
      if (e.reason() == http::TransportError::Reason::cancelled || context.deadline.expired()) {
        throw;
      }
      failure = e.what();
    }
    if (auto found = find()) {
      return adopt(*found);
    }
    if (attempt >= attempts) {
      throw ProviderError(failure, status);
    }
    context.deadline.sleep(delay);
    delay = std::min(delay * 2, std::max(retry.cap, retry.base));
  }
}

// ---------------------------------------------------------------------------
// Cloud spaces

Remote observe_space(std::string remote_id, const json& space) {
  Remote remote;
  remote.remote_id = remote_id.empty() ? id_string(value_of(space, "id")) : std::move(remote_id);
  remote.observed = {{"name", string_field(space, {"name"})},
                     {"status", string_field(space, {"status"})},
                     {"location", string_field(space, {"location", "locationCode"})}};
  return remote;
}

// DESTROYED, or DELETED: in the G8's recycle bin, which cloudspaces/list
// leaves out (stove deletes permanently).
bool space_gone(const std::string& status) {
  return status == "DESTROYED" || status == "DELETED";
}

// A new cloud space is VIRTUAL, then DEPLOYING while its virtual firewall
// is made (a failed deploy goes back to VIRTUAL), then DEPLOYED.
bool space_deploying(const std::string& status) {
  return status == "VIRTUAL" || status == "DEPLOYING";
}

class CloudSpaces final : public KindAdapter {
public:
  explicit CloudSpaces(Api& api) : m_api(api) {}

  std::optional<Remote> read(const Target& target, const OpContext& context) override {
    Api::Reply reply = get(target.remote_id, context);
    if (reply.status == 404) {
      return std::nullopt;
    }
    if (!reply.ok()) {
      m_api.fail("cloudspaces/get", reply);
    }
    Remote remote = observe(target.remote_id, reply.body, context);
    if (space_gone(remote.observed["status"].get<std::string>())) {
      return std::nullopt;
    }
    return remote;
  }

  Remote create(const Target& target, const OpContext& context) override {
    const std::string name = spec_string(target, "name");
    json body = {{"accountId", m_api.settings().account_id},
                 {"location", m_api.location_code(spec_int(target, "location_id"), context)},
                 {"name", name},
                 {"access", m_api.access(context)}};
    const std::string what = fmt::format("cloud space \"{}\"", name);
    // find() matches the name and the location: all a cloud space is.
    std::string id = create_or_adopt(
        m_api, "cloudspaces/create", body, context, what, target.adopt,
        [&] { return find(target, context); }, [](const Remote&) { return true; });
    return wait_deployed(id, what, context);
  }

  Remote update(const Target& target, const OpContext& context) override {
    if (changed(target, "location_id")) {
      throw ProviderError(fmt::format("{}: location_id cannot change in place", target.address));
    }
    // The cloudapi keeps no description or labels for a cloud space: stove
    // does. Only a new name is sent.
    if (changed(target, "name")) {
      m_api.call(
          "cloudspaces/update",
          {{"cloudspaceId", id_value(target.remote_id)}, {"name", spec_string(target, "name")}},
          context);
    } else if (target.prior_observed.is_object() && target.prior_observed.contains("name")) {
      return Remote{target.remote_id, target.prior_observed};
    }
    Api::Reply reply = get(target.remote_id, context);
    if (!reply.ok()) {
      m_api.fail("cloudspaces/get", reply);
    }
    return observe(target.remote_id, reply.body, context);
  }

  // cloudspaces/delete, permanently (as terraform-provider-ovc does: the
  // space is DESTROYED, not kept DELETED holding its name). The G8 refuses
  // a space being deployed (400: wait, then again) and one that holds
  // machines (409). The plan deletes stove's machines first, so those are
  // machines stove does not manage: the error names them.
  void destroy(const Target& target, const OpContext& context) override {
    const std::string& id = target.remote_id;
    const json body = {{"cloudspaceId", id_value(id)}, {"permanently", true}};
    std::string last;
    bool noted = false;
    bool gone = false;
    poll(
        context,
        [&] {
          Api::Reply reply = m_api.post("cloudspaces/delete", body, context);
          gone = reply.status == 404;
          if (reply.ok() || gone) {
            return true;
          }
          last = m_api.error_text("cloudspaces/delete", reply);
          if (reply.status == 409) {
            throw ProviderError(fmt::format("{}: {}{}", target.address, last, holders(id, context)),
                                409);
          }
          if (reply.status == 400) {
            Api::Reply state = get(id, context);
            if (state.status == 404) {
              gone = true;
              return true;
            }
            if (state.ok() && space_deploying(string_field(state.body, {"status"}))) {
              if (!noted) {
                note(context, "waiting for DEPLOYED before deleting");
                noted = true;
              }
              return false;
            }
          }
          m_api.fail("cloudspaces/delete", reply);
        },
        [&] { return fmt::format("{}: not deleted by the deadline: {}", target.address, last); });
    if (!gone) {
      wait_gone(target, context);
    }
  }

  std::optional<Remote> find(const Target& target, const OpContext& context) override {
    // Names are unique per account and location.
    const std::string name = spec_string(target, "name");
    const std::string location = m_api.location_code(spec_int(target, "location_id"), context);
    std::vector<Remote> found;
    for (auto& remote : list({}, context)) {
      const std::string at = remote.observed["location"].get<std::string>();
      if (remote.observed["name"] == name && (at.empty() || at == location)) {
        found.push_back(std::move(remote));
      }
    }
    if (found.empty()) {
      return std::nullopt;
    }
    if (found.size() > 1) {
      std::string ids;
      for (const auto& r : found) {
        ids = ids.empty() ? r.remote_id : fmt::format("{}, {}", ids, r.remote_id);
      }
      throw ProviderError(fmt::format(
          "{}: {} cloud spaces are named \"{}\" in account {} at {} (ids {}); stove cannot tell "
          "which is its own",
          target.address, found.size(), name, m_api.settings().account_id, location, ids));
    }
    return std::move(found.front());
  }

  std::vector<Remote> list(const std::vector<Parent>& /*parents*/,
                           const OpContext& context) override {
    json spaces = m_api.call("cloudspaces/list", json::object(), context);
    if (!spaces.is_array()) {
      throw ProviderError("cloudspaces/list: expected a list of cloud spaces");
    }
    std::vector<Remote> out;
    for (const auto& space : spaces) {
      auto account = int_field(space, {"accountId", "accountid"});
      if (account && *account != m_api.settings().account_id) {
        continue;
      }
      Remote remote = observe({}, space, context);
      if (remote.remote_id.empty() || space_gone(remote.observed["status"].get<std::string>())) {
        continue;
      }
      out.push_back(std::move(remote));
    }
    return out;
  }

private:
  // What a 409 of cloudspaces/delete adds: the machines the space holds.
  std::string holders(const std::string& id, const OpContext& context) {
    Api::Reply reply = m_api.post("machines/list", {{"cloudspaceId", id_value(id)}}, context);
    std::vector<std::string> named;
    if (reply.ok() && reply.body.is_array()) {
      for (const auto& machine : reply.body) {
        named.push_back(fmt::format("{} (id {})", json(string_field(machine, {"name"})).dump(),
                                    id_string(value_of(machine, "id"))));
      }
    }
    if (named.empty()) {
      return "; machines/list shows none (it leaves out machines in ERROR, which still count)";
    }
    return fmt::format("; it holds machines stove does not manage: {}; delete them first",
                       fmt::join(named, ", "));
  }

  // observe_space() and the schema's location_id, the id of the space's
  // location code in the cached locations/list (none for a code it does
  // not list).
  Remote observe(std::string remote_id, const json& space, const OpContext& context) {
    Remote remote = observe_space(std::move(remote_id), space);
    if (auto id = m_api.location_id(remote.observed["location"].get<std::string>(), context)) {
      remote.observed["location_id"] = *id;
    }
    return remote;
  }

  Api::Reply get(const std::string& id, const OpContext& context) {
    return m_api.post("cloudspaces/get", {{"cloudspaceId", id_value(id)}}, context);
  }

  Remote wait_deployed(const std::string& id, const std::string& what, const OpContext& context) {
    Remote remote;
    std::string status;
    bool noted = false;
    poll(
        context,
        [&] {
          Api::Reply reply = get(id, context);
          if (reply.status == 404) {
            throw ProviderError(
                fmt::format("{} (id {}) disappeared while waiting for DEPLOYED", what, id), 404);
          }
          if (!reply.ok()) {
            m_api.fail("cloudspaces/get", reply);
          }
          remote = observe(id, reply.body, context);
          status = remote.observed["status"].get<std::string>();
          if (status == "DEPLOYED") {
            return true;
          }
          if (!space_deploying(status)) {
            throw ProviderError(fmt::format("{} (id {}) is {} instead of DEPLOYED", what, id,
                                            status.empty() ? "without a status" : status));
          }
          if (!noted) {
            note(context, "waiting for DEPLOYED");
            noted = true;
          }
          return false;
        },
        [&] {
          return fmt::format("{} (id {}) was not DEPLOYED by the deadline (status {})", what, id,
                             status);
        });
    return remote;
  }

  void wait_gone(const Target& target, const OpContext& context) {
    std::string status;
    poll(
        context,
        [&] {
          Api::Reply reply = get(target.remote_id, context);
          if (reply.status == 404) {
            return true;
          }
          if (!reply.ok()) {
            m_api.fail("cloudspaces/get", reply);
          }
          status = string_field(reply.body, {"status"});
          return space_gone(status);
        },
        [&] {
          return fmt::format("{}: still there by the deadline (status {})", target.address, status);
        });
  }

  Api& m_api;
};

// ---------------------------------------------------------------------------
// Machines

Remote observe_machine(std::string remote_id, const json& machine) {
  Remote remote;
  remote.remote_id = remote_id.empty() ? id_string(value_of(machine, "id")) : std::move(remote_id);
  json& o = remote.observed;
  o["name"] = string_field(machine, {"name"});
  if (const json* status = field(machine, {"status"}); status != nullptr && status->is_string()) {
    o["status"] = *status;
  }
  for (auto [from, to] : {std::pair{"memory", "memory"}, std::pair{"vcpus", "vcpus"}}) {
    if (auto v = int_field(machine, {from})) {
      o[to] = *v;
    }
  }
  if (auto v = int_field(machine, {"imageId", "imageid", "image_id"})) {
    o["image_id"] = *v;
  }
  if (const json* disks = field(machine, {"disks"}); disks != nullptr && disks->is_array()) {
    for (const auto& disk : *disks) {
      if (string_field(disk, {"type"}) != "B") {
        continue;
      }
      if (auto size = int_field(disk, {"sizeMax", "size", "sizemax"})) {
        o["disk_boot_size"] = *size;
      }
      o["boot_disk_id"] = id_string(value_of(disk, "id"));
      break;
    }
  }
  std::string ip = string_field(machine, {"ipAddress", "ip_address"});
  if (const json* nics = field(machine, {"interfaces", "nics"});
      ip.empty() && nics != nullptr && nics->is_array()) {
    for (const auto& nic : *nics) {
      ip = string_field(nic, {"ipAddress", "ipaddress", "ip_address"});
      if (!ip.empty()) {
        break;
      }
    }
  }
  if (!ip.empty()) {
    o["ip_address"] = ip;
  }
  if (const json* space = field(machine, {"cloudspaceId", "cloudspaceid", "cloudspace_id"})) {
    o["cloudspace_id"] = id_string(*space);
  }
  return remote;
}

bool machine_gone(const json& observed) {
  auto status = observed.value("status", std::string());
  return status == "DESTROYED" || status == "DELETED";
}

class Machines final : public KindAdapter {
public:
  Machines(Api& api, CloudSpaces& spaces) : m_api(api), m_spaces(spaces) {}

  std::optional<Remote> read(const Target& target, const OpContext& context) override {
    Api::Reply reply = get(target.remote_id, context);
    if (reply.status == 404) {
      return std::nullopt;
    }
    if (!reply.ok()) {
      m_api.fail("machines/get", reply);
    }
    Remote remote = observe_machine(target.remote_id, reply.body);
    if (machine_gone(remote.observed)) {
      return std::nullopt;
    }
    return remote;
  }

  Remote create(const Target& target, const OpContext& context) override {
    const std::string name = spec_string(target, "name");
    json body = {{"cloudspaceId", id_value(space_id(target))},
                 {"name", name},
                 {"description", spec_string(target, "description", false)},
                 {"imageId", spec_int(target, "image_id")},
                 {"disksize", spec_int(target, "disk_boot_size")},
                 {"memory", spec_int(target, "memory")},
                 {"vcpus", spec_int(target, "vcpus")}};
    const std::string what = fmt::format("machine \"{}\"", name);
    auto same = [&](const Remote& found) {
      for (const char* key : {"image_id", "memory", "vcpus", "disk_boot_size"}) {
        auto it = found.observed.find(key);
        if (it == found.observed.end() || *it != target.spec.value(key, json())) {
          return false;
        }
      }
      return true;
    };
    std::string id = create_or_adopt(m_api, "machines/create", body, context, what, target.adopt,
                                     [&] { return find(target, context); }, same);
    return wait_running(id, what, context);
  }

  Remote update(const Target& target, const OpContext& context) override {
    const std::string& id = target.remote_id;
    const std::string what = fmt::format("machine \"{}\"", spec_string(target, "name"));
    if (changed(target, "image_id")) {
      throw ProviderError(fmt::format("{}: image_id cannot change in place", target.address));
    }
    const bool rename = changed(target, "name") || changed(target, "description");
    const bool resize = changed(target, "memory") || changed(target, "vcpus");
    const bool grow = changed(target, "disk_boot_size");
    int64_t disk_size = 0;
    if (grow) {
      disk_size = spec_int(target, "disk_boot_size");
      json before = value_of(target.prior_spec, "disk_boot_size");
      if (before.is_number_integer() && before.get<int64_t>() > disk_size) {
        throw ProviderError(fmt::format("{}: the boot disk cannot shrink in place ({} to {} GB)",
                                        target.address, before.get<int64_t>(), disk_size));
      }
    }
    // An earlier update of this machine was cut short while it ran: a stop
    // for a resize may have left it HALTED, and the machine is started again.
    const bool was_running =
        value_of(value_of(target.prior_observed, std::string(k_observed_interrupted_update).c_str()),
                 "status") == json("RUNNING");
    if (!rename && !resize && !grow && !was_running && target.prior_observed.is_object() &&
        target.prior_observed.contains("name")) {
      return Remote{id, target.prior_observed}; // labels: stove's alone
    }

    if (rename) {
      m_api.call("machines/update",
                 {{"machineId", id_value(id)},
                  {"name", spec_string(target, "name")},
                  {"description", spec_string(target, "description", false)}},
                 context);
    }
    if (resize || grow) {
      change_size(target, resize, grow ? disk_size : 0, what, context, was_running);
    } else if (was_running &&
               must_get(id, context).observed.value("status", std::string()) == "HALTED") {
      note(context, "starting again after an update cut short");
      m_api.call("machines/start", {{"machineId", id_value(id)}}, context);
      wait_running(id, what, context);
    }
    Remote remote = must_get(id, context);
    if (resize) {
      check_size(target, remote, spec_int(target, "memory"), spec_int(target, "vcpus"));
    }
    return remote;
  }

  void destroy(const Target& target, const OpContext& context) override {
    Api::Reply reply =
        m_api.post("machines/delete",
                   {{"machineId", id_value(target.remote_id)}, {"permanently", true}}, context);
    if (reply.status == 404) {
      return;
    }
    if (!reply.ok()) {
      m_api.fail("machines/delete", reply);
    }
    std::string status;
    poll(
        context,
        [&] {
          Api::Reply state = get(target.remote_id, context);
          if (state.status == 404) {
            return true;
          }
          if (!state.ok()) {
            m_api.fail("machines/get", state);
          }
          Remote remote = observe_machine(target.remote_id, state.body);
          status = remote.observed.value("status", std::string());
          return machine_gone(remote.observed);
        },
        [&] {
          return fmt::format("{}: still there by the deadline (status {})", target.address, status);
        });
  }

  std::optional<Remote> find(const Target& target, const OpContext& context) override {
    const std::string name = spec_string(target, "name");
    const std::string space = space_id(target);
    std::vector<Remote> found;
    for (auto& remote : list_in(space, context)) {
      if (remote.observed["name"] == name) {
        found.push_back(std::move(remote));
      }
    }
    if (found.empty()) {
      return std::nullopt;
    }
    if (found.size() > 1) {
      std::string ids;
      for (const auto& r : found) {
        ids = ids.empty() ? r.remote_id : fmt::format("{}, {}", ids, r.remote_id);
      }
      throw ProviderError(fmt::format(
          "{}: {} machines are named \"{}\" in cloud space {} (ids {}); stove cannot tell which "
          "is its own",
          target.address, found.size(), name, space, ids));
    }
    // The list holds a summary; machines/get has the disks and addresses.
    Api::Reply reply = get(found.front().remote_id, context);
    if (reply.status == 404) {
      return std::nullopt;
    }
    if (!reply.ok()) {
      m_api.fail("machines/get", reply);
    }
    return observe_machine(found.front().remote_id, reply.body);
  }

  // start, stop and reboot: the cloudapi's machines/start, machines/stop
  // (with force) and machines/reboot, then a wait for the status they lead
  // to. A machine already RUNNING (start) or HALTED (stop) is left alone:
  // the call would change nothing. Only a RUNNING machine reboots.
  ActionResult execute(const Target& target, std::string_view action, const json& params,
                       const OpContext& context) override {
    if (action != "start" && action != "stop" && action != "reboot") {
      return KindAdapter::execute(target, action, params, context);
    }
    const std::string& id = target.remote_id;
    if (id.empty()) {
      throw ProviderError(
          fmt::format("{}: it has no remote id (its create did not complete)", target.address));
    }
    Api::Reply reply = get(id, context);
    if (reply.status == 404) {
      throw ProviderError(
          fmt::format("{}: machine {} no longer exists (stove plan will create it again)",
                      target.address, id),
          404);
    }
    if (!reply.ok()) {
      m_api.fail("machines/get", reply);
    }
    Remote current = observe_machine(id, reply.body);
    const std::string status = current.observed.value("status", std::string());
    if (machine_gone(current.observed)) {
      throw ProviderError(fmt::format("{}: machine {} is {}", target.address, id, status));
    }
    const std::string wanted = action == "stop" ? "HALTED" : "RUNNING";
    json body = {{"machineId", id_value(id)}};
    if (action == "reboot" && status != "RUNNING") {
      throw ProviderError(fmt::format("{}: the machine is {}; only a RUNNING machine reboots "
                                      "(start it instead)",
                                      target.address,
                                      status.empty() ? "without a status" : status));
    }
    if (action != "reboot" && status == wanted) {
      note(context, fmt::format("already {}: nothing to do", wanted));
      return ActionResult{true, fmt::format("status={}", status), current.observed};
    }
    if (action == "stop") {
      body["force"] = params.value("force", false);
    }
    const std::string call = fmt::format("machines/{}", action);
    // A reboot sent twice reboots twice: it is not retried.
    m_api.call(call, body, context, /*idempotent=*/action != "reboot");
    Remote after = wait_for(id, wanted, target.address, context);
    const std::string now = after.observed.value("status", std::string());
    return ActionResult{true, fmt::format("status={}", now), after.observed};
  }

  // A machine is in the cloud space machines/get names.
  std::optional<std::string> outside_parent(const Target& target,
                                            const Remote& remote) const override {
    const Parent& parent = target.parents.front();
    json space = value_of(remote.observed, "cloudspace_id");
    const std::string id = space.is_string() ? space.get<std::string>()
                           : space.is_number() ? space.dump()
                                               : std::string();
    if (id.empty() || id == parent.remote_id) {
      return std::nullopt;
    }
    return fmt::format("is in cloud space \"{}\", not in {} (id \"{}\")", id, parent.address,
                       parent.remote_id);
  }

  std::vector<Remote> list(const std::vector<Parent>& parents, const OpContext& context) override {
    for (const auto& parent : parents) {
      if (parent.kind == Kind::cloud_space) {
        return list_in(parent.remote_id, context);
      }
    }
    // At the top: the machines of every cloud space of the account.
    std::vector<Remote> out;
    for (const auto& space : m_spaces.list({}, context)) {
      for (auto& machine : list_in(space.remote_id, context)) {
        out.push_back(std::move(machine));
      }
    }
    return out;
  }

  // machines/list shows no disks or addresses, only `storage`, the total
  // disk size. When it equals the recorded boot disk size the boot disk is
  // taken as unchanged (a machine stove makes has no other disk) and the
  // recorded disk id and address are kept; otherwise machines/get reads
  // them. A machine gone between the listing and that get keeps what the
  // listing showed: the next refresh sees it gone.
  std::optional<Remote> complete(const Target& target, Remote listed,
                                 const OpContext& context) override {
    json storage = value_of(listed.observed, k_storage);
    listed.observed.erase(k_storage);
    json recorded = value_of(target.prior_observed, "disk_boot_size");
    if (storage.is_number_integer() && storage == recorded) {
      listed.observed["disk_boot_size"] = storage;
      return listed;
    }
    const std::string id = target.remote_id.empty() ? listed.remote_id : target.remote_id;
    Api::Reply reply = get(id, context);
    if (reply.status == 404) {
      return std::nullopt;  // deleted since the listing
    }
    if (!reply.ok()) {
      m_api.fail("machines/get", reply);
    }
    Remote remote = observe_machine(id, reply.body);
    if (machine_gone(remote.observed)) {
      return std::nullopt;
    }
    return remote;
  }

private:
  // Where list_in() keeps the summary's `storage` for complete().
  static constexpr const char* k_storage = "storage";

  Api::Reply get(const std::string& id, const OpContext& context) {
    return m_api.post("machines/get", {{"machineId", id_value(id)}}, context);
  }

  Remote must_get(const std::string& id, const OpContext& context) {
    Api::Reply reply = get(id, context);
    if (!reply.ok()) {
      m_api.fail("machines/get", reply);
    }
    return observe_machine(id, reply.body);
  }

  static std::string space_id(const Target& target) {
    for (const auto& parent : target.parents) {
      if (parent.kind == Kind::cloud_space && !parent.remote_id.empty()) {
        return parent.remote_id;
      }
    }
    throw ProviderError(fmt::format("{}: its cloud space has no id yet", target.address));
  }

  std::vector<Remote> list_in(const std::string& space, const OpContext& context) {
    json machines = m_api.call("machines/list", {{"cloudspaceId", id_value(space)}}, context);
    if (!machines.is_array()) {
      throw ProviderError("machines/list: expected a list of machines");
    }
    std::vector<Remote> out;
    for (const auto& machine : machines) {
      Remote remote = observe_machine({}, machine);
      if (remote.remote_id.empty() || machine_gone(remote.observed)) {
        continue;
      }
      if (!remote.observed.contains("cloudspace_id")) {
        remote.observed["cloudspace_id"] = space;
      }
      // The summary's total disk size, which complete() compares with the
      // recorded boot disk size, then drops.
      if (auto storage = int_field(machine, {"storage"})) {
        remote.observed[k_storage] = *storage;
      }
      out.push_back(std::move(remote));
    }
    return out;
  }

  // The resize and the boot disk's growth (`disk_size` GB, 0: none), with
  // the stop and start the G8 needs. It decreases memory or vcpus only on a
  // HALTED machine (else 400 "Can not decrease ... on a running machine"),
  // so a running machine is stopped first. A 202 (false) of machines/resize
  // or disks/resize means the new size is stored but not live: a stop and
  // a start apply it. One stop and start serve both; a machine found
  // HALTED stays HALTED, unless an earlier update cut short left it so
  // (`was_running`).
  void change_size(const Target& target, bool resize, int64_t disk_size, const std::string& what,
                   const OpContext& context, bool was_running = false) {
    const std::string& id = target.remote_id;
    const Remote current = must_get(id, context);
    const bool halted = current.observed.value("status", std::string()) == "HALTED";
    // HALTED by an earlier update cut short (was_running): stove's stop,
    // which this update finishes with a start.
    const bool running = !halted || was_running;
    bool stopped = halted && was_running;
    auto stop = [&](std::string_view why) {
      note(context, why);
      m_api.call("machines/stop", {{"machineId", id_value(id)}}, context);
      wait_for(id, "HALTED", target.address, context);
      stopped = true;
    };
    bool restart = false;
    try {
      if (resize) {
        restart = resize_machine(target, current, running, stopped, stop, context);
      }
      if (disk_size > 0) {
        restart = grow_boot_disk(target, current, disk_size, context) || restart;
      }
    } catch (...) {
      // A machine stove stopped is not left stopped by a refused resize.
      if (stopped) {
        note(context, "starting again after the failed resize");
        try {
          m_api.call("machines/start", {{"machineId", id_value(id)}}, context);
        } catch (const std::exception&) {
          // The resize's error is the one to report.
        }
      }
      throw;
    }
    if (restart && running && !stopped) {
      stop("stopping to apply the resize");
    }
    if (stopped) {
      note(context, "starting after the resize");
      m_api.call("machines/start", {{"machineId", id_value(id)}}, context);
      wait_running(id, what, context);
    }
  }

  // machines/resize to the spec's memory and vcpus, stopping a running
  // machine first when either decreases; true when the G8 answers 202
  // (false): stored, applied by a stop and a start.
  bool resize_machine(const Target& target, const Remote& current, bool running,
                      const bool& stopped, const std::function<void(std::string_view)>& stop,
                      const OpContext& context) {
    const int64_t memory = spec_int(target, "memory");
    const int64_t vcpus = spec_int(target, "vcpus");
    if (running && !stopped && (memory < current.observed.value("memory", int64_t{0}) ||
                    vcpus < current.observed.value("vcpus", int64_t{0}))) {
      stop("stopping to resize");
    }
    const json body = {
        {"machineId", id_value(target.remote_id)}, {"memory", memory}, {"vcpus", vcpus}};
    Api::Reply reply = m_api.post("machines/resize", body, context);
    // Started behind stove's back since the read: stop it, as above.
    if (reply.status == 400 && !stopped &&
        error_message(reply.text).starts_with("Can not decrease")) {
      stop("stopping to resize");
      reply = m_api.post("machines/resize", body, context);
    }
    if (!reply.ok()) {
      m_api.fail("machines/resize", reply);
    }
    return reply.status == 202 || reply.body == false;
  }

  // disks/resize of the boot disk to `size` GB; true when the G8 answers
  // 202 (false): grown, but the running guest sees it only after a stop and
  // a start. A disk already that size is left alone (the G8 refuses a size
  // that is not larger).
  bool grow_boot_disk(const Target& target, const Remote& current, int64_t size,
                      const OpContext& context) {
    const std::string disk = current.observed.value("boot_disk_id", std::string());
    if (disk.empty()) {
      throw ProviderError(
          fmt::format("{}: machines/get lists no boot disk (type B) to resize", target.address));
    }
    const int64_t has = current.observed.value("disk_boot_size", int64_t{0});
    if (has == size) {
      return false;
    }
    if (has > size) {
      throw ProviderError(fmt::format("{}: the boot disk is {} GB, larger than {} GB, and cannot "
                                      "shrink in place",
                                      target.address, has, size));
    }
    Api::Reply reply =
        m_api.post("disks/resize", {{"diskId", id_value(disk)}, {"size", size}}, context);
    if (!reply.ok()) {
      m_api.fail("disks/resize", reply);
    }
    return reply.status == 202 || reply.body == false;
  }

  static void check_size(const Target& target, const Remote& remote, int64_t memory,
                         int64_t vcpus) {
    auto has = remote.observed.value("memory", int64_t{0});
    auto cpus = remote.observed.value("vcpus", int64_t{0});
    if (has != memory || cpus != vcpus) {
      throw ProviderError(fmt::format(
          "{}: machines/resize: the machine has {} MB and {} vcpus after the resize, not {} MB "
          "and {} vcpus",
          target.address, has, cpus, memory, vcpus));
    }
  }

  // Polls machines/get until the machine is `wanted` (RUNNING, HALTED).
  Remote wait_for(const std::string& id, const std::string& wanted, const std::string& address,
                  const OpContext& context) {
    Remote remote;
    std::string status;
    bool noted = false;
    poll(
        context,
        [&] {
          Api::Reply reply = get(id, context);
          if (reply.status == 404) {
            throw ProviderError(
                fmt::format("{}: machine {} disappeared while waiting for {}", address, id, wanted),
                404);
          }
          if (!reply.ok()) {
            m_api.fail("machines/get", reply);
          }
          remote = observe_machine(id, reply.body);
          status = remote.observed.value("status", std::string());
          if (status == wanted) {
            return true;
          }
          if (status == "ERROR" || machine_gone(remote.observed)) {
            throw ProviderError(
                fmt::format("{}: machine {} is {} instead of {}", address, id, status, wanted));
          }
          if (!noted) {
            note(context, fmt::format("waiting for {}", wanted));
            noted = true;
          }
          return false;
        },
        [&] {
          return fmt::format("{}: machine {} was not {} by the deadline (status {})", address, id,
                             wanted, status);
        });
    return remote;
  }

  Remote wait_running(const std::string& id, const std::string& what, const OpContext& context) {
    Remote remote;
    std::string status;
    bool noted = false;
    poll(
        context,
        [&] {
          Api::Reply reply = get(id, context);
          if (reply.status == 404) {
            throw ProviderError(
                fmt::format("{} (id {}) disappeared while waiting for RUNNING", what, id), 404);
          }
          if (!reply.ok()) {
            m_api.fail("machines/get", reply);
          }
          remote = observe_machine(id, reply.body);
          status = remote.observed.value("status", std::string());
          if (status == "RUNNING") {
            return true;
          }
          if (status == "ERROR" || machine_gone(remote.observed)) {
            throw ProviderError(
                fmt::format("{} (id {}) is {} instead of RUNNING", what, id, status));
          }
          if (!noted) {
            note(context, "waiting for RUNNING");
            noted = true;
          }
          return false;
        },
        [&] {
          return fmt::format("{} (id {}) was not RUNNING by the deadline (status {})", what, id,
                             status);
        });
    return remote;
  }

  Api& m_api;
  CloudSpaces& m_spaces;
};

class OpenVCloudProvider final : public Provider {
public:
  OpenVCloudProvider(Settings settings, http::ClientOptions options)
      : m_api(std::move(settings), std::move(options)), m_spaces(m_api),
        m_machines(m_api, m_spaces) {}

  KindAdapter* adapter(Kind kind) override {
    switch (kind) {
    case Kind::cloud_space:
      return &m_spaces;
    case Kind::machine:
      return &m_machines;
    default:
      return nullptr;
    }
  }

  http::Stats stats() const override { return m_api.stats(); }

private:
  Api m_api;
  CloudSpaces m_spaces;
  Machines m_machines;
};

} // namespace

Settings settings_from_config(const ProviderConfig& config, const Environment& environment) {
  Settings s;
  s.provider_name = config.name;
  s.endpoint = providers::normalise_endpoint(config);
  auto account = config.settings.find("account_id");
  if (account == config.settings.end() || !account->is_number_integer()) {
    throw Error(ErrorKind::input,
                fmt::format("provider \"{}\": account_id is required (an integer)", config.name));
  }
  s.account_id = account->get<int64_t>();
  s.access = setting_string(config, "access").value_or("");

  s.token_variable = setting_string(config, "token_env").value_or("STOVE_OVC_TOKEN");
  if (auto token = read_variable(environment, s.token_variable)) {
    s.token = std::move(token);
    if (s.access.empty()) {
      // As ovc-sdk-go: the G8 takes the bearer for USERNAME@ISS.
      auto derived = access_from_jwt(*s.token);
      if (!derived) {
        throw Error(ErrorKind::input,
                    fmt::format("provider \"{}\": \"access\" is not set and the token in {} is "
                                "not a JWT with username and iss claims to take it from; set "
                                "\"access\" to the G8 user that cloud spaces are created for "
                                "(such as john@itsyouonline)",
                                config.name, s.token_variable));
      }
      s.access = std::move(*derived);
    }
    return s;
  }
  auto token_url = setting_string(config, "token_url");
  if (!token_url) {
    throw Error(ErrorKind::input,
                fmt::format("provider \"{}\": environment variable {} is not set; it holds the "
                            "JWT bearer token (token_env), or set token_url, client_id_env and "
                            "client_secret_env to exchange client credentials for one",
                            config.name, s.token_variable));
  }
  auto id_variable = setting_string(config, "client_id_env");
  auto secret_variable = setting_string(config, "client_secret_env");
  if (!id_variable || !secret_variable) {
    throw Error(ErrorKind::input,
                fmt::format("provider \"{}\": {} is not set, and token_url needs client_id_env "
                            "and client_secret_env (the variables holding the client id and "
                            "secret)",
                            config.name, s.token_variable));
  }
  ClientCredentials c;
  c.token_url = *token_url;
  c.client_id_variable = *id_variable;
  c.client_secret_variable = *secret_variable;
  c.client_id = require_variable(environment, config, c.client_id_variable,
                                 "client id for token_url (client_id_env)");
  c.client_secret = require_variable(environment, config, c.client_secret_variable,
                                     "client secret for token_url (client_secret_env)");
  s.credentials = std::move(c);
  return s;
}

std::unique_ptr<Provider> make(Settings settings, http::ClientOptions http) {
  if (http.name.empty()) {
    http.name = settings.provider_name;
  }
  return std::make_unique<OpenVCloudProvider>(std::move(settings), std::move(http));
}

std::unique_ptr<Provider> factory(const ProviderConfig& config, const ProviderOptions& options) {
  http::ClientOptions http = options.http;
  http.name = config.name;
  return make(settings_from_config(config, options.environment), std::move(http));
}

} // namespace stove::providers::openvcloud
