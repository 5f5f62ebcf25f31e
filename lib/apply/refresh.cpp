#include "apply/refresh.hpp"

#include "apply/live_state.hpp"
#include "apply/scheduler.hpp"

#include "util/error.hpp"
#include "model/observed.hpp"
#include "state/statefile.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

namespace stove {

namespace {

enum class Outcome : uint8_t { unread, found, deleted, skipped };

// The objects of one kind and one provider inside one managed parent (or,
// at the top, of the whole provider): one list() call.
struct Group {
  std::string provider;
  Kind kind = Kind::cloud_space;
  std::string parent;          // address; empty at the top
  std::vector<size_t> members; // records listed here (remote id set)
  std::vector<providers::Remote> listed;
  std::string error;
};

// Runs f(0) .. f(n - 1) on up to `threads` threads. f must not throw.
template <typename F>
void run_parallel(size_t n, int threads, F&& f) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < n; i = next++) {
      f(i);
    }
  };
  size_t count = std::min(n, static_cast<size_t>(std::max(threads, 1)));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < count; ++t) {
    pool.emplace_back(worker);
  }
  worker();
  for (auto& t : pool) {
    t.join();
  }
}

std::string key_of(Kind kind, const std::string& provider, const std::string& remote_id) {
  return fmt::format("{}\x1f{}\x1f{}", static_cast<int>(kind), provider, remote_id);
}

class Refresher {
public:
  Refresher(const State& state, ProviderSet& providers, const RefreshOptions& options)
      : m_state(state), m_providers(providers), m_options(options),
        m_outcomes(state.resources.size(), Outcome::unread), m_completed(state.resources.size()),
        m_gone(state.resources.size(), 0), m_tree(state.resources.size()) {
    for (size_t i = 0; i < state.resources.size(); ++i) {
      const ResourceState& r = state.resources[i];
      m_index.emplace(r.address, i);
      m_kinds.push_back(find_kind(r.kind).value_or(Kind::cloud_space));
      m_children[r.parent].push_back(i);
      if (!r.remote_id.empty()) {
        m_known.insert(key_of(m_kinds.back(), r.provider, r.remote_id));
      }
    }
    // A record is read once its parent is found: the tree the walk follows.
    for (size_t i = 0; i < state.resources.size(); ++i) {
      auto parent = m_index.find(state.resources[i].parent);
      if (parent != m_index.end()) {
        m_tree.add_edge(parent->second, i);
      }
    }
  }

  ~Refresher() {
    for (auto* adapter : m_begun) {
      try {
        adapter->end_refresh();
      } catch (...) {
        // Ending a refresh only drops what it cached.
      }
    }
  }

  DriftReport run() {
    const uint64_t requests_before = m_providers.stats().requests;
    // Level by level from the top: a parent is listed before its children,
    // and the children of an object found gone are gone too, without a call.
    Scheduler schedule(m_tree);
    std::vector<std::string> parents = {std::string()};
    while (!parents.empty()) {
      // The records whose parent was found (at first: those at the top).
      const std::vector<uint32_t> level = schedule.start_all_ready();
      std::vector<Group> groups = groups_under(parents);
      list_all(groups);
      std::vector<size_t> unlisted;
      std::vector<size_t> found = match(groups, unlisted);
      complete_all(found);
      std::vector<size_t> left = remains_all(unlisted);
      found.insert(found.end(), left.begin(), left.end());
      std::sort(found.begin(), found.end());
      fail_on_errors(groups);
      parents.clear();
      for (size_t i : found) {
        if (m_outcomes[i] == Outcome::found && schema_of(m_kinds[i]).child) {
          parents.push_back(m_state.resources[i].address);
        }
      }
      // Children of what is gone (or was not read) get their outcome here.
      settle(schedule, level);
    }
    return report(requests_before);
  }

private:
  // Groups for the children of `parents` (addresses; "" is the top).
  std::vector<Group> groups_under(const std::vector<std::string>& parents) {
    std::vector<Group> groups;
    for (const auto& parent : parents) {
      std::map<std::pair<std::string, Kind>, size_t> by_provider_kind;
      auto children = m_children.find(parent);
      if (children != m_children.end()) {
        for (size_t i : children->second) {
          const ResourceState& r = m_state.resources[i];
          if (r.remote_id.empty()) {
            m_outcomes[i] = Outcome::skipped;
            continue;
          }
          auto [it, added] =
              by_provider_kind.emplace(std::pair{r.provider, m_kinds[i]}, groups.size());
          if (added) {
            groups.push_back(Group{r.provider, m_kinds[i], parent, {}, {}, {}});
          }
          groups[it->second].members.push_back(i);
        }
      }
      // The parent's own provider lists its children too when it serves
      // their kind, so that objects made by hand in a managed parent with
      // no managed children of that kind are seen.
      if (!parent.empty()) {
        size_t p = m_index.at(parent);
        const ResourceState& r = m_state.resources[p];
        auto child = schema_of(m_kinds[p]).child;
        if (child && m_providers.serves(r.provider, *child) &&
            !by_provider_kind.contains(std::pair{r.provider, *child})) {
          groups.push_back(Group{r.provider, *child, parent, {}, {}, {}});
        }
      }
    }
    return groups;
  }

  void list_all(std::vector<Group>& groups) {
    run_parallel(groups.size(), m_options.parallelism, [&](size_t g) {
      Group& group = groups[g];
      try {
        providers::KindAdapter& adapter = begun(group.provider, group.kind);
        group.listed = adapter.list(parents_of(group.parent), context());
      } catch (const std::exception& e) {
        group.error = group.parent.empty()
                          ? fmt::format("listing the {} objects of provider \"{}\": {}",
                                        to_string(group.kind), group.provider, e.what())
                          : fmt::format("listing the {} objects in {}: {}", to_string(group.kind),
                                        group.parent, e.what());
      }
    });
  }

  // Marks each member found or unlisted, notes unmanaged objects, and
  // returns the records found, in state order; `unlisted` gets the members
  // their listing did not show.
  std::vector<size_t> match(std::vector<Group>& groups, std::vector<size_t>& unlisted) {
    std::vector<size_t> found;
    for (auto& group : groups) {
      if (!group.error.empty()) {
        continue;
      }
      std::unordered_map<std::string, size_t> members;
      for (size_t i : group.members) {
        members.emplace(m_state.resources[i].remote_id, i);
      }
      for (auto& remote : group.listed) {
        auto it = members.find(remote.remote_id);
        if (it != members.end()) {
          if (m_outcomes[it->second] != Outcome::found) {
            m_outcomes[it->second] = Outcome::found;
            m_completed[it->second] = std::move(remote);
            found.push_back(it->second);
          }
        } else if (!group.parent.empty() &&
                   !m_known.contains(key_of(group.kind, group.provider, remote.remote_id))) {
          std::string name = remote.observed.is_object() && remote.observed.contains("name") &&
                                     remote.observed["name"].is_string()
                                 ? remote.observed["name"].get<std::string>()
                                 : std::string();
          m_unmanaged.push_back(
              UnmanagedObject{group.parent, group.kind, group.provider, remote.remote_id, name});
        }
      }
      for (size_t i : group.members) {
        if (m_outcomes[i] == Outcome::unread) {
          m_outcomes[i] = Outcome::deleted;
          unlisted.push_back(i);
        }
      }
    }
    std::sort(found.begin(), found.end());
    return found;
  }

  // An unlisted record whose adapter finds parts of it left (remains()) is
  // found, incomplete; the others stay deleted. Returns those found.
  std::vector<size_t> remains_all(const std::vector<size_t>& unlisted) {
    std::vector<std::string> errors(unlisted.size());
    std::vector<uint8_t> left(unlisted.size(), 0);
    run_parallel(unlisted.size(), m_options.parallelism, [&](size_t n) {
      size_t i = unlisted[n];
      const ResourceState& r = m_state.resources[i];
      try {
        providers::KindAdapter& adapter = begun(r.provider, m_kinds[i]);
        if (auto remote = adapter.remains(target_for(i), context())) {
          m_completed[i] = std::move(*remote);
          left[n] = 1;
        }
      } catch (const std::exception& e) {
        errors[n] = fmt::format("reading what is left of {}: {}", r.address, e.what());
      }
    });
    std::vector<size_t> found;
    for (size_t n = 0; n < unlisted.size(); ++n) {
      if (!errors[n].empty()) {
        m_errors.push_back(std::move(errors[n]));
      } else if (left[n] != 0) {
        m_outcomes[unlisted[n]] = Outcome::found;
        found.push_back(unlisted[n]);
      }
    }
    return found;
  }

  providers::Target target_for(size_t i) const {
    const ResourceState& r = m_state.resources[i];
    providers::Target target;
    target.kind = m_kinds[i];
    target.address = r.address;
    target.remote_id = r.remote_id;
    target.spec = r.spec;
    target.prior_spec = r.spec;
    target.prior_observed = r.observed;
    target.parents = parents_of(r.parent);
    return target;
  }

  void complete_all(const std::vector<size_t>& found) {
    std::vector<std::string> errors(found.size());
    run_parallel(found.size(), m_options.parallelism, [&](size_t n) {
      size_t i = found[n];
      const ResourceState& r = m_state.resources[i];
      try {
        providers::KindAdapter& adapter = begun(r.provider, m_kinds[i]);
        auto completed = adapter.complete(target_for(i), std::move(m_completed[i]), context());
        if (completed) {
          m_completed[i] = std::move(*completed);
        } else {
          m_gone[i] = 1; // deleted between the listing and now
        }
      } catch (const std::exception& e) {
        errors[n] = fmt::format("reading {}: {}", r.address, e.what());
      }
    });
    for (auto& e : errors) {
      if (!e.empty()) {
        m_errors.push_back(std::move(e));
      }
    }
    for (size_t i : found) {
      if (m_gone[i] != 0) {
        m_outcomes[i] = Outcome::deleted;
      }
    }
  }

  void fail_on_errors(const std::vector<Group>& groups) {
    for (const auto& group : groups) {
      if (!group.error.empty()) {
        m_errors.push_back(group.error);
      }
    }
    if (m_errors.empty()) {
      return;
    }
    constexpr size_t k_shown = 10;
    std::string message = fmt::format("refresh failed: could not read {} listing{}; nothing was "
                                      "changed",
                                      m_errors.size(), m_errors.size() == 1 ? "" : "s");
    for (size_t i = 0; i < m_errors.size() && i < k_shown; ++i) {
      message += fmt::format("\n  {}", m_errors[i]);
    }
    if (m_errors.size() > k_shown) {
      message += fmt::format("\n  ... and {} more", m_errors.size() - k_shown);
    }
    throw Error(ErrorKind::provider, message);
  }

  // What was found opens its children to the next level; the descendants
  // of what is gone are gone, without a call, and those of what was not
  // read (no remote id, or no parent in the state) are not read either.
  void settle(Scheduler& schedule, const std::vector<uint32_t>& level) {
    for (uint32_t i : level) {
      if (m_outcomes[i] == Outcome::found) {
        schedule.succeeded(i);
        continue;
      }
      const Outcome inherited =
          m_outcomes[i] == Outcome::deleted ? Outcome::deleted : Outcome::skipped;
      for (uint32_t below : schedule.failed(i)) {
        m_outcomes[below] = inherited;
      }
    }
  }

  DriftReport report(uint64_t requests_before) {
    DriftReport out;
    static const std::vector<std::string> k_none;
    for (size_t i = 0; i < m_state.resources.size(); ++i) {
      const ResourceState& r = m_state.resources[i];
      Outcome outcome = m_outcomes[i];
      if (outcome == Outcome::skipped || outcome == Outcome::unread) {
        ++out.skipped;
        continue;
      }
      if (outcome == Outcome::deleted) {
        ResourceDrift d;
        d.address = r.address;
        d.kind = m_kinds[i];
        d.provider = r.provider;
        d.remote_id = r.remote_id;
        d.deleted = true;
        out.drift.push_back(std::move(d));
        continue;
      }
      ++out.read;
      const providers::Remote& remote = m_completed[i];
      std::vector<std::string> ignored = ignored_for(r.address, m_kinds[i]);
      const KindSchema& schema = schema_of(m_kinds[i]);
      nlohmann::json observed = r.observed.is_object() ? r.observed : nlohmann::json::object();
      if (remote.observed.is_object()) {
        for (const auto& [key, value] : remote.observed.items()) {
          observed[key] = value;
        }
      }
      // What an incomplete object lacks, for the apply that finishes it.
      if (remote.missing.empty()) {
        observed.erase(std::string(k_observed_missing));
      } else {
        observed[std::string(k_observed_missing)] = remote.missing;
      }
      auto attributes = drifted_attributes(schema, r.spec, remote.observed, ignored);
      if (!attributes.empty() || !remote.missing.empty()) {
        ResourceDrift d;
        d.address = r.address;
        d.kind = m_kinds[i];
        d.provider = r.provider;
        d.remote_id = r.remote_id;
        d.real_spec = real_spec(schema, r.spec, remote.observed, ignored);
        d.attributes = std::move(attributes);
        d.missing = remote.missing;
        out.drift.push_back(std::move(d));
      }
      out.observed.emplace(r.address, std::move(observed));
    }
    std::sort(m_unmanaged.begin(), m_unmanaged.end(),
              [](const UnmanagedObject& a, const UnmanagedObject& b) {
                return std::tie(a.parent, a.kind, a.name, a.remote_id) <
                       std::tie(b.parent, b.kind, b.name, b.remote_id);
              });
    out.unmanaged = std::move(m_unmanaged);
    out.http_requests = m_providers.stats().requests - requests_before;
    return out;
  }

  std::vector<std::string> ignored_for(const std::string& address, Kind kind) const {
    std::vector<std::string> out;
    if (auto it = m_options.ignored.find(kind); it != m_options.ignored.end()) {
      out = it->second;
    }
    if (auto it = m_options.ignored_by_address.find(address);
        it != m_options.ignored_by_address.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
    }
    return out;
  }

  providers::KindAdapter& begun(const std::string& provider, Kind kind) {
    providers::KindAdapter& adapter = m_providers.adapter(provider, kind);
    std::lock_guard lock(m_begun_mutex);
    if (m_begun.insert(&adapter).second) {
      adapter.begin_refresh();
    }
    return adapter;
  }

  // The chain of records above `address`, nearest first, as the state has
  // them. Only records already found are ever asked for.
  std::vector<providers::Parent> parents_of(std::string address) const {
    std::vector<providers::Parent> parents;
    while (!address.empty()) {
      size_t i = m_index.at(address);
      const ResourceState& r = m_state.resources[i];
      parents.push_back(parent_from(r, m_kinds[i]));
      address = r.parent;
    }
    return parents;
  }

  providers::OpContext context() const {
    providers::OpContext c;
    c.deadline.cancel = m_options.cancel;
    return c;
  }

  const State& m_state;
  ProviderSet& m_providers;
  const RefreshOptions& m_options;
  std::vector<Outcome> m_outcomes;
  std::vector<providers::Remote> m_completed;
  std::vector<uint8_t> m_gone; // set by complete_all's threads, one slot each
  std::vector<Kind> m_kinds;
  std::unordered_map<std::string, size_t> m_index;
  Dag m_tree;  // parent -> child
  std::unordered_map<std::string, std::vector<size_t>> m_children;
  std::unordered_set<std::string> m_known; // kind, provider and remote id of every record
  std::vector<UnmanagedObject> m_unmanaged;
  std::vector<std::string> m_errors;
  std::mutex m_begun_mutex;
  std::set<providers::KindAdapter*> m_begun;
};

} // namespace

DriftReport refresh_state(const State& state, ProviderSet& providers,
                          const RefreshOptions& options) {
  Refresher refresher(state, providers, options);
  return refresher.run();
}

void apply_refresh(State& state, const DriftReport& report) {
  std::unordered_set<std::string> deleted;
  std::unordered_map<std::string, const ResourceDrift*> changed;
  for (const auto& d : report.drift) {
    if (d.deleted) {
      deleted.insert(d.address);
    } else {
      changed.emplace(d.address, &d);
    }
  }
  const std::string now = changed.empty() ? std::string() : now_rfc3339();
  std::erase_if(state.resources,
                [&](const ResourceState& r) { return deleted.contains(r.address); });
  for (auto& r : state.resources) {
    if (auto it = report.observed.find(r.address); it != report.observed.end()) {
      r.observed = it->second;
    }
    if (auto it = changed.find(r.address); it != changed.end()) {
      r.spec = it->second->real_spec;
      r.updated_at = now;
      if (!it->second->missing.empty()) {
        // The plan then finishes it (or removes what is left).
        r.status = ResourceStatus::failed;
      }
    }
  }
}

} // namespace stove
