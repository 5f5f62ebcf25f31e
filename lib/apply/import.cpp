#include "apply/import.hpp"

#include "util/error.hpp"
#include "util/suggest.hpp"
#include "state/statefile.hpp"

#include <fmt/format.h>

#include <optional>

namespace stove {

namespace {

const ResourceState* find_record(const State& state, const std::string& address) {
  for (const auto& r : state.resources) {
    if (r.address == address) {
      return &r;
    }
  }
  return nullptr;
}

// The parents of the resource at `address`, nearest first, as the state has
// them: each must be there, and created, for the object to be read in it.
std::vector<providers::Parent> recorded_parents(const State& state, const std::string& address,
                                                std::string at) {
  std::vector<providers::Parent> parents;
  while (!at.empty()) {
    const ResourceState* r = find_record(state, at);
    if (r == nullptr) {
      throw Error(ErrorKind::usage,
                  fmt::format("{}: its parent {} is not in the state; import its parent first",
                              address, at));
    }
    if (r->remote_id.empty()) {
      throw Error(ErrorKind::usage,
                  fmt::format("{}: its parent {} was never created (its create did not "
                              "complete); run stove apply first",
                              address, at));
    }
    providers::Parent p;
    p.kind = find_kind(r->kind).value_or(Kind::cloud_space);
    p.address = r->address;
    p.remote_id = r->remote_id;
    p.observed = r->observed.is_object() ? r->observed : nlohmann::json::object();
    parents.push_back(std::move(p));
    at = r->parent;
    if (parents.size() > 16) {
      throw Error(ErrorKind::state, fmt::format("{}: its parents form a loop", address));
    }
  }
  return parents;
}

// `what` names the object for messages: machine "12" at provider "cloud".
std::string object_name(const ImportRequest& request) {
  return fmt::format("{} \"{}\" at provider \"{}\"", to_string(request.target.kind),
                     request.target.remote_id, request.resource->provider);
}

} // namespace

ImportRequest prepare_import(const Config& config, const State& state, const Address& address,
                             const std::string& remote_id) {
  const std::string canonical = address.str();
  const Resource* resource = config.find(canonical);
  if (resource == nullptr) {
    std::vector<std::string> addresses;
    addresses.reserve(config.resources.size());
    for (const auto& r : config.resources) {
      addresses.push_back(r.address);
    }
    // Addresses hold quotes: the suggestion is not quoted again.
    auto closest = closest_match(canonical, addresses);
    throw Error(ErrorKind::usage,
                fmt::format("{} declares no resource {}{}", config.path, canonical,
                            closest ? fmt::format("; did you mean {}?", *closest) : std::string()));
  }
  if (const ResourceState* managed = find_record(state, canonical)) {
    throw Error(ErrorKind::usage,
                fmt::format("{} is already managed{}; `stove state rm` it first to import "
                            "another object",
                            canonical,
                            managed->remote_id.empty()
                                ? std::string(" (its create did not complete)")
                                : fmt::format(" (id \"{}\")", managed->remote_id)));
  }
  if (remote_id.empty()) {
    throw Error(ErrorKind::usage, "REMOTE_ID is empty: give the provider's id of the object");
  }

  ImportRequest request;
  request.resource = resource;
  request.target.kind = resource->kind;
  request.target.address = canonical;
  request.target.remote_id = remote_id;
  request.target.spec = resource->attrs.is_object() ? resource->attrs : nlohmann::json::object();
  request.target.prior_spec = request.target.spec;
  request.target.parents = recorded_parents(state, canonical, resource->parent_address);

  const std::string kind(to_string(resource->kind));
  for (const auto& r : state.resources) {
    if (r.kind == kind && r.provider == resource->provider && r.remote_id == remote_id) {
      throw Error(ErrorKind::usage,
                  fmt::format("{} is already managed as {}; `stove state mv` it to {} instead, "
                              "or `stove state rm` it first",
                              object_name(request), r.address, canonical));
    }
  }
  return request;
}

ImportResult import_resource(const ImportRequest& request, ProviderSet& providers,
                             const ImportOptions& options) {
  const Resource& resource = *request.resource;
  const std::string& address = request.target.address;
  providers::KindAdapter& adapter = providers.adapter(resource.provider, resource.kind);

  providers::OpContext context;
  context.deadline = http::Deadline::after(options.timeout, options.cancel);
  std::optional<providers::Remote> remote;
  try {
    remote = adapter.read(request.target, context);
  } catch (const providers::ProviderError& e) {
    throw Error(ErrorKind::input,
                fmt::format("{}: reading {} failed: {}", address, object_name(request), e.what()));
  } catch (const http::TransportError& e) {
    throw Error(ErrorKind::input,
                fmt::format("{}: reading {} failed: {}", address, object_name(request), e.what()));
  }
  if (!remote) {
    throw Error(ErrorKind::input,
                fmt::format("{}: no {} with id \"{}\" at provider \"{}\"", address,
                            to_string(resource.kind), request.target.remote_id, resource.provider));
  }
  // An object that sits elsewhere than the file's parent is refused.
  if (!request.target.parents.empty()) {
    if (auto outside = adapter.outside_parent(request.target, *remote)) {
      throw Error(ErrorKind::input,
                  fmt::format("{}: {} {}", address, object_name(request), *outside));
    }
  }

  const KindSchema& schema = schema_of(resource.kind);
  const nlohmann::json& wanted = request.target.spec;
  const nlohmann::json observed =
      remote->observed.is_object() ? remote->observed : nlohmann::json::object();

  ImportResult result;
  result.differences = drifted_attributes(schema, wanted, observed, {});
  ResourceState& r = result.record;
  r.address = address;
  r.kind = std::string(to_string(resource.kind));
  r.provider = resource.provider;
  // Adapters answer with the id they were asked about; the asked one is kept
  // in case one leaves it out.
  r.remote_id = remote->remote_id.empty() ? request.target.remote_id : remote->remote_id;
  r.parent = resource.parent_address;
  r.spec = real_spec(schema, wanted, observed, {});
  r.observed = observed;
  r.status = ResourceStatus::completed;
  r.dependencies = resource.dependencies();
  r.created_at = now_rfc3339();
  r.updated_at = r.created_at;
  return result;
}

} // namespace stove
