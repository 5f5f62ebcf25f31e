#include "support/background.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <regex>
#include <signal.h>
#include <string>

using namespace std::chrono_literals;
using nlohmann::json;
using stove::test::Background;
using stove::test::read_file;
using stove::test::run_stove;
using stove::test::RunOptions;
using stove::test::TempDir;

namespace {

// `stove sandbox serve` on an ephemeral port, and the port it printed.
struct Served {
  std::unique_ptr<Background> process;
  std::string line;
  int port = 0;
};

Served serve(const std::string& data_dir, std::vector<std::string> extra = {},
             const RunOptions& options = {}) {
  std::vector<std::string> args = {"sandbox",     "serve",  "--listen",
                                   "127.0.0.1:0", "--data", data_dir};
  args.insert(args.end(), extra.begin(), extra.end());
  Served served;
  served.process = std::make_unique<Background>(STOVE_BINARY, args, options);
  auto line = served.process->read_line();
  REQUIRE_MESSAGE(line.has_value(), served.process->err());
  served.line = *line;
  std::smatch match;
  std::regex pattern(R"(stove sandbox: listening on http://127\.0\.0\.1:(\d+) \(data (.*)\))");
  REQUIRE(std::regex_match(served.line, match, pattern));
  CHECK(match[2].str() == data_dir);
  served.port = std::stoi(match[1].str());
  return served;
}

// One cloudapi call: the status (0 when no response came) and the body.
std::pair<int, json> call(int port, const std::string& method, const json& params,
                          const std::string& token = "sandbox") {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30s);
  httplib::Headers headers{{"Authorization", fmt::format("Bearer {}", token)}};
  auto result = client.Post(fmt::format("/restmachine/cloudapi/{}", method).c_str(), headers,
                            params.dump(), "application/json");
  if (!result) {
    return {0, nullptr};
  }
  return {result->status, json::parse(result->body, nullptr, false)};
}

// One admin request (/sandbox/admin/PATH) with the token: the status and
// the body.
std::pair<int, json> admin(int port, const std::string& method, const std::string& path,
                           const json& body = json::object()) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30s);
  httplib::Headers headers{{"Authorization", "Bearer sandbox"}};
  std::string target = fmt::format("/sandbox/admin/{}", path);
  auto result = method == "DELETE" ? client.Delete(target, headers)
                                   : client.Post(target, headers, body.dump(), "application/json");
  if (!result) {
    return {0, nullptr};
  }
  return {result->status, json::parse(result->body, nullptr, false)};
}

json counters(int port) {
  httplib::Client client("127.0.0.1", port);
  auto result = client.Get("/sandbox/counters");
  return result ? json::parse(result->body, nullptr, false) : json();
}

json space_params(const std::string& name) {
  return {{"accountId", 1}, {"location", "be-g8-1"}, {"name", name}, {"access", "alice"}};
}

} // namespace

TEST_SUITE("stove sandbox") {
  TEST_CASE("sandbox serve prints its address, serves the API and saves its data on SIGTERM") {
    TempDir dir;
    std::string data = (dir / "cloud").string();
    Served served = serve(data, {"--deploy-delay", "0"});

    auto [status, id] = call(served.port, "cloudspaces/create", space_params("web"));
    CHECK(status == 200);
    CHECK(id == 1);
    CHECK(call(served.port, "cloudspaces/get", {{"cloudspaceId", 1}}).second["status"] ==
          "DEPLOYED");

    served.process->signal(SIGTERM);
    CHECK(served.process->wait() == 0);
    CHECK(served.process->read_line(1s) == std::nullopt); // one line on stdout, no more
    CHECK(served.process->err() ==
          fmt::format("stove sandbox: stopped on SIGTERM; data saved in {}\n", data));
    json saved = json::parse(read_file(dir / "cloud" / "cloud.json"));
    REQUIRE(saved["cloudspaces"].size() == 1);
    CHECK(saved["cloudspaces"][0]["name"] == "web");

    // A new sandbox on the same directory carries on from there.
    Served again = serve(data);
    CHECK(call(again.port, "cloudspaces/get", {{"cloudspaceId", 1}}).second["name"] == "web");
    CHECK(call(again.port, "cloudspaces/create", space_params("db")).second == 2);
    again.process->signal(SIGINT);
    CHECK(again.process->wait() == 0);
    CHECK(again.process->err() ==
          fmt::format("stove sandbox: stopped on SIGINT; data saved in {}\n", data));
  }

  TEST_CASE("sandbox serve takes its token from STOVE_SANDBOX_TOKEN and never prints it") {
    TempDir dir;
    RunOptions options;
    options.env["STOVE_SANDBOX_TOKEN"] = "s3cret-t0ken";
    Served served = serve((dir / "cloud").string(), {"--log-requests"}, options);
    CHECK(call(served.port, "locations/list", json::object()).first == 401);
    CHECK(call(served.port, "locations/list", json::object(), "s3cret-t0ken").first == 200);
    served.process->signal(SIGTERM);
    CHECK(served.process->wait() == 0);
    std::string err = served.process->err();
    CHECK(err.find("s3cret") == std::string::npos);
    CHECK(served.line.find("s3cret") == std::string::npos);
    CHECK(err.find("stove sandbox: POST /restmachine/cloudapi/locations/list -> 401 (") == 0);
    CHECK(err.find("\nstove sandbox: POST /restmachine/cloudapi/locations/list -> 200 (") !=
          std::string::npos);
  }

  TEST_CASE("sandbox serve's admin endpoint changes the cloud behind the API's back") {
    TempDir dir;
    std::string data = (dir / "cloud").string();
    Served served = serve(data, {"--deploy-delay", "0"});
    int port = served.port;
    REQUIRE(call(port, "cloudspaces/create", space_params("web")).second == 1);
    REQUIRE(call(port, "machines/create",
                 {{"cloudspaceId", 1},
                  {"name", "m"},
                  {"imageId", 1},
                  {"disksize", 10},
                  {"memory", 1024},
                  {"vcpus", 1}})
                .second == 1);

    auto [status, body] =
        admin(port, "POST", "machines/1", {{"memory", 2048}, {"status", "HALTED"}});
    CHECK(status == 200);
    CHECK(body["memory"] == 2048);
    CHECK(body["status"] == "HALTED");
    CHECK(admin(port, "POST", "machines/1", {{"memory", "2048"}}) ==
          std::pair<int, json>{400,
                               {{"error", "attribute \"memory\" must be an integer, not "
                                          "\"2048\""}}});
    CHECK(admin(port, "POST", "cloudspaces/1/machines", {{"name", "stray"}}).first == 201);
    CHECK(admin(port, "DELETE", "machines/9") ==
          std::pair<int, json>{404, {{"error", "machine 9 not found"}}});
    CHECK(call(port, "machines/get", {{"machineId", 1}}).second["memory"] == 2048);
    // Two creates and a get through the cloudapi; four admin calls, two of
    // them changes.
    CHECK(counters(port) == json{{"requests", 3},
                                 {"mutating", 2},
                                 {"injected_failures", 0},
                                 {"writes", 4},
                                 {"admin", 4}});
    served.process->signal(SIGTERM);
    CHECK(served.process->wait() == 0);
    json saved = json::parse(read_file(dir / "cloud" / "cloud.json"));
    REQUIRE(saved["machines"].size() == 2);
    CHECK(saved["machines"][0]["memory"] == 2048);
    CHECK(saved["machines"][1]["name"] == "stray");

    // Restarted with every API request failing: admin calls still work.
    Served failing = serve(data, {"--fail-rate", "1", "--seed", "5", "--log-requests"});
    port = failing.port;
    CHECK(call(port, "machines/get", {{"machineId", 1}}).first != 200);
    CHECK(admin(port, "DELETE", "cloudspaces/1") ==
          std::pair<int, json>{200, {{"deleted", {{"cloudspaces", {1}}, {"machines", {1, 2}}}}}});
    CHECK(counters(port) == json{{"requests", 1},
                                 {"mutating", 0},
                                 {"injected_failures", 1},
                                 {"writes", 1},
                                 {"admin", 1}});
    failing.process->signal(SIGTERM);
    CHECK(failing.process->wait() == 0);
    CHECK(failing.process->err().find(
              "stove sandbox: DELETE /sandbox/admin/cloudspaces/1 -> 200, admin (") !=
          std::string::npos);
    saved = json::parse(read_file(dir / "cloud" / "cloud.json"));
    CHECK(saved["cloudspaces"].empty());
    CHECK(saved["machines"].empty());
  }

  TEST_CASE("sandbox serve refuses a fail rate outside 0 to 1") {
    TempDir dir;
    auto r = run_stove({"sandbox", "serve", "--listen", "127.0.0.1:0", "--data",
                        (dir / "cloud").string(), "--fail-rate", "2"});
    CHECK(r.exit_code == 1);
    CHECK(r.out == "");
    CHECK(r.err == "stove: error: --fail-rate takes a share of requests between 0 and 1, not 2\n");
    CHECK(!std::filesystem::exists(dir / "cloud"));
  }

  TEST_CASE("sandbox serve refuses a listen address that is not HOST:PORT") {
    TempDir dir;
    for (std::string bad :
         {"localhost", "127.0.0.1:", ":8080", "127.0.0.1:99999", "127.0.0.1:http", "::1:80"}) {
      CAPTURE(bad);
      auto r = run_stove({"sandbox", "serve", "--listen", bad, "--data", (dir / "cloud").string()});
      CHECK(r.exit_code == 1);
      CHECK(r.err == fmt::format("stove: error: --listen takes HOST:PORT, such as "
                                 "127.0.0.1:8080 (port 0 picks a free one), not \"{}\"\n",
                                 bad));
    }
  }

  TEST_CASE("sandbox serve fails on a data directory it cannot create") {
    TempDir dir;
    std::string file = dir.write("file", "not a directory");
    auto r = run_stove({"sandbox", "serve", "--listen", "127.0.0.1:0", "--data", file + "/cloud"});
    CHECK(r.exit_code == 1);
    CHECK(r.out == "");
    CHECK(r.err == fmt::format("stove: error: {}/cloud: cannot create the data directory: Not a "
                               "directory\n",
                               file));
  }

  TEST_CASE("sandbox serve requires --listen and --data") {
    auto r = run_stove({"sandbox", "serve", "--listen", "127.0.0.1:0"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("stove: error: --data is required") == 0);
  }

  TEST_CASE("sandbox serve --help describes every flag") {
    auto r = run_stove({"sandbox", "serve", "--help"});
    CHECK(r.exit_code == 0);
    for (const char* flag :
         {"--listen HOST:PORT", "--data DIR", "--latency MS", "--fail-rate P", "--seed N",
          "--deploy-delay MS", "--job-duration MS", "--threads N", "--log-requests",
          "STOVE_SANDBOX_TOKEN"}) {
      CAPTURE(flag);
      CHECK(r.out.find(flag) != std::string::npos);
    }
  }
}
