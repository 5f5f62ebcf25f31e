// Drift end to end: the built binary against `stove sandbox serve` on
// loopback. Reality is changed behind stove's back through the sandbox's
// admin endpoint (counted as `admin`, never as `requests` or `mutating`),
// then `stove drift`, `plan`, `refresh` and `apply` are run against it.

#include "support/background.hpp"
#include "support/run.hpp"
#include "support/s3_client.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

using namespace stove::test;
using Json = nlohmann::json;

namespace {

const std::string k_space = R"(cloud_space["web"])";
const std::string k_app = R"(cloud_space["web"].machine["app"])";
const std::string k_nightly = R"(cloud_space["web"].machine["app"].backup["app-nightly"])";
const std::string k_logs = R"(bucket["logs"])";

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

bool exists(const std::string& path) {
  return std::filesystem::exists(path);
}

// The file: cloud space web with machine app (`memory` MB, `machine_extra`
// appended to its entry) and its backup app-nightly, and the bucket logs.
std::string infra(const std::string& url, int memory, const std::string& machine_extra) {
  return fmt::format(R"(providers:
  sb:
    type: sandbox
    endpoint: {}
resources:
  - type: cloud_space
    name: web
    location_id: 1
    machines:
      - name: app
        image_id: 12
        memory: {}
        vcpus: 2
        disk_boot_size: 20{}
        backups:
          - {{name: app-nightly, schedule: Level=Full sun at 02:00, fileset: [/etc]}}
  - {{type: bucket, name: logs}}
)",
                     url, memory, machine_extra);
}

// What render_drift prints for the machine's memory changed from 2048 to
// 4096 and the bucket deleted (state order: the bucket comes first).
std::string memory_and_bucket_drift(const std::string& machine_id) {
  return fmt::format("Objects have changed outside of Stove\n"
                     "\n"
                     "Stove found these changes made since the last apply, outside of Stove:\n"
                     "\n"
                     "  # bucket[\"logs\"] has been deleted\n"
                     "  - bucket [id=logs]\n"
                     "\n"
                     "  # {} has changed\n"
                     "  ~ machine [id={}] {{\n"
                     "      ~ memory = 2048 -> 4096\n"
                     "    }}\n",
                     k_app, machine_id);
}

// stove drift's text ending when nothing drifted.
std::string no_drift(size_t read, const std::string& file, const std::string& unapplied = {}) {
  return fmt::format("No drift: the {} objects Stove read match the state.\n{}", read,
                     unapplied.empty()
                         ? std::string("The file has no changes to apply.\n")
                         : fmt::format("The file has changes not applied yet: {}. `stove plan {}` "
                                       "shows them.\n",
                                       unapplied, file));
}

// One test's world: a sandbox, the file, its state.
struct World {
  TempDir dir;
  std::unique_ptr<SandboxProcess> sandbox = std::make_unique<SandboxProcess>(
      (dir / "cloud").string(),
      std::vector<std::string>{"--deploy-delay", "0", "--job-duration", "10"});
  std::string file = (dir / "infra.yaml").string();
  std::string state = (dir / "infra.state.json").string();

  void write(int memory = 2048, const std::string& machine_extra = {}) const {
    dir.write("infra.yaml", infra(sandbox->url(), memory, machine_extra));
  }

  RunResult stove(std::vector<std::string> args, RunOptions options = {}) const {
    options.env["STOVE_SANDBOX_TOKEN"] = sandbox->token();
    args.insert(args.begin(), "--no-color");
    return run_stove(args, options);
  }
  RunResult apply(const std::string& what = {}) const {
    return stove({"apply", "--auto-approve", "--state", state, what.empty() ? file : what});
  }
  RunResult drift(const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> args{"drift", "--state", state};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(file);
    return stove(args);
  }
  RunResult plan(const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> args{"plan", "--state", state};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(file);
    return stove(args);
  }
  RunResult refresh(const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> args{"refresh", "--state", state};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(file);
    return stove(args);
  }

  // The file applied; the machine's id.
  std::string applied(int memory = 2048) const {
    write(memory);
    RunResult r = apply();
    INFO(r.out, r.err);
    REQUIRE(r.exit_code == 0);
    REQUIRE(contains(r.out, "Apply complete! Resources: 4 added, 0 changed, 0 destroyed.\n"));
    return machine_id();
  }

  Json state_json() const { return Json::parse(read_file(state)); }
  std::optional<Json> record(const std::string& address) const {
    const Json s = state_json();
    for (const auto& r : s.at("resources")) {
      if (r.at("address") == address) {
        return r;
      }
    }
    return std::nullopt;
  }
  std::string machine_id() const {
    auto app = record(k_app);
    REQUIRE(app);
    return app->at("remote_id").get<std::string>();
  }

  // A change behind stove's back: METHOD /sandbox/admin/PATH.
  Json admin(const std::string& method, const std::string& path, const Json& body = {}) const {
    httplib::Client client("127.0.0.1", sandbox->port());
    httplib::Headers headers{{"Authorization", fmt::format("Bearer {}", sandbox->token())}};
    const std::string url = fmt::format("/sandbox/admin/{}", path);
    auto res = method == "DELETE" ? client.Delete(url, headers)
                                  : client.Post(url, headers, body.dump(), "application/json");
    REQUIRE(res);
    INFO(method, " ", url, " -> ", res->body);
    REQUIRE(res->status / 100 == 2);
    return Json::parse(res->body);
  }
  // The drift of the headline case: memory 2048 -> 4096, the bucket gone.
  void drift_memory_and_bucket() const {
    admin("POST", fmt::format("machines/{}", machine_id()), {{"memory", 4096}});
    admin("DELETE", "buckets/logs");
  }

  Json counters() const {
    httplib::Client client("127.0.0.1", sandbox->port());
    auto res = client.Get("/sandbox/counters");
    REQUIRE(res);
    return Json::parse(res->body);
  }

  // What the sandbox holds (these calls count as requests).
  int real_memory(const std::string& id) const {
    auto reply = sandbox->call("machines/get", fmt::format(R"({{"machineId": {}}})", id));
    REQUIRE(reply.status == 200);
    return Json::parse(reply.body).at("memory").get<int>();
  }
  std::set<std::string> buckets() const {
    S3Client s3(fmt::format("{}/s3", sandbox->url()), "sandbox", sandbox->token());
    return s3.buckets();
  }

  // The state file is untouched: same bytes, no backup, no journal.
  void check_untouched(const std::string& before) const {
    CHECK(read_file(state) == before);
    CHECK_FALSE(exists(fmt::format("{}.backup", state)));
    CHECK_FALSE(exists(fmt::format("{}.journal", state)));
  }
};

std::vector<std::string> addresses(const Json& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) {
    out.push_back(e.at("address").get<std::string>());
  }
  return out;
}

} // namespace

TEST_SUITE("drift against stove sandbox serve") {
  TEST_CASE("memory changed and a bucket deleted outside of stove: drift reports both without "
            "writing or mutating, plan shows and fixes them, apply converges") {
    World w;
    const std::string id = w.applied();
    w.drift_memory_and_bucket();
    // The first apply wrote no backup: it made the state.
    REQUIRE_FALSE(exists(fmt::format("{}.backup", w.state)));
    const std::string before = read_file(w.state);
    const Json counters = w.counters();

    RunResult r = w.drift({"--json"});
    INFO(r.out, r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.empty());
    Json report = Json::parse(r.out);
    CHECK(report.at("format_version") == 1);
    CHECK(report.at("status") == "drift");
    CHECK(report.at("exit_code") == 2);
    CHECK(report.at("state") == Json{{"path", w.state}, {"exists", true}});
    CHECK(report.at("drift") ==
          Json::array({{{"address", k_logs},
                        {"kind", "bucket"},
                        {"provider", "sb"},
                        {"remote_id", "logs"},
                        {"change", "deleted"},
                        {"attributes", Json::object()}},
                       {{"address", k_app},
                        {"kind", "machine"},
                        {"provider", "sb"},
                        {"remote_id", id},
                        {"change", "changed"},
                        {"attributes", {{"memory", {{"state", 2048}, {"real", 4096}}}}}}}));
    CHECK(report.at("unmanaged") == Json::array());
    // The fixes apply would make: the bucket again, the memory back.
    CHECK(report.at("unapplied") == Json{{"add", 1}, {"change", 1}, {"destroy", 0}});
    const Json& summary = report.at("summary");
    CHECK(summary.at("recorded") == 4);
    CHECK(summary.at("read") == 3);
    CHECK(summary.at("not_read") == 0);
    CHECK(summary.at("changed") == 1);
    CHECK(summary.at("deleted") == 1);
    CHECK(summary.at("unmanaged") == 0);

    // Read-only: the state as it was, nothing mutated, and the only requests
    // the sandbox saw are the listings and reads the report counts.
    w.check_untouched(before);
    const Json after = w.counters();
    CHECK(after.at("mutating") == counters.at("mutating"));
    CHECK(after.at("admin") == counters.at("admin"));
    CHECK(after.at("requests").get<uint64_t>() - counters.at("requests").get<uint64_t>() ==
          summary.at("http_requests").get<uint64_t>());
    CHECK(summary.at("http_requests").get<uint64_t>() > 0);

    // The same in text.
    RunResult text = w.drift();
    INFO(text.out, text.err);
    CHECK(text.exit_code == 2);
    CHECK(text.out == fmt::format("{}\nDrift: 2 of the 4 objects in the state changed outside of "
                                  "Stove. `stove plan {}` shows how apply would put them back; "
                                  "`stove refresh {}` accepts them into the state instead.\n",
                                  memory_and_bucket_drift(id), w.file, w.file));
    CHECK(text.err.empty());

    // plan shows the drift, then puts the memory back and the bucket again.
    RunResult planned = w.plan();
    INFO(planned.out, planned.err);
    CHECK(planned.exit_code == 0);
    CHECK(planned.out == fmt::format("{}\n"
                                     "Stove will perform the following actions:\n"
                                     "\n"
                                     "  # {} will be updated in-place\n"
                                     "  ~ machine \"app\" {{\n"
                                     "      ~ memory = 4096 -> 2048\n"
                                     "        # (6 unchanged attributes hidden)\n"
                                     "    }}\n"
                                     "\n"
                                     "  # bucket[\"logs\"] will be created\n"
                                     "  + bucket \"logs\" {{\n"
                                     "      + name       = \"logs\"\n"
                                     "      + region     = \"\"\n"
                                     "      + versioning = \"suspended\"\n"
                                     "      + tags       = {{}}\n"
                                     "      + labels     = {{}}\n"
                                     "    }}\n"
                                     "\n"
                                     "Plan: 1 to add, 1 to change, 0 to destroy.\n",
                                     memory_and_bucket_drift(id), k_app));
    w.check_untouched(before);
    CHECK(w.counters().at("mutating") == counters.at("mutating"));

    RunResult applied = w.apply();
    INFO(applied.out, applied.err);
    CHECK(applied.exit_code == 0);
    CHECK(contains(applied.out, "Apply complete! Resources: 1 added, 1 changed, 0 destroyed.\n"));
    CHECK(w.real_memory(id) == 2048);
    CHECK(w.buckets() == std::set<std::string>{"logs"});
    CHECK(w.record(k_app)->at("spec").at("memory") == 2048);

    RunResult synced = w.drift();
    INFO(synced.out, synced.err);
    CHECK(synced.exit_code == 0);
    CHECK(synced.out == no_drift(4, w.file));
    CHECK(synced.err.empty());
  }

  TEST_CASE("without drift, a file changed since the last apply exits 3") {
    World w;
    w.applied();
    w.write(3072);
    const std::string before = read_file(w.state);

    RunResult text = w.drift();
    INFO(text.out, text.err);
    CHECK(text.exit_code == 3);
    CHECK(text.out == no_drift(4, w.file, "0 to add, 1 to change, 0 to destroy"));

    RunResult r = w.drift({"--json"});
    INFO(r.out, r.err);
    CHECK(r.exit_code == 3);
    Json report = Json::parse(r.out);
    CHECK(report.at("status") == "unapplied_changes");
    CHECK(report.at("exit_code") == 3);
    CHECK(report.at("drift") == Json::array());
    CHECK(report.at("unmanaged") == Json::array());
    CHECK(report.at("unapplied") == Json{{"add", 0}, {"change", 1}, {"destroy", 0}});
    CHECK(report.at("summary").at("read") == 4);
    w.check_untouched(before);
  }

  TEST_CASE("a file that already says what changed outside of stove plans no change, and apply "
            "records the drift in the state") {
    World w;
    const std::string id = w.applied();
    w.admin("POST", fmt::format("machines/{}", id), {{"memory", 4096}});
    w.write(4096);
    const std::string before = read_file(w.state);
    const int mutating = w.counters().at("mutating").get<int>();

    RunResult plan = w.stove({"plan", "--detailed-exitcode", "--state", w.state, w.file});
    INFO(plan.out, plan.err);
    CHECK(plan.exit_code == 0);
    CHECK(plan.out == fmt::format("Objects have changed outside of Stove\n"
                                  "\n"
                                  "Stove found these changes made since the last apply, outside "
                                  "of Stove:\n"
                                  "\n"
                                  "  # {} has changed\n"
                                  "  ~ machine [id={}] {{\n"
                                  "      ~ memory = 2048 -> 4096\n"
                                  "    }}\n"
                                  "\n"
                                  "No changes. The infrastructure matches the file and the state.\n"
                                  "\n"
                                  "The file already says what changed outside of Stove; `stove "
                                  "apply` or `stove refresh` records it in the state.\n",
                                  k_app, id));
    CHECK(read_file(w.state) == before);
    CHECK(w.drift().exit_code == 2);

    RunResult apply = w.apply();
    INFO(apply.out, apply.err);
    CHECK(apply.exit_code == 0);
    CHECK(contains(apply.out, "No changes. The infrastructure matches the file and the state.\n"
                              "\n"
                              "The state now records the 1 change made outside of Stove.\n"));
    CHECK(read_file(fmt::format("{}.backup", w.state)) == before);
    auto app = w.record(k_app);
    REQUIRE(app);
    CHECK(app->at("spec").at("memory") == 4096);
    CHECK(w.counters().at("mutating").get<int>() == mutating);
    RunResult after = w.drift();
    INFO(after.out, after.err);
    CHECK(after.exit_code == 0);
    CHECK(after.out == no_drift(4, w.file));
  }

  TEST_CASE("drift in an ignored field is not reported: --ignore FIELD, --ignore KIND.FIELD, "
            "lifecycle.ignore_changes, and a misspelt field is a usage error") {
    World w;
    const std::string id = w.applied();
    w.admin("POST", fmt::format("machines/{}", id), {{"memory", 4096}});
    const std::string before = read_file(w.state);
    REQUIRE(w.drift().exit_code == 2);

    for (const std::string ignored : {"memory", "machine.memory"}) {
      RunResult r = w.drift({"--ignore", ignored});
      INFO(ignored, "\n", r.out, r.err);
      CHECK(r.exit_code == 0);
      CHECK(r.out == no_drift(4, w.file));
    }

    RunResult typo = w.drift({"--ignore", "memroy"});
    INFO(typo.out, typo.err);
    CHECK(typo.exit_code == 1);
    CHECK(typo.out.empty());
    CHECK(typo.err == "stove: error: --ignore memroy: no kind has a field \"memroy\"; did you mean "
                      "\"memory\"?\n");
    RunResult kind_typo = w.drift({"--json", "--ignore", "machine.memroy"});
    INFO(kind_typo.out, kind_typo.err);
    CHECK(kind_typo.exit_code == 1);
    CHECK(kind_typo.out.empty());
    CHECK(kind_typo.err == "stove: error: --ignore machine.memroy: kind machine has no field "
                           "\"memroy\"; did you mean \"machine.memory\"?\n");

    // The file's lifecycle.ignore_changes: neither drift nor plan sees it.
    w.write(2048, "\n        lifecycle: {ignore_changes: [memory]}");
    RunResult lifecycle = w.drift();
    INFO(lifecycle.out, lifecycle.err);
    CHECK(lifecycle.exit_code == 0);
    CHECK(lifecycle.out == no_drift(4, w.file));
    RunResult planned = w.plan({"--detailed-exitcode"});
    INFO(planned.out, planned.err);
    CHECK(planned.exit_code == 0);
    CHECK(planned.out == "No changes. The infrastructure matches the file and the state.\n");
    w.check_untouched(before);
  }

  TEST_CASE("a machine made by hand inside the managed cloud space is reported unmanaged, and "
            "alone does not make drift") {
    World w;
    w.applied();
    const std::string space_id = w.record(k_space)->at("remote_id").get<std::string>();
    Json made = w.admin("POST", fmt::format("cloudspaces/{}/machines", space_id),
                        {{"name", "stray"}, {"memory", 1024}});
    const std::string stray_id = std::to_string(made.at("id").get<int64_t>());
    const std::string before = read_file(w.state);

    RunResult r = w.drift({"--json"});
    INFO(r.out, r.err);
    CHECK(r.exit_code == 0);
    Json report = Json::parse(r.out);
    CHECK(report.at("status") == "in_sync");
    CHECK(report.at("drift") == Json::array());
    CHECK(report.at("unmanaged") == Json::array({{{"parent", k_space},
                                                  {"kind", "machine"},
                                                  {"provider", "sb"},
                                                  {"remote_id", stray_id},
                                                  {"name", "stray"}}}));
    CHECK(report.at("summary").at("unmanaged") == 1);

    const std::string listed =
        fmt::format("Objects Stove does not manage, inside resources it does\n"
                    "\n"
                    "Stove leaves them alone; import them to manage them (stove import):\n"
                    "\n"
                    "  ? {}: machine \"stray\" [id={}]\n",
                    k_space, stray_id);
    RunResult text = w.drift();
    INFO(text.out, text.err);
    CHECK(text.exit_code == 0);
    CHECK(text.out == fmt::format("{}\n{}", listed, no_drift(4, w.file)));

    RunResult planned = w.plan({"--detailed-exitcode"});
    INFO(planned.out, planned.err);
    CHECK(planned.exit_code == 0);
    CHECK(planned.out ==
          fmt::format("{}\nNo changes. The infrastructure matches the file and the state.\n",
                      listed));
    w.check_untouched(before);
  }

  TEST_CASE("a cloud space deleted outside of stove takes its machine and backup with it, and "
            "apply makes all three again") {
    World w;
    w.applied();
    const std::string space_id = w.record(k_space)->at("remote_id").get<std::string>();
    w.admin("DELETE", fmt::format("cloudspaces/{}", space_id));
    const std::string before = read_file(w.state);

    RunResult r = w.drift({"--json"});
    INFO(r.out, r.err);
    CHECK(r.exit_code == 2);
    Json report = Json::parse(r.out);
    CHECK(addresses(report.at("drift")) == std::vector<std::string>{k_space, k_app, k_nightly});
    for (const auto& d : report.at("drift")) {
      CHECK(d.at("change") == "deleted");
    }
    CHECK(report.at("unapplied") == Json{{"add", 3}, {"change", 0}, {"destroy", 0}});
    // The space's listing says it is gone; its children are not asked about.
    CHECK(report.at("summary").at("read") == 1);
    CHECK(report.at("summary").at("deleted") == 3);
    w.check_untouched(before);

    RunResult planned = w.plan();
    INFO(planned.out, planned.err);
    CHECK(planned.exit_code == 0);
    for (const auto& address : {k_space, k_app, k_nightly}) {
      CHECK(contains(planned.out, fmt::format("  # {} has been deleted\n", address)));
      CHECK(contains(planned.out, fmt::format("  # {} will be created\n", address)));
    }
    CHECK(contains(planned.out, "Plan: 3 to add, 0 to change, 0 to destroy.\n"));

    RunResult applied = w.apply();
    INFO(applied.out, applied.err);
    CHECK(applied.exit_code == 0);
    CHECK(contains(applied.out, "Apply complete! Resources: 3 added, 0 changed, 0 destroyed.\n"));
    CHECK(w.record(k_space)->at("remote_id") != space_id);

    RunResult synced = w.drift();
    INFO(synced.out, synced.err);
    CHECK(synced.exit_code == 0);
    CHECK(synced.out == no_drift(4, w.file));
  }

  TEST_CASE("stove refresh needs approval, then records the drift in the state without "
            "touching the cloud") {
    World w;
    const std::string id = w.applied();
    w.drift_memory_and_bucket();
    const std::string before = read_file(w.state);
    const uint64_t serial = w.state_json().at("serial").get<uint64_t>();
    const Json counters = w.counters();

    // No terminal, no --auto-approve: the drift is shown, nothing written.
    RunResult refused = w.refresh();
    INFO(refused.out, refused.err);
    CHECK(refused.exit_code == 1);
    CHECK(refused.out == memory_and_bucket_drift(id));
    CHECK(refused.err == "stove: error: refresh needs approval and standard input is not a "
                         "terminal: nothing was changed; run with --auto-approve\n");
    w.check_untouched(before);

    RunResult r = w.refresh({"--auto-approve"});
    INFO(r.out, r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == fmt::format("{}\nRefresh complete! State: 1 updated, 1 forgotten (deleted "
                               "outside of Stove).\n",
                               memory_and_bucket_drift(id)));
    CHECK(r.err.empty());
    Json s = w.state_json();
    CHECK(s.at("serial") == serial + 1);
    CHECK(read_file(fmt::format("{}.backup", w.state)) == before);
    CHECK_FALSE(w.record(k_logs).has_value());
    CHECK(w.record(k_app)->at("spec").at("memory") == 4096);
    CHECK(w.record(k_app)->at("observed").at("memory") == 4096);
    CHECK(s.at("resources").size() == 3);
    CHECK(w.counters().at("mutating") == counters.at("mutating"));

    // The state now agrees with reality; the file still wants 2048 and the
    // bucket.
    RunResult drift = w.drift();
    INFO(drift.out, drift.err);
    CHECK(drift.exit_code == 3);
    CHECK(drift.out == no_drift(3, w.file, "1 to add, 1 to change, 0 to destroy"));

    // Nothing more to record: nothing written.
    const std::string refreshed = read_file(w.state);
    RunResult again = w.refresh({"--auto-approve"});
    INFO(again.out, again.err);
    CHECK(again.exit_code == 0);
    CHECK(again.out == "No changes. The state matches the 3 objects Stove read.\n");
    CHECK(read_file(w.state) == refreshed);
    CHECK(read_file(fmt::format("{}.backup", w.state)) == before);
    CHECK(w.counters().at("mutating") == counters.at("mutating"));
  }

  TEST_CASE("plan --refresh=false and -refresh=false neither read nor show the drift") {
    World w;
    w.applied();
    w.drift_memory_and_bucket();
    const std::string before = read_file(w.state);
    for (const std::string flag : {"--refresh=false", "-refresh=false"}) {
      const Json counters = w.counters();
      RunResult r = w.plan({flag, "--detailed-exitcode"});
      INFO(flag, "\n", r.out, r.err);
      CHECK(r.exit_code == 0);
      CHECK(r.out == "No changes. The infrastructure matches the file and the state.\n");
      CHECK(w.counters().at("requests") == counters.at("requests"));
    }
    w.check_untouched(before);
  }

  TEST_CASE("a saved plan carries the drift, and applying it converges") {
    World w;
    const std::string id = w.applied();
    w.drift_memory_and_bucket();
    const std::string plan_file = (w.dir / "p.json").string();

    RunResult planned = w.plan({"--out", plan_file});
    INFO(planned.out, planned.err);
    REQUIRE(planned.exit_code == 0);
    CHECK(planned.out.starts_with(memory_and_bucket_drift(id)));
    CHECK(contains(planned.out, "Plan: 1 to add, 1 to change, 0 to destroy.\n"));

    RunResult applied = w.apply(plan_file);
    INFO(applied.out, applied.err);
    CHECK(applied.exit_code == 0);
    CHECK(contains(applied.out, "Apply complete! Resources: 1 added, 1 changed, 0 destroyed.\n"));
    CHECK(w.real_memory(id) == 2048);
    CHECK(w.buckets() == std::set<std::string>{"logs"});

    RunResult synced = w.drift();
    INFO(synced.out, synced.err);
    CHECK(synced.exit_code == 0);
    CHECK(synced.out == no_drift(4, w.file));
  }

  TEST_CASE("with the provider unreachable, drift fails naming the listings, and changes "
            "nothing") {
    World w;
    w.applied();
    const std::string before = read_file(w.state);
    const std::string url = w.sandbox->url();
    REQUIRE(w.sandbox->stop() == 0);

    RunResult r = w.drift({"--json"});
    INFO(r.out, r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(r.err.starts_with("stove: error: refresh failed: could not read 2 listings; nothing "
                            "was changed\n"));
    CHECK(contains(r.err, fmt::format("\n  listing the cloud_space objects of provider \"sb\": "
                                      "POST {}/restmachine/cloudapi/cloudspaces/list: ",
                                      url)));
    CHECK(contains(r.err, fmt::format("\n  listing the bucket objects of provider \"sb\": GET "
                                      "{}/s3/: ",
                                      url)));
    w.check_untouched(before);
  }
}
