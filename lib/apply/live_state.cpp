#include "apply/live_state.hpp"

#include "model/observed.hpp"
#include "state/statefile.hpp"
#include "util/error.hpp"

#include <fmt/format.h>

namespace stove {

LiveState::LiveState(State& state) : m_records(state) {}

std::optional<RecordedBefore> LiveState::before(const std::string& address) const {
  std::lock_guard lock(m_mutex);
  const ResourceState* r = m_records.find(address);
  if (r == nullptr) {
    return std::nullopt;
  }
  return RecordedBefore{r->remote_id, r->parent, r->observed};
}

std::string LiveState::provider_of(const std::string& address, const std::string& fallback) const {
  std::lock_guard lock(m_mutex);
  const ResourceState* r = m_records.find(address);
  return r != nullptr && !r->provider.empty() ? r->provider : fallback;
}

std::optional<std::string> LiveState::created_at(const std::string& address) const {
  std::lock_guard lock(m_mutex);
  const ResourceState* r = m_records.find(address);
  if (r == nullptr) {
    return std::nullopt;
  }
  return r->created_at;
}

std::vector<providers::Parent> LiveState::parents_of(std::string parent_address) const {
  std::vector<providers::Parent> parents;
  std::lock_guard lock(m_mutex);
  while (!parent_address.empty()) {
    const ResourceState* r = m_records.find(parent_address);
    if (r == nullptr) {
      throw Error(ErrorKind::internal,
                  fmt::format("the parent {} is not in the state", parent_address));
    }
    if (r->remote_id.empty()) {
      throw Error(ErrorKind::state,
                  fmt::format("the parent {} has no remote id (its create did not complete)",
                              parent_address));
    }
    parents.push_back(parent_from(*r, find_kind(r->kind).value_or(Kind::cloud_space)));
    parent_address = r->parent;
  }
  return parents;
}

void LiveState::upsert(ResourceState r) {
  std::lock_guard lock(m_mutex);
  m_records.upsert(std::move(r));
}

void LiveState::remove(const std::string& address) {
  std::lock_guard lock(m_mutex);
  m_records.remove(address);
}

void LiveState::mark_failed(const std::string& address) {
  std::lock_guard lock(m_mutex);
  if (ResourceState* r = m_records.find(address)) {
    r->status = ResourceStatus::failed;
  }
}

void LiveState::compact() {
  std::lock_guard lock(m_mutex);
  m_records.compact();
}

providers::Parent parent_from(const ResourceState& r, Kind kind) {
  providers::Parent p;
  p.kind = kind;
  p.address = r.address;
  p.remote_id = r.remote_id;
  p.observed = r.observed;
  return p;
}

ResourceState record_of(const ResourceChange& change, const providers::Remote& remote) {
  ResourceState r;
  r.address = change.address;
  r.kind = std::string(to_string(change.kind));
  r.provider = change.provider;
  r.remote_id = remote.remote_id;
  r.parent = change.parent;
  r.spec = change.after;
  r.observed = remote.observed.is_object() ? remote.observed : nlohmann::json::object();
  // What a cut-short update left behind has served its purpose.
  r.observed.erase(std::string(k_observed_interrupted_update));
  r.status = ResourceStatus::completed;
  r.dependencies = change.dependencies;
  r.created_at = now_rfc3339();
  r.updated_at = r.created_at;
  return r;
}

} // namespace stove
