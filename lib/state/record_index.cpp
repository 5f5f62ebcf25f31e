#include "state/record_index.hpp"

namespace stove {

RecordIndex::RecordIndex(State& state) : m_state(state), m_removed(state.resources.size(), false) {
  for (size_t i = 0; i < state.resources.size(); ++i) {
    m_index.emplace(state.resources[i].address, i);
  }
}

std::optional<size_t> RecordIndex::index_of(const std::string& address) const {
  auto it = m_index.find(address);
  if (it == m_index.end() || m_removed[it->second]) {
    return std::nullopt;
  }
  return it->second;
}

ResourceState* RecordIndex::find(const std::string& address) {
  auto i = index_of(address);
  return i ? &m_state.resources[*i] : nullptr;
}

const ResourceState* RecordIndex::find(const std::string& address) const {
  auto i = index_of(address);
  return i ? &m_state.resources[*i] : nullptr;
}

void RecordIndex::upsert(ResourceState r) {
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

void RecordIndex::remove(const std::string& address) {
  auto it = m_index.find(address);
  if (it != m_index.end()) {
    m_removed[it->second] = true;
  }
}

void RecordIndex::compact() {
  auto& resources = m_state.resources;
  size_t out = 0;
  for (size_t i = 0; i < resources.size(); ++i) {
    if (!m_removed[i]) {
      if (out != i) {
        resources[out] = std::move(resources[i]);
      }
      ++out;
    }
  }
  resources.resize(out);
}

} // namespace stove
