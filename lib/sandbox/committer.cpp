#include "sandbox/committer.hpp"

#include "util/atomic_file.hpp"

#include <algorithm>
#include <exception>
#include <utility>

namespace stove::sandbox {

Committer::Committer(std::string path, Take take, uint64_t durable)
    : m_path(std::move(path)), m_take(std::move(take)), m_wanted(durable), m_attempted(durable),
      m_durable(durable), m_thread([this] { run(); }) {}

Committer::~Committer() {
  stop();
}

std::optional<std::string> Committer::commit(uint64_t version) {
  std::unique_lock lock(m_mutex);
  if (version > m_wanted) {
    m_wanted = version;
    m_wake.notify_one();
  }
  m_done.wait(lock, [&] { return m_durable >= version || m_attempted >= version; });
  if (m_durable >= version) {
    return std::nullopt;
  }
  return m_error.value_or("the data was not written");
}

std::optional<std::string> Committer::stop() {
  {
    std::lock_guard lock(m_mutex);
    if (m_stopping) {
      return m_stop_result;
    }
    m_stopping = true;
    // A change whose write failed gets one more try before the end.
    m_attempted = m_durable;
  }
  m_wake.notify_one();
  m_thread.join();
  std::lock_guard lock(m_mutex);
  m_stop_result = m_durable >= m_wanted ? std::nullopt : m_error;
  return m_stop_result;
}

uint64_t Committer::writes() const {
  std::lock_guard lock(m_mutex);
  return m_writes;
}

void Committer::run() {
  std::unique_lock lock(m_mutex);
  while (true) {
    m_wake.wait(lock, [&] { return m_stopping || m_wanted > m_attempted; });
    if (m_wanted <= m_attempted) {
      return; // stopping, and nothing is left to write
    }
    lock.unlock();
    // The snapshot may include changes whose callers have not asked yet;
    // they find them on disk when they do.
    Snapshot snapshot = m_take();
    std::optional<std::string> error;
    try {
      write_file_atomically(m_path, snapshot.content);
    } catch (const std::exception& e) {
      error = e.what();
    }
    lock.lock();
    ++m_writes;
    m_attempted = std::max(m_attempted, snapshot.version);
    if (error) {
      m_error = std::move(error);
    } else {
      m_durable = std::max(m_durable, snapshot.version);
      m_error.reset();
    }
    m_done.notify_all();
  }
}

} // namespace stove::sandbox
