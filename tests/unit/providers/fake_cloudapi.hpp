#pragma once

// A scripted stand-in for an OpenVCloud cloudapi on loopback: each test
// says how every call is answered and then checks exactly what was sent.

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace stove::test {

class FakeCloudapi {
public:
  struct Call {
    std::string path;    // e.g. "cloudspaces/create"; the full path for other URLs
    nlohmann::json body; // parsed JSON; null when not JSON
    std::string raw;
    std::string authorization;
    std::string content_type;
    std::string accept;
  };
  struct Answer {
    int status = 200;
    std::string body; // sent as application/json unless content_type says
    std::string content_type = "application/json";
  };
  // Called with the request and how many calls of that path came so far
  // (1 for the first).
  using Handler = std::function<Answer(const Call& call, int number)>;

  FakeCloudapi() {
    m_server.Post(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
      std::string path = req.path;
      const std::string prefix = "/restmachine/cloudapi/";
      if (path.rfind(prefix, 0) == 0) {
        path = path.substr(prefix.size());
      }
      Call call{path,
                nlohmann::json::parse(req.body, nullptr, false),
                req.body,
                req.get_header_value("Authorization"),
                req.get_header_value("Content-Type"),
                req.get_header_value("Accept")};
      if (call.body.is_discarded()) {
        call.body = nullptr;
      }
      Handler handler;
      int number = 0;
      {
        std::lock_guard lock(m_mutex);
        m_calls.push_back(call);
        number = ++m_counts[path];
        auto it = m_handlers.find(path);
        if (it != m_handlers.end()) {
          handler = it->second;
        }
      }
      Answer answer =
          handler ? handler(call, number) : Answer{404, "\"no such method\"", "application/json"};
      res.status = answer.status;
      res.set_content(answer.body, answer.content_type.c_str());
    });
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
  }
  ~FakeCloudapi() {
    m_server.stop();
    m_thread.join();
  }
  FakeCloudapi(const FakeCloudapi&) = delete;
  FakeCloudapi& operator=(const FakeCloudapi&) = delete;

  // Answers `path` ("machines/get", or "/oauth/token" for other URLs).
  void on(const std::string& path, Handler handler) {
    std::lock_guard lock(m_mutex);
    m_handlers[path] = std::move(handler);
  }
  void on(const std::string& path, int status, const nlohmann::json& body) {
    on(path, [status, text = body.dump()](const Call&, int) {
      return Answer{status, text, "application/json"};
    });
  }

  std::string url() const { return fmt::format("http://127.0.0.1:{}", m_port); }
  std::vector<Call> calls() const {
    std::lock_guard lock(m_mutex);
    return m_calls;
  }
  std::vector<std::string> paths() const {
    std::vector<std::string> out;
    for (const auto& c : calls()) {
      out.push_back(c.path);
    }
    return out;
  }
  int count(const std::string& path) const {
    std::lock_guard lock(m_mutex);
    auto it = m_counts.find(path);
    return it == m_counts.end() ? 0 : it->second;
  }
  void clear() {
    std::lock_guard lock(m_mutex);
    m_calls.clear();
    m_counts.clear();
  }

private:
  httplib::Server m_server;
  int m_port = 0;
  std::thread m_thread;
  mutable std::mutex m_mutex;
  std::vector<Call> m_calls;
  std::map<std::string, int> m_counts;
  std::map<std::string, Handler> m_handlers;
};

} // namespace stove::test
