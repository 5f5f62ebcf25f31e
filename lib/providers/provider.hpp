#pragma once

// What the apply engine knows of a cloud: one adapter per kind, reached
// through a provider made by the factory registered for its `type`. The
// engine never sees HTTP, wire formats or the sandbox.

#include "http/client.hpp"
#include "model/kind.hpp"
#include "model/provider.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stove::providers {

// A resource's parent as it stands when the operation runs: its remote id
// and the attributes last observed (the cloud space's id for a machine, the
// machine's IP address for a backup).
struct Parent {
  Kind kind = Kind::cloud_space;
  std::string address;
  std::string remote_id;
  nlohmann::json observed = nlohmann::json::object();
};

// The object an operation is about.
struct Target {
  Kind kind = Kind::cloud_space;
  std::string address;
  std::string remote_id;                              // empty for a create
  nlohmann::json spec = nlohmann::json::object();     // wanted (create, update) or applied (destroy)
  nlohmann::json prior_spec = nlohmann::json::object();     // applied, for an update
  nlohmann::json prior_observed = nlohmann::json::object(); // last observed, if any
  std::vector<Parent> parents;                        // nearest first; empty at the top
  // Set when an earlier run may already have made this object (its create
  // was interrupted): create() then adopts an object of the same name in
  // the same parent instead of failing because the name is taken. Without
  // it, a name taken by an object stove does not manage is an error.
  bool adopt = false;
};

// What the provider reports of an object.
struct Remote {
  Remote() = default;
  Remote(std::string remote_id_, nlohmann::json observed_ = nlohmann::json::object(),
         std::vector<std::string> missing_ = {})
    : remote_id(std::move(remote_id_)), observed(std::move(observed_)),
      missing(std::move(missing_)) {}

  std::string remote_id;
  nlohmann::json observed = nlohmann::json::object();  // e.g. status, ip_address, disk ids
  // For an object made of several remote objects, the parts that are not
  // there, in words ("Job \"nightly\""): an object left incomplete (a create
  // or a delete cut short, a director not reloaded). Empty: it is whole.
  std::vector<std::string> missing;
};

// How an operation may run: by when it must finish, and where to report
// progress notes ("waiting for DEPLOYED", "stopping to resize").
struct OpContext {
  http::Deadline deadline;
  std::function<void(std::string_view note)> note;  // may be empty
};

// Reports a progress note through `context`, if it takes notes.
inline void note(const OpContext& context, std::string_view text) {
  if (context.note) {
    context.note(text);
  }
}

// `text` with every occurrence of `secret` replaced by "<redacted>" (an
// empty secret changes nothing): for messages that may quote a request.
std::string redact_secret(std::string text, std::string_view secret);

// Raised by adapters when the provider refuses or fails an operation. The
// message is for the user: what was asked, what the API answered (never a
// credential).
class ProviderError : public std::runtime_error {
public:
  explicit ProviderError(const std::string& message, long http_status = 0)
    : std::runtime_error(message), m_status(http_status) {}
  long http_status() const { return m_status; }

private:
  long m_status;
};

// What an action (`stove exec`) came to. An action that could not be
// carried out at all (refused, unreachable, unsupported) throws
// ProviderError instead; one that ran and ended badly (a backup job that
// failed, a wait cut short by the deadline) returns ok = false, so that
// what it observed is still recorded.
struct ActionResult {
  bool ok = true;
  // One line for the user: what the object is now ("status=HALTED", "job 12
  // T, level Full"), or on failure why.
  std::string outcome;
  // Attributes observed after the action, merged key by key into the
  // resource's recorded `observed` (a machine's status; a backup's
  // last_job).
  nlohmann::json observed = nlohmann::json::object();
};

class KindAdapter {
public:
  virtual ~KindAdapter() = default;

  // The object as it is now; nullopt if it no longer exists.
  virtual std::optional<Remote> read(const Target& target, const OpContext& context) = 0;
  // Creates it and waits until it is usable (DEPLOYED, RUNNING). A create
  // whose response was lost and that is retried must not make a second
  // object: adapters find what the first attempt made and adopt it.
  virtual Remote create(const Target& target, const OpContext& context) = 0;
  // Brings the object from prior_spec to spec, in place. When
  // target.prior_observed has "missing" (an incomplete object, see
  // remains()), makes the missing parts too.
  virtual Remote update(const Target& target, const OpContext& context) = 0;
  // Deletes it and waits until it is gone. An object already gone is not an
  // error; neither is one that is incomplete: what is left of it goes.
  virtual void destroy(const Target& target, const OpContext& context) = 0;
  // Finds the object `target` names by its unique name inside its parent,
  // ignoring target.remote_id: how an interrupted create is adopted (or
  // what is left of one destroyed: an incomplete object is found too).
  virtual std::optional<Remote> find(const Target& target, const OpContext& context) = 0;
  // Every object of this kind inside `parents` (at the top: all of them).
  // Each Remote's observed carries the object's "name", and the schema
  // fields the listing shows under their schema names (see complete()).
  virtual std::vector<Remote> list(const std::vector<Parent>& parents,
                                   const OpContext& context) = 0;
  // Refresh (`stove plan`, `stove drift`, `stove refresh`) reads objects
  // through list(), once per managed parent, never one read() per object.
  // Between begin_refresh() and end_refresh() an adapter whose list
  // endpoint spans every parent (Bacularis' config/dir/Job lists every job
  // of the director) may fetch that listing once and answer each list()
  // from it. The defaults do nothing.
  virtual void begin_refresh() {}
  virtual void end_refresh() {}
  // For an object the state records (`target`, remote_id set) that list()
  // showed as `listed`: what read() would observe of it, adding only what
  // the listing leaves out (a bucket's versioning and tags; a machine's
  // boot disk when the listed storage does not match the one recorded in
  // target.prior_observed). Keys it returns replace the recorded ones; keys
  // it leaves out keep their recorded values. Schema fields the provider
  // keeps appear under their schema names, so that they can be compared
  // with the applied spec. nullopt: the object is gone since the listing
  // (it is then reported deleted). The default returns `listed` as it is.
  virtual std::optional<Remote> complete(const Target& target, Remote listed,
                                         const OpContext& context);
  // For an object the state records (`target`, remote_id set) that list()
  // did not show: what is left of it, when it is made of several remote
  // objects and some of them remain (a backup whose Job a cut-short destroy
  // deleted, with its Fileset, Schedule and Pool still there), as a Remote
  // whose `missing` names what is not. Such an object is not deleted: the
  // refresh records it as incomplete (observed "missing"), and the next
  // apply finishes it (update()) or removes what is left (destroy()).
  // nullopt: nothing is left. May use what begin_refresh() cached. The
  // default returns nullopt.
  virtual std::optional<Remote> remains(const Target& target, const OpContext& context);
  // For `stove import`: why `remote`, read for `target`, sits outside its
  // parent target.parents.front() (a machine of another cloud space, a
  // backup of another machine's Client), as the words that follow the
  // object's name in a message ("is in cloud space \"5\", not in ...");
  // nullopt when it is inside, or the listing cannot tell. The default:
  // nullopt.
  virtual std::optional<std::string> outside_parent(const Target& target,
                                                    const Remote& remote) const;
  // Runs `action`, declared by the kind (model/kind.hpp), on the existing
  // object `target` (remote_id set, spec the applied one, parents and
  // prior_observed from the state), with `params` already checked against
  // the declaration and defaults filled in. Waits until the action is over.
  // The default: ProviderError "not supported".
  virtual ActionResult execute(const Target& target, std::string_view action,
                               const nlohmann::json& params, const OpContext& context);
};

class Provider {
public:
  virtual ~Provider() = default;
  // The adapter for `kind`, or nullptr when this provider does not serve it.
  virtual KindAdapter* adapter(Kind kind) = 0;
  // HTTP requests made so far, for summaries and benchmarks.
  virtual http::Stats stats() const = 0;
};

// Raised by a create refused before anything was made: the name is taken
// by an object stove does not manage, or the API refused the request
// outright. The engine then forgets the create's intent instead of keeping
// it as an interrupted create, so that the next run neither adopts nor
// destroys the object that holds the name.
class NothingCreated : public ProviderError {
public:
  using ProviderError::ProviderError;
};

// Reads an environment variable; tests substitute their own.
using Environment = std::function<std::optional<std::string>(std::string_view name)>;
Environment process_environment();

// A provider setting that is a non-empty string, or nullopt.
std::optional<std::string> setting_string(const ProviderConfig& config, const char* name);
// A credential from the environment; unset and empty are both missing.
std::optional<std::string> read_variable(const Environment& environment, const std::string& name);
// The same, required: throws stove::Error(ErrorKind::input) "provider
// \"NAME\": environment variable VAR is not set; it holds the `holds`",
// naming the variable, never a value.
std::string require_variable(const Environment& environment, const ProviderConfig& config,
                             const std::string& variable, std::string_view holds);

// The provider's endpoint, checked to be an http:// or https:// URL, without
// trailing slashes. Throws stove::Error(ErrorKind::input) naming the
// provider if not.
std::string normalise_endpoint(const ProviderConfig& config);

// Everything a factory gets besides the provider's configuration.
struct ProviderOptions {
  Environment environment = process_environment();
  http::ClientOptions http;  // name, timeouts, retries, concurrency; the factory adds secrets
};

using Factory =
    std::function<std::unique_ptr<Provider>(const ProviderConfig& config, const ProviderOptions& options)>;

// Registers the factory for a provider `type`, replacing any earlier one.
void register_provider_type(std::string type, Factory factory);
// Registers stove's own adapters (openvcloud, sandbox, ...). Idempotent.
void register_builtin_provider_types();
// Makes the provider for `config`. Throws stove::Error(ErrorKind::input) for
// a type with no factory, or a missing credential (naming the variable,
// never its value).
std::unique_ptr<Provider> make_provider(const ProviderConfig& config,
                                        const ProviderOptions& options);

} // namespace stove::providers
