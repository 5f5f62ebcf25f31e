#pragma once

// A scripted stand-in for an S3 server on loopback: each test says how every
// request is answered and then checks exactly what was sent. It checks no
// signature (the sandbox and the s3rver integration tests do).

#include <fmt/format.h>
#include <httplib.h>

#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace stove::test {

class FakeS3 {
public:
  struct Answer {
    int status = 200;
    std::string body; // XML, or empty
  };
  // Called with "METHOD /path[?query]" (e.g. "PUT /logs", "GET /logs?tagging")
  // and how many requests of exactly that line came so far (1 for the first).
  using Handler = std::function<Answer(const std::string& request, int number)>;

  explicit FakeS3(Handler handler) : m_handler(std::move(handler)) {
    auto serve = [this](const httplib::Request& req, httplib::Response& res) {
      std::string line = fmt::format("{} {}", req.method, req.path);
      if (auto q = req.target.find('?'); q != std::string::npos) {
        line.append(req.target, q);
      }
      int number = 0;
      {
        std::lock_guard lock(m_mutex);
        m_requests.push_back(line);
        for (const auto& r : m_requests) {
          number += r == line ? 1 : 0;
        }
      }
      Answer answer = m_handler(line, number);
      res.status = answer.status;
      if (!answer.body.empty()) {
        res.set_content(answer.body, "application/xml");
      }
    };
    m_server.Get(R"(/.*)", serve);
    m_server.Put(R"(/.*)", serve);
    m_server.Delete(R"(/.*)", serve);
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
  }
  ~FakeS3() {
    m_server.stop();
    m_thread.join();
  }
  FakeS3(const FakeS3&) = delete;
  FakeS3& operator=(const FakeS3&) = delete;

  std::string url() const { return fmt::format("http://127.0.0.1:{}", m_port); }
  std::vector<std::string> requests() const {
    std::lock_guard lock(m_mutex);
    return m_requests;
  }

  // An S3 error document.
  static Answer error(int status, const std::string& code, const std::string& message) {
    return {status, fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}"
                                "</Code><Message>{}</Message></Error>",
                                code, message)};
  }

private:
  Handler m_handler;
  httplib::Server m_server;
  int m_port = 0;
  std::thread m_thread;
  mutable std::mutex m_mutex;
  std::vector<std::string> m_requests;
};

} // namespace stove::test
