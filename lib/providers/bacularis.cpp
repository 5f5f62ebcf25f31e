#include "providers/bacularis.hpp"

#include "model/observed.hpp"
#include "providers/bacularis_api.hpp"
#include "providers/bacularis_directives.hpp"
#include "providers/bacularis_listing.hpp"
#include "providers/bacularis_run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

namespace stove::providers::bacularis {

namespace {

using nlohmann::json;

std::string spec_string(const Target& target, const char* name) {
  auto it = target.spec.find(name);
  if (it == target.spec.end() || !it->is_string() || it->get<std::string>().empty()) {
    throw ProviderError(fmt::format("{}: the spec has no {}", target.address, name));
  }
  return it->get<std::string>();
}

std::vector<std::string> spec_list(const Target& target, const char* name,
                                   std::vector<std::string> fallback) {
  auto it = target.spec.find(name);
  if (it == target.spec.end() || it->is_null()) {
    return fallback;
  }
  if (!it->is_array()) {
    throw ProviderError(fmt::format("{}: {} is not a list", target.address, name));
  }
  std::vector<std::string> out;
  for (const auto& item : *it) {
    if (!item.is_string()) {
      throw ProviderError(
          fmt::format("{}: {} holds a value that is not a string", target.address, name));
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

int64_t spec_retention(const Target& target) {
  auto it = target.spec.find("retention_days");
  if (it == target.spec.end() || it->is_null()) {
    return 30;
  }
  if (!it->is_number_integer() || it->get<int64_t>() < 1) {
    throw ProviderError(
        fmt::format("{}: retention_days is not a positive integer", target.address));
  }
  return it->get<int64_t>();
}

bool spec_enabled(const Target& target) {
  auto it = target.spec.find("enabled");
  return it == target.spec.end() || !it->is_boolean() || it->get<bool>();
}

bool changed(const Target& target, const char* name) {
  return value_of(target.prior_spec, name) != value_of(target.spec, name);
}

// An incomplete object's missing parts, as the state records them.
bool incomplete(const Target& target) {
  json missing = value_of(target.prior_observed, std::string(k_observed_missing).c_str());
  return missing.is_array() && !missing.empty();
}

// What to do when a resource stove creates is there already, configured
// otherwise.
enum class Existing {
  reuse,     // a machine's Client: shared; its address is brought up to date
  overwrite, // a backup's Fileset, Schedule, Pool: named after the job, stove's
  refuse,    // the Job itself: someone else's
};

class Backups final : public KindAdapter {
public:
  explicit Backups(Api& api) : m_api(api) {}

  std::optional<Remote> read(const Target& target, const OpContext& context) override {
    const std::string name =
        target.remote_id.empty() ? spec_string(target, "name") : target.remote_id;
    auto remote = observe(name, context);
    if (remote) {
      remote->observed =
          with_spec_schedule(std::move(remote->observed), value_of(target.spec, "schedule"));
    }
    return remote;
  }

  Remote create(const Target& target, const OpContext& context) override {
    const Names names(spec_string(target, "name"));
    check_job_name(target, names.job);
    const std::string client = client_of(target);
    const std::string address = address_of(target);
    const json job = job_directives(names, client, spec_enabled(target));

    // One operation at a time on a machine's backups: they share its Client,
    // which a destroy removes with the last Job that uses it.
    std::lock_guard client_lock(*lock_for(client));
    // Someone else's job of that name: refuse before touching anything.
    if (auto existing = m_api.get("Job", names.job, context);
        existing && !matches(*existing, job_identity(read_form("Job", job)))) {
      throw conflict(target, names.job, *existing, job_identity(read_form("Job", job)));
    }
    make_all(target, names, client, address, job, context);
    m_api.reload(context);
    return must_observe(target, names.job, context);
  }

  Remote update(const Target& target, const OpContext& context) override {
    const Names names(target.remote_id.empty() ? spec_string(target, "name") : target.remote_id);
    if (changed(target, "name") && !target.remote_id.empty() &&
        spec_string(target, "name") != target.remote_id) {
      throw ProviderError(fmt::format("{}: name cannot change in place", target.address));
    }
    if (incomplete(target)) {
      // A create or destroy was cut short, or the director was not
      // reloaded: make whatever is missing, then reload.
      note(context, "finishing an incomplete backup");
      const std::string client = client_of(target);
      std::lock_guard client_lock(*lock_for(client));
      make_all(target, names, client, address_of(target),
               job_directives(names, client, spec_enabled(target)), context);
      m_api.reload(context);
      return must_observe(target, names.job, context);
    }
    bool any = false;
    if (changed(target, "schedule")) {
      put(target, "Schedule", schedule_directives(names.schedule, spec_string(target, "schedule")),
          context);
      any = true;
    }
    if (changed(target, "fileset") || changed(target, "excludes")) {
      put(target, "Fileset",
          fileset_directives(names.fileset, spec_list(target, "fileset", {"/"}),
                             spec_list(target, "excludes", {})),
          context);
      any = true;
    }
    if (changed(target, "retention_days")) {
      put(target, "Pool", pool_directives(names, spec_retention(target)), context);
      any = true;
    }
    if (changed(target, "enabled")) {
      auto current = m_api.get("Job", names.job, context);
      if (!current) {
        throw ProviderError(
            fmt::format("{}: Job \"{}\" is gone; it cannot be updated", target.address, names.job),
            404);
      }
      json wanted = *current;
      wanted["Enabled"] = spec_enabled(target);
      m_api.replace("Job", merged("Job", *current, wanted), context);
      any = true;
    }
    if (!any && target.prior_observed.is_object() && target.prior_observed.contains("name")) {
      return Remote{names.job, target.prior_observed, {}}; // labels: stove's alone
    }
    if (any) {
      m_api.reload(context);
    }
    return must_observe(target, names.job, context);
  }

  void destroy(const Target& target, const OpContext& context) override {
    const Names names(target.remote_id.empty() ? spec_string(target, "name") : target.remote_id);
    auto job = m_api.get("Job", names.job, context);
    std::string client = job ? string_of(*job, "Client") : std::string();
    if (client.empty()) {
      client = client_of(target, /*required=*/false);
    }
    std::lock_guard client_lock(*lock_for(client));
    // A job that was there is reloaded away, even if a lost response makes
    // its DELETE look like it found nothing.
    bool any = job.has_value();
    if (job) {
      m_api.remove("Job", names.job, context);
    }
    // Only what is named after the job: a Fileset or Schedule the job was
    // pointed at by hand may be shared.
    const std::array<std::pair<std::string_view, const std::string*>, 3> owned = {
        {{"Schedule", &names.schedule}, {"Fileset", &names.fileset}, {"Pool", &names.pool}}};
    for (auto [type, name] : owned) {
      any = remove_part(type, *name, context) || any;
    }
    if (!client.empty() && !client_in_use(client, names.job, context)) {
      any = remove_part("Client", client, context) || any;
    }
    // Nothing left to delete, but a destroy cut short before its reload
    // leaves the director running the Job: reload it away.
    if (any || m_api.loaded_jobs(context).contains(names.job)) {
      m_api.reload(context);
    }
  }

  std::optional<Remote> find(const Target& target, const OpContext& context) override {
    const std::string name = spec_string(target, "name");
    if (auto remote = observe(name, context)) {
      remote->observed =
          with_spec_schedule(std::move(remote->observed), value_of(target.spec, "schedule"));
      return remote;
    }
    // No Job: what a create (or destroy) cut short left behind.
    return leftovers(target, Names(name), nullptr, context);
  }

  // The jobs of the machine parent's Client (every job at the top), each
  // observed as read() observes it, from the director's listings (Job,
  // Schedule, Fileset, Pool, Client) and the jobs it has loaded. Between
  // begin_refresh() and end_refresh() those are fetched once, by the first
  // list(), and every list() answers from them.
  std::vector<Remote> list(const std::vector<Parent>& parents, const OpContext& context) override {
    std::optional<std::string> client;
    for (const auto& parent : parents) {
      if (parent.kind == Kind::machine) {
        std::string machine = string_of(parent.observed, "name");
        if (!machine.empty()) {
          client = client_name(machine);
        }
        break;
      }
    }
    std::shared_ptr<const Directory> directory = directory_for(context);
    if (!client) {
      return directory->all;
    }
    auto it = directory->by_client.find(*client);
    if (it == directory->by_client.end()) {
      return {};
    }
    std::vector<Remote> out;
    out.reserve(it->second.size());
    for (size_t index : it->second) {
      out.push_back(directory->all[index]);
    }
    return out;
  }

  std::optional<Remote> complete(const Target& target, Remote listed,
                                 const OpContext& /*context*/) override {
    listed.observed =
        with_spec_schedule(std::move(listed.observed), value_of(target.spec, "schedule"));
    return listed;
  }

  std::optional<Remote> remains(const Target& target, const OpContext& context) override {
    std::shared_ptr<const Directory> directory = directory_for(context);
    return leftovers(target, Names(target.remote_id), directory.get(), context);
  }

  // A backup's Job runs on its machine's Client, named after the machine.
  std::optional<std::string> outside_parent(const Target& target,
                                            const Remote& remote) const override {
    const Parent& parent = target.parents.front();
    const std::string machine = string_of(parent.observed, "name");
    const std::string client = string_of(remote.observed, "client");
    if (parent.kind != Kind::machine || machine.empty() || client.empty() ||
        client == client_name(machine)) {
      return std::nullopt;
    }
    return fmt::format("backs up the client \"{}\", not {}'s (\"{}\")", client, parent.address,
                       client_name(machine));
  }

  void begin_refresh() override {
    std::lock_guard lock(m_refresh_mutex);
    ++m_refreshes;
  }

  void end_refresh() override {
    std::lock_guard lock(m_refresh_mutex);
    if (m_refreshes > 0 && --m_refreshes == 0) {
      m_directory.reset();
    }
  }

  ActionResult execute(const Target& target, std::string_view action, const json& params,
                       const OpContext& context) override {
    if (action != "run") {
      return KindAdapter::execute(target, action, params, context);
    }
    return run_job(m_api, target, params, context);
  }

private:
  static void check_job_name(const Target& target, const std::string& name) {
    if (!valid_name(name) || name.size() > k_max_job_name) {
      throw ProviderError(fmt::format(
          "{}: \"{}\" is not a usable Bacula job name: 1 to {} letters, digits, '-', '_', '.', "
          "':' or inner spaces (its Fileset, Schedule and Pool are named after it)",
          target.address, name, k_max_job_name));
    }
  }

  static const Parent* machine_of(const Target& target) {
    for (const auto& parent : target.parents) {
      if (parent.kind == Kind::machine) {
        return &parent;
      }
    }
    return nullptr;
  }

  static std::string client_of(const Target& target, bool required = true) {
    const Parent* machine = machine_of(target);
    std::string name = machine != nullptr ? string_of(machine->observed, "name") : std::string();
    if (name.empty()) {
      if (!required) {
        return {};
      }
      throw ProviderError(fmt::format("{}: its machine has no observed name yet", target.address));
    }
    return client_name(name);
  }

  static std::string address_of(const Target& target) {
    const Parent* machine = machine_of(target);
    std::string ip =
        machine != nullptr ? string_of(machine->observed, "ip_address") : std::string();
    if (ip.empty()) {
      throw ProviderError(fmt::format(
          "{}: its machine has no IP address yet (the Client's Address)", target.address));
    }
    return ip;
  }

  ProviderError conflict(const Target& target, const std::string& job, const json& have,
                         const json& want) const {
    return ProviderError(fmt::format(
        "{}: a Job \"{}\" exists already, configured otherwise ({}); stove does not take over a "
        "job it did not make: rename the backup or remove that job",
        target.address, job, differences(have, want)));
  }

  // The five resources, each before what names it (the Job names them all,
  // a Schedule's Run may name the Pool); each made, or settled for when
  // there (see ensure()).
  void make_all(const Target& target, const Names& names, const std::string& client,
                const std::string& address, const json& job, const OpContext& context) {
    const std::optional<std::string>& password = m_api.settings().client_password;
    if (!password && !m_api.get("Client", client, context)) {
      // The director refuses a Client without a Password, and stove knows
      // none: refuse before anything is made.
      throw NothingCreated(fmt::format(
          "{}: Client \"{}\" does not exist and provider \"{}\" has no client_password_env: "
          "Bacula's director requires a Password for every Client (the file daemon's); set "
          "client_password_env to the variable that holds it",
          target.address, client, m_api.settings().provider_name));
    }
    ensure(target, "Client", client_directives(client, address, password), Existing::reuse,
           context);
    ensure(target, "Fileset",
           fileset_directives(names.fileset, spec_list(target, "fileset", {"/"}),
                              spec_list(target, "excludes", {})),
           Existing::overwrite, context);
    // The Pool before the Schedule: a Run may name it (Pool=JOB-pool).
    ensure(target, "Pool", pool_directives(names, spec_retention(target)), Existing::overwrite,
           context);
    ensure(target, "Schedule", schedule_directives(names.schedule, spec_string(target, "schedule")),
           Existing::overwrite, context);
    ensure(target, "Job", job, Existing::refuse, context);
  }

  // Creates a resource, or settles for the one there: the same (a create
  // whose response was lost, an interrupted earlier run), or per `existing`.
  void ensure(const Target& target, std::string_view type, const json& wanted, Existing existing,
              const OpContext& context) {
    const std::string name = wanted["Name"].get<std::string>();
    const json expected = read_form(type, wanted);
    const http::RetryPolicy& retry = m_api.retry();
    const int attempts = std::max(1, retry.max_attempts);
    auto delay = std::max(retry.base, std::chrono::milliseconds(1));
    for (int attempt = 1;; ++attempt) {
      std::string failure;
      Api::Created created = Api::Created::unknown;
      try {
        created = m_api.create(type, wanted, context, &failure);
        if (created == Api::Created::created) {
          return;
        }
      } catch (const http::TransportError& e) {
        if (e.reason() == http::TransportError::Reason::cancelled || context.deadline.expired()) {
          throw;
        }
        failure = e.what();
      }
      if (auto current = m_api.get(type, name, context)) {
        settle(target, type, *current, wanted, expected, existing, created == Api::Created::exists,
               context);
        return;
      }
      if (attempt >= attempts) {
        throw ProviderError(failure.empty()
                                ? fmt::format("{} \"{}\": created, yet not there", type, name)
                                : failure);
      }
      context.deadline.sleep(delay);
      delay = std::min(delay * 2, std::max(retry.cap, retry.base));
    }
  }

  // A resource of that name is there: keep it if it is what stove wants,
  // else bring it there (or refuse someone else's Job).
  void settle(const Target& target, std::string_view type, const json& current, const json& wanted,
              const json& expected, Existing existing, bool was_there, const OpContext& context) {
    const std::string name = wanted["Name"].get<std::string>();
    if (matches(current, expected)) {
      if (was_there) {
        note(context, fmt::format("adopting the existing {} \"{}\"", type, name));
      }
      return;
    }
    if (existing == Existing::refuse && !matches(current, job_identity(expected))) {
      throw conflict(target, name, current, job_identity(expected));
    }
    note(context, fmt::format("updating the existing {} \"{}\" ({})", type, name,
                              differences(current, expected)));
    json target_form = wanted;
    if (existing == Existing::reuse) {
      // Only what stove must have: the Client's address (and its password).
      target_form = current;
      for (const auto& [key, value] : wanted.items()) {
        if (!current.contains(key) || key == "Address" || key == "Password") {
          target_form[key] = value;
        }
      }
    }
    bool replaced = false;
    try {
      replaced = m_api.replace(type, merged(type, current, target_form), context);
    } catch (const ProviderError& e) {
      // A refusal may quote the resource sent back, with the file daemon's
      // password an operator set.
      throw ProviderError(redact_secret(e.what(), string_of(current, "Password")), e.http_status());
    }
    if (!replaced) {
      throw ProviderError(fmt::format("{}: {} \"{}\" went away while stove updated it",
                                      target.address, type, name));
    }
  }

  // Brings a resource to `wanted` (merged into what is there), or makes it
  // again if it went missing.
  void put(const Target& target, std::string_view type, const json& wanted,
           const OpContext& context) {
    const std::string name = wanted["Name"].get<std::string>();
    if (auto current = m_api.get(type, name, context)) {
      if (m_api.replace(type, merged(type, *current, wanted), context)) {
        return;
      }
    }
    note(context, fmt::format("{} \"{}\" is missing; making it again", type, name));
    ensure(target, type, wanted, Existing::overwrite, context);
  }

  // Deletes one part; true if it was there. One in use is kept, with a note.
  bool remove_part(std::string_view type, const std::string& name, const OpContext& context) {
    std::string users;
    switch (m_api.remove(type, name, context, &users)) {
    case Api::Removed::removed:
      return true;
    case Api::Removed::missing:
      return false;
    case Api::Removed::in_use:
      note(context, fmt::format("keeping {} \"{}\": {} use it", type, name, users));
      return false;
    }
    return false;
  }

  bool client_in_use(const std::string& client, const std::string& except,
                     const OpContext& context) {
    for (const auto& job : m_api.list("Job", context)) {
      if (string_of(job, "Client") == client && string_of(job, "Name") != except) {
        return true;
      }
    }
    return false;
  }

  std::optional<Remote> observe(const std::string& name, const OpContext& context) {
    auto job = m_api.get("Job", name, context);
    if (!job) {
      return std::nullopt;
    }
    return Remote{name,
                  observed_of(name, *job,
                              [&](std::string_view type, const std::string& n) {
                                return m_api.get(type, n, context);
                              }),
                  {}};
  }

  // What is left of a backup with no Job: its Fileset, Schedule and Pool,
  // and its machine's Client when no other Job uses it. From `directory`
  // when there is one, else read now. nullopt when nothing is left.
  std::optional<Remote> leftovers(const Target& target, const Names& names,
                                  const Directory* directory, const OpContext& context) {
    auto lookup = [&](std::string_view type, const std::string& n) -> std::optional<json> {
      return directory != nullptr ? directory->find(type, n) : m_api.get(type, n, context);
    };
    std::vector<std::string> missing = {fmt::format("Job \"{}\"", names.job)};
    bool any = false;
    for (auto [type, name] :
         {std::pair<std::string_view, const std::string*>{"Fileset", &names.fileset},
          {"Schedule", &names.schedule},
          {"Pool", &names.pool}}) {
      if (lookup(type, *name)) {
        any = true;
      } else {
        missing.push_back(fmt::format("{} \"{}\"", type, *name));
      }
    }
    const std::string client = client_of(target, /*required=*/false);
    if (!any && !client.empty() && lookup("Client", client)) {
      const bool used = directory != nullptr ? directory->by_client.contains(client)
                                             : client_in_use(client, names.job, context);
      any = !used;
    }
    // The director may still run the Job: deleted, but not reloaded away.
    if (directory != nullptr ? directory->loaded.contains(names.job)
                             : m_api.loaded_jobs(context).contains(names.job)) {
      missing.push_back("a director reload (the director still runs this deleted Job)");
      any = true;
    }
    if (!any) {
      return std::nullopt;
    }
    json fake_job = {{"Client", client},
                     {"Fileset", names.fileset},
                     {"Schedule", names.schedule},
                     {"Pool", names.pool}};
    Remote remote{names.job, observed_of(names.job, fake_job, lookup), std::move(missing)};
    // Without a Job there is no client or enabled to observe.
    remote.observed.erase("client");
    remote.observed.erase("enabled");
    remote.observed =
        with_spec_schedule(std::move(remote.observed), value_of(target.spec, "schedule"));
    return remote;
  }

  // During a refresh, the directory fetched by its first user (fetched now
  // if this is it); outside one, fetched for this call alone. Concurrent
  // callers wait for the one fetch; a failed fetch is tried again by the
  // next caller.
  std::shared_ptr<const Directory> directory_for(const OpContext& context) {
    std::lock_guard lock(m_refresh_mutex);
    if (m_refreshes == 0) {
      return std::make_shared<const Directory>(fetch_directory(m_api, context));
    }
    if (!m_directory) {
      m_directory = std::make_shared<const Directory>(fetch_directory(m_api, context));
    }
    return m_directory;
  }

  Remote must_observe(const Target& target, const std::string& name, const OpContext& context) {
    auto remote = observe(name, context);
    if (!remote) {
      throw ProviderError(
          fmt::format("{}: Job \"{}\" is not there after it was written", target.address, name));
    }
    remote->observed =
        with_spec_schedule(std::move(remote->observed), value_of(target.spec, "schedule"));
    return std::move(*remote);
  }

  // The lock of a machine's Client (for "", of backups without one).
  std::shared_ptr<std::mutex> lock_for(const std::string& client) {
    std::lock_guard lock(m_client_locks_mutex);
    auto& slot = m_client_locks[client];
    if (!slot) {
      slot = std::make_shared<std::mutex>();
    }
    return slot;
  }

  Api& m_api;
  std::mutex m_client_locks_mutex; // guards m_client_locks
  std::map<std::string, std::shared_ptr<std::mutex>, std::less<>> m_client_locks;
  std::mutex m_refresh_mutex; // guards m_refreshes and m_directory
  int m_refreshes = 0;        // begin_refresh() calls not yet ended
  std::shared_ptr<const Directory> m_directory;
};

class BacularisProvider final : public Provider {
public:
  BacularisProvider(Settings settings, http::ClientOptions options)
      : m_api(std::move(settings), std::move(options)), m_backups(m_api) {}

  KindAdapter* adapter(Kind kind) override { return kind == Kind::backup ? &m_backups : nullptr; }

  http::Stats stats() const override { return m_api.stats(); }

private:
  Api m_api;
  Backups m_backups;
};

} // namespace

std::unique_ptr<Provider> make(Settings settings, http::ClientOptions http) {
  if (http.name.empty()) {
    http.name = settings.provider_name;
  }
  return std::make_unique<BacularisProvider>(std::move(settings), std::move(http));
}

std::unique_ptr<Provider> factory(const ProviderConfig& config, const ProviderOptions& options) {
  http::ClientOptions http = options.http;
  http.name = config.name;
  return make(settings_from_config(config, options.environment), std::move(http));
}

} // namespace stove::providers::bacularis
