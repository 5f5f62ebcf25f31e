#pragma once

// Internal to the HTTP client: libcurl's handles, one connection's worth of
// them (Channel), and the pool that hands them to requests.

#include "http/client.hpp"
#include "http/wait.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <vector>

namespace stove::http::detail {

struct EasyCleanup {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct MultiCleanup {
  void operator()(CURLM* handle) const { curl_multi_cleanup(handle); }
};
struct SlistCleanup {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using EasyHandle = std::unique_ptr<CURL, EasyCleanup>;
using MultiHandle = std::unique_ptr<CURLM, MultiCleanup>;
using HeaderList = std::unique_ptr<curl_slist, SlistCleanup>;

// curl_global_init, once per process; throws if it fails.
void init_curl_once();

template <typename Value>
void set_option(CURL* handle, CURLoption option, Value value) {
  CURLcode code = curl_easy_setopt(handle, option, value);
  if (code != CURLE_OK) {
    throw std::runtime_error(fmt::format("libcurl refused option {}: {}", static_cast<int>(option),
                                         curl_easy_strerror(code)));
  }
}

// One connection's worth of libcurl. The easy handle is driven through its
// own multi handle: the multi handle owns the connection cache, so keeping
// the pair keeps its connection alive for the next request, and driving it
// ourselves lets a cancel interrupt a silent wait at once (the progress
// callback runs only about once a second while nothing arrives). Not
// shared between threads; the pool hands it to one request at a time.
class Channel {
public:
  Channel();

  CURL* easy() const { return m_easy.get(); }

  // Runs the transfer set up on easy(). nullopt if the token was tripped;
  // the connection is then closed.
  std::optional<CURLcode> run(const Deadline& deadline);

private:
  MultiHandle m_multi;  // destroyed after the easy handle
  EasyHandle m_easy;
};

// The channels and the cap on requests in flight, under one lock: a
// request takes a slot and the channel used last (whose connection is the
// most likely to be alive), or a new one while fewer than the cap exist.
class ChannelPool {
public:
  explicit ChannelPool(size_t limit) : m_limit(std::max<size_t>(limit, 1)) {}

  class Lease {
  public:
    Lease(ChannelPool& pool, std::unique_ptr<Channel> channel)
      : m_pool(pool), m_channel(std::move(channel)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { m_pool.release(std::move(m_channel)); }
    Channel& channel() { return *m_channel; }

  private:
    ChannelPool& m_pool;
    std::unique_ptr<Channel> m_channel;
  };

  // A lease, or the reason there is none.
  Cut acquire(const Deadline& deadline, std::optional<Lease>& lease);

private:
  void release(std::unique_ptr<Channel> channel);

  const size_t m_limit;
  std::mutex m_mutex;
  std::condition_variable m_freed;
  size_t m_in_flight = 0;
  std::vector<std::unique_ptr<Channel>> m_idle;
};

} // namespace stove::http::detail
