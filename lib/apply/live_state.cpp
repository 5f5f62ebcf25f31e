#include "apply/live_state.hpp"

#include "model/observed.hpp"
#include "state/statefile.hpp"
#include "util/error.hpp"

#include <fmt/format.h>

namespace stove {

LiveState::LiveState(State& state) : m_state(state), m_removed(state.resources.size(), false) {
  for (size_t i = 0; i < m_state.resources.size(); ++i) {
    m_index.emplace(m_state.resources[i].address, i);
  }
}

const ResourceState* LiveState::recorded(const std::string& address) const {
  auto it = m_index.find(address);
  if (it == m_index.end() || m_removed[it->second]) {
    return nullptr;
  }
  return &m_state.resources[it->second];
}

std::optional<RecordedBefore> LiveState::before(const std::string& address) const {
  std::lock_guard lock(m_mutex);
  const ResourceState* r = recorded(address);
  if (r == nullptr) {
    return std::nullopt;
  }
  return RecordedBefore{r->remote_id, r->parent, r->observed};
}

std::string LiveState::provider_of(const std::string& address, const std::string& fallback) const {
  std::lock_guard lock(m_mutex);
  const ResourceState* r = recorded(address);
  return r != nullptr && !r->provider.empty() ? r->provider : fallback;
}

std::optional<std::string> LiveState::created_at(const std::string& address) const {
  std::lock_guard lock(m_mutex);
  const ResourceState* r = recorded(address);
  if (r == nullptr) {
    return std::nullopt;
  }
  return r->created_at;
}

std::vector<providers::Parent> LiveState::parents_of(std::string parent_address) const {
  std::vector<providers::Parent> parents;
  std::lock_guard lock(m_mutex);
  while (!parent_address.empty()) {
    auto it = m_index.find(parent_address);
    if (it == m_index.end() || m_removed[it->second]) {
      throw Error(ErrorKind::internal,
                  fmt::format("the parent {} is not in the state", parent_address));
    }
    const ResourceState& r = m_state.resources[it->second];
    if (r.remote_id.empty()) {
      throw Error(ErrorKind::state,
                  fmt::format("the parent {} has no remote id (its create did not complete)",
                              parent_address));
    }
    providers::Parent p;
    p.kind = find_kind(r.kind).value_or(Kind::cloud_space);
    p.address = r.address;
    p.remote_id = r.remote_id;
    p.observed = r.observed;
    parents.push_back(std::move(p));
    parent_address = r.parent;
  }
  return parents;
}

void LiveState::upsert(ResourceState r) {
  std::lock_guard lock(m_mutex);
  auto it = m_index.find(r.address);
  if (it == m_index.end()) {
    m_index.emplace(r.address, m_state.resources.size());
    m_state.resources.push_back(std::move(r));
    m_removed.push_back(false);
  } else {
    m_removed[it->second] = false;
    m_state.resources[it->second] = std::move(r);
  }
}

void LiveState::remove(const std::string& address) {
  std::lock_guard lock(m_mutex);
  auto it = m_index.find(address);
  if (it != m_index.end()) {
    m_removed[it->second] = true;
  }
}

void LiveState::mark_failed(const std::string& address) {
  std::lock_guard lock(m_mutex);
  auto it = m_index.find(address);
  if (it != m_index.end() && !m_removed[it->second]) {
    m_state.resources[it->second].status = ResourceStatus::failed;
  }
}

void LiveState::compact() {
  std::lock_guard lock(m_mutex);
  size_t out = 0;
  for (size_t i = 0; i < m_state.resources.size(); ++i) {
    if (!m_removed[i]) {
      if (out != i) {
        m_state.resources[out] = std::move(m_state.resources[i]);
      }
      ++out;
    }
  }
  m_state.resources.resize(out);
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
