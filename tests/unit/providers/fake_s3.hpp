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
    std::vector<std::pair<std::string, std::string>> headers = {};
  };
  // Called with "METHOD /path[?query]" (e.g. "PUT /logs", "GET /logs?tagging")
  // and how many requests of exactly that line came so far (1 for the first).
  using Handler = std::function<Answer(const std::string& request, int number)>;
  // The same, also told the region of the request's credential scope.
  using RegionHandler =
      std::function<Answer(const std::string& request, int number, const std::string& region)>;

  explicit FakeS3(Handler handler)
      : FakeS3(RegionHandler(
            [h = std::move(handler)](const std::string& request, int number, const std::string&) {
              return h(request, number);
            })) {}

  explicit FakeS3(RegionHandler handler) : m_handler(std::move(handler)) {
    auto serve = [this](const httplib::Request& req, httplib::Response& res) {
      std::string line = fmt::format("{} {}", req.method, req.path);
      if (auto q = req.target.find('?'); q != std::string::npos) {
        line.append(req.target, q);
      }
      // Credential=AK/DATE/REGION/s3/aws4_request
      std::string region;
      const std::string authorization = req.get_header_value("Authorization");
      if (auto at = authorization.find("Credential="); at != std::string::npos) {
        size_t first = authorization.find('/', at);
        size_t second = authorization.find('/', first + 1);
        size_t third = authorization.find('/', second + 1);
        if (third != std::string::npos) {
          region = authorization.substr(second + 1, third - second - 1);
        }
      }
      int number = 0;
      {
        std::lock_guard lock(m_mutex);
        m_requests.push_back(line);
        m_regions.push_back(region);
        for (const auto& r : m_requests) {
          number += r == line ? 1 : 0;
        }
      }
      Answer answer = m_handler(line, number, region);
      res.status = answer.status;
      for (const auto& [name, value] : answer.headers) {
        res.set_header(name, value);
      }
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
  // The region each request was signed for, in order.
  std::vector<std::string> regions() const {
    std::lock_guard lock(m_mutex);
    return m_regions;
  }

  // An S3 error document.
  static Answer error(int status, const std::string& code, const std::string& message) {
    return {status, fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}"
                                "</Code><Message>{}</Message></Error>",
                                code, message)};
  }

private:
  RegionHandler m_handler;
  httplib::Server m_server;
  int m_port = 0;
  std::thread m_thread;
  mutable std::mutex m_mutex;
  std::vector<std::string> m_requests;
  std::vector<std::string> m_regions;
};

} // namespace stove::test
