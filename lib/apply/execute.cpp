#include "apply/execute.hpp"

#include "util/error.hpp"
#include "util/suggest.hpp"
#include "state/statefile.hpp"

#include <fmt/format.h>

#include <exception>
#include <optional>
#include <vector>

namespace stove {

namespace {

using Clock = std::chrono::steady_clock;

ResourceState* find_record(State& state, const std::string& address) {
  for (auto& r : state.resources) {
    if (r.address == address) {
      return &r;
    }
  }
  return nullptr;
}

// The parents of `record`, nearest first, as the state has them.
std::vector<providers::Parent> parents_of(State& state, const ResourceState& record) {
  std::vector<providers::Parent> parents;
  std::string at = record.parent;
  while (!at.empty()) {
    const ResourceState* r = find_record(state, at);
    if (r == nullptr) {
      throw Error(ErrorKind::state,
                  fmt::format("{}: its parent {} is not in the state", record.address, at));
    }
    providers::Parent p;
    p.kind = find_kind(r->kind).value_or(Kind::cloud_space);
    p.address = r->address;
    p.remote_id = r->remote_id;
    p.observed = r->observed;
    parents.push_back(std::move(p));
    at = r->parent;
    if (parents.size() > 16) {
      throw Error(ErrorKind::state, fmt::format("{}: its parents form a loop", record.address));
    }
  }
  return parents;
}

void merge_observed(ResourceState& record, const nlohmann::json& observed) {
  if (!record.observed.is_object()) {
    record.observed = nlohmann::json::object();
  }
  if (observed.is_object()) {
    for (const auto& [key, value] : observed.items()) {
      record.observed[key] = value;
    }
  }
  record.updated_at = now_rfc3339();
}

} // namespace

const ResourceState& executable_record(const State& state, const std::string& address) {
  for (const auto& r : state.resources) {
    if (r.address != address) {
      continue;
    }
    if (r.remote_id.empty()) {
      throw Error(ErrorKind::input,
                  fmt::format("{} was never created (its create did not complete); run stove "
                              "apply first",
                              address));
    }
    return r;
  }
  std::vector<std::string> addresses;
  addresses.reserve(state.resources.size());
  for (const auto& r : state.resources) {
    addresses.push_back(r.address);
  }
  // Addresses hold quotes: the suggestion is not quoted again.
  auto closest = closest_match(address, addresses);
  throw Error(ErrorKind::input,
              fmt::format("the state has no resource {}{}", address,
                          closest ? fmt::format("; did you mean {}?", *closest) : std::string()));
}

ExecResult execute_action(State& state, const std::string& address, const ActionSchema& action,
                          const nlohmann::json& params, ProviderSet& providers,
                          const ExecOptions& options) {
  const auto index =
      static_cast<size_t>(&executable_record(state, address) - state.resources.data());
  ResourceState* record = &state.resources[index];
  auto kind = find_kind(record->kind);
  if (!kind) {
    throw Error(ErrorKind::state,
                fmt::format("{}: the state records an unknown kind \"{}\"", address, record->kind));
  }

  providers::Target target;
  target.kind = *kind;
  target.address = record->address;
  target.remote_id = record->remote_id;
  target.spec = record->spec.is_object() ? record->spec : nlohmann::json::object();
  target.prior_spec = target.spec;
  target.prior_observed = record->observed;
  target.parents = parents_of(state, *record);
  providers::KindAdapter& adapter = providers.adapter(record->provider, *kind);

  providers::OpContext context;
  context.deadline = http::Deadline::after(options.timeout, options.cancel);
  context.note = options.on_note;

  ExecResult result;
  const auto started = Clock::now();
  std::optional<providers::ActionResult> done;
  try {
    done = adapter.execute(target, action.name, params, context);
  } catch (const http::TransportError& e) {
    result.message = e.reason() == http::TransportError::Reason::cancelled
                         ? std::string("interrupted")
                         : std::string(e.what());
  } catch (const providers::ProviderError& e) {
    result.message = e.what();
  } catch (const Error& e) {
    result.message = e.what();
  }
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);

  if (done) {
    result.ok = done->ok;
    result.message = done->outcome;
    if (done->observed.is_object() && !done->observed.empty()) {
      merge_observed(*record, done->observed);
      result.recorded = true;
    }
    return result;
  }
  // Refused, failed or interrupted: what is the object like now? A short
  // read of its own, so that an expired deadline or an interrupt does not
  // prevent it.
  try {
    providers::OpContext read_context;
    read_context.deadline = http::Deadline::after(std::chrono::seconds(10));
    if (auto remote = adapter.read(target, read_context)) {
      merge_observed(*record, remote->observed);
      result.recorded = true;
    }
  } catch (const std::exception&) {
    // The failure already says what went wrong.
  }
  return result;
}

} // namespace stove
