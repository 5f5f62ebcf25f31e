#include "http/channel.hpp"

namespace stove::http::detail {

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (code != CURLE_OK) {
      throw std::runtime_error(fmt::format("cannot initialise libcurl: {}", curl_easy_strerror(code)));
    }
  });
}

Channel::Channel() : m_multi(curl_multi_init()), m_easy(curl_easy_init()) {
  if (!m_multi || !m_easy) {
    throw std::runtime_error("cannot create a libcurl handle");
  }
}

std::optional<CURLcode> Channel::run(const Deadline& deadline) {
  if (curl_multi_add_handle(m_multi.get(), m_easy.get()) != CURLM_OK) {
    return CURLE_OUT_OF_MEMORY;
  }
  // Removing the handle returns a finished transfer's connection to the
  // cache and closes an interrupted one.
  struct Detach {
    CURLM* multi;
    CURL* easy;
    ~Detach() { curl_multi_remove_handle(multi, easy); }
  } detach{m_multi.get(), m_easy.get()};

  while (true) {
    int running = 0;
    if (curl_multi_perform(m_multi.get(), &running) != CURLM_OK) {
      return CURLE_OUT_OF_MEMORY;
    }
    if (running == 0) {
      break;
    }
    if (deadline.cancelled()) {
      return std::nullopt;
    }
    curl_multi_poll(m_multi.get(), nullptr, 0, static_cast<int>(k_cancel_poll.count()), nullptr);
  }
  int queued = 0;
  while (CURLMsg* message = curl_multi_info_read(m_multi.get(), &queued)) {
    if (message->msg == CURLMSG_DONE) {
      return message->data.result;
    }
  }
  return CURLE_FAILED_INIT;
}

Cut ChannelPool::acquire(const Deadline& deadline, std::optional<Lease>& lease) {
  std::unique_ptr<Channel> channel;
  {
    std::unique_lock lock(m_mutex);
    while (m_in_flight >= m_limit) {
      if (deadline.cancelled()) {
        return Cut::cancelled;
      }
      Clock::time_point now = Clock::now();
      if (now >= deadline.at) {
        return Cut::timeout;
      }
      m_freed.wait_until(lock, now + std::min<Clock::duration>(k_cancel_poll, deadline.at - now));
    }
    ++m_in_flight;
    if (!m_idle.empty()) {
      channel = std::move(m_idle.back());
      m_idle.pop_back();
    }
  }
  if (!channel) {
    try {
      channel = std::make_unique<Channel>();
    } catch (...) {
      release(nullptr);
      throw;
    }
  }
  lease.emplace(*this, std::move(channel));
  return Cut::none;
}

void ChannelPool::release(std::unique_ptr<Channel> channel) {
  if (channel) {
    // Drops the options, which point into the finished request; the
    // connection cache stays.
    curl_easy_reset(channel->easy());
  }
  {
    std::lock_guard lock(m_mutex);
    if (channel) {
      m_idle.push_back(std::move(channel));
    }
    --m_in_flight;
  }
  m_freed.notify_one();
}

} // namespace stove::http::detail
