// `stove apply --json` and `stove destroy --json` on the embedded sandbox:
// one JSON object per line and event, a final summary, exit codes as
// without --json, and nothing on stderr but errors.

#include "support/run.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace stove::test;
using Json = nlohmann::json;

namespace {

// Each line of `out` as a JSON object (a line that is not one fails).
std::vector<Json> events_of(const std::string& out) {
  std::vector<Json> events;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    INFO(line);
    Json event = Json::parse(line);
    REQUIRE(event.is_object());
    REQUIRE(event.contains("type"));
    REQUIRE(event.at("time").get<std::string>().ends_with("Z"));
    events.push_back(std::move(event));
  }
  return events;
}

// "type address" of every event but still-running ones, sorted.
std::multiset<std::string> kinds(const std::vector<Json>& events) {
  std::multiset<std::string> out;
  for (const auto& e : events) {
    if (e.at("type") != "operation_progress") {
      out.insert(e.at("type").get<std::string>() +
                 (e.contains("address") ? " " + e.at("address").get<std::string>() : ""));
    }
  }
  return out;
}

const std::string k_space = R"(cloud_space["My VDC"])";
const std::string k_machine = R"(cloud_space["My VDC"].machine["drupal"])";
const std::string k_backup = R"(cloud_space["My VDC"].machine["drupal"].backup["drupal-nightly"])";
const std::string k_bucket = R"(bucket["drupal-assets"])";

struct Quickstart {
  TempDir dir;
  RunOptions in_dir;
  Quickstart() {
    const std::filesystem::path playbooks = std::filesystem::path(STOVE_SOURCE_DIR) / "playbooks";
    const std::string name = "quickstart.yaml";
    std::filesystem::copy_file(playbooks / name, dir / name);
    in_dir.cwd = dir.path().string();
  }
  RunResult run(std::vector<std::string> args) const { return run_stove(args, in_dir); }
};

} // namespace

TEST_SUITE("apply --json") {
  TEST_CASE("apply and destroy print one JSON object per event and end with a summary") {
    Quickstart q;
    RunResult applied = q.run({"apply", "--json", "--auto-approve", "quickstart.yaml"});
    INFO(applied.out, applied.err);
    REQUIRE(applied.exit_code == 0);
    CHECK(applied.err.empty());
    std::vector<Json> events = events_of(applied.out);
    REQUIRE(events.size() >= 2);
    CHECK(events.front().at("type") == "version");
    CHECK(events.front().at("format_version") == 1);
    CHECK(events.front().at("operation") == "apply");
    CHECK(kinds(events) == std::multiset<std::string>{
                               "version",
                               "note",
                               "planned_change " + k_space,
                               "planned_change " + k_machine,
                               "planned_change " + k_backup,
                               "planned_change " + k_bucket,
                               "change_summary",
                               "apply_start",
                               "operation_start " + k_space,
                               "operation_complete " + k_space,
                               "operation_start " + k_machine,
                               "operation_complete " + k_machine,
                               "operation_start " + k_backup,
                               "operation_complete " + k_backup,
                               "operation_start " + k_bucket,
                               "operation_complete " + k_bucket,
                               "summary",
                           });
    const Json& summary = events.back();
    CHECK(summary.at("type") == "summary");
    CHECK(summary.at("ok") == true);
    CHECK(summary.at("exit_code") == 0);
    CHECK(summary.at("added") == 4);
    CHECK(summary.at("failed").empty());
    for (const auto& e : events) {
      if (e.at("type") == "operation_complete") {
        CHECK(e.at("action") == "create");
        CHECK_FALSE(e.at("id").get<std::string>().empty());
        CHECK(e.at("elapsed_seconds").is_number_integer());
      }
      if (e.at("type") == "planned_change") {
        CHECK(e.at("action") == "create");
      }
    }
    // A parent completes before its child starts.
    auto index_of = [&](const std::string& type, const std::string& address) {
      auto it = std::find_if(events.begin(), events.end(), [&](const Json& e) {
        return e.at("type") == type && e.value("address", "") == address;
      });
      return it - events.begin();
    };
    CHECK(index_of("operation_complete", k_space) < index_of("operation_start", k_machine));
    CHECK(index_of("operation_complete", k_machine) < index_of("operation_start", k_backup));

    // Nothing to do: still a summary.
    RunResult again = q.run({"apply", "--json", "--auto-approve", "quickstart.yaml"});
    CHECK(again.exit_code == 0);
    std::vector<Json> quiet = events_of(again.out);
    CHECK(kinds(quiet) == std::multiset<std::string>{"version", "note", "change_summary", "summary"});
    CHECK(quiet.back().at("ok") == true);
    CHECK(quiet.back().at("added") == 0);

    RunResult destroyed = q.run({"destroy", "--json", "--auto-approve", "quickstart.yaml"});
    INFO(destroyed.out, destroyed.err);
    CHECK(destroyed.exit_code == 0);
    std::vector<Json> gone = events_of(destroyed.out);
    CHECK(gone.front().at("operation") == "destroy");
    CHECK(gone.back().at("type") == "summary");
    CHECK(gone.back().at("destroyed") == 4);
    CHECK(std::count_if(gone.begin(), gone.end(), [](const Json& e) {
            return e.at("type") == "operation_complete" && e.at("action") == "delete";
          }) == 4);
  }

  TEST_CASE("a failed operation is an operation_errored event, its dependents are skipped, and the exit code is 1") {
    Quickstart q;
    std::string text = read_file(q.dir / "quickstart.yaml");
    text.replace(text.find("image_id: 12"), 12, "image_id: 100");
    std::filesystem::path file = q.dir.write("broken.yaml", text);
    RunResult applied = q.run({"apply", "--json", "--auto-approve", file.string()});
    INFO(applied.out, applied.err);
    CHECK(applied.exit_code == 1);
    std::vector<Json> events = events_of(applied.out);
    REQUIRE_FALSE(events.empty());
    bool errored = false;
    std::set<std::string> skipped;
    for (const auto& e : events) {
      if (e.at("type") == "operation_errored") {
        errored = true;
        CHECK(e.at("address") == k_machine);
        CHECK(e.at("message").get<std::string>().find("image 100 does not exist") !=
              std::string::npos);
      }
      if (e.at("type") == "operation_skipped") {
        skipped.insert(e.at("address").get<std::string>());
      }
    }
    CHECK(errored);
    CHECK(skipped == std::set<std::string>{k_backup, k_bucket});
    const Json& summary = events.back();
    CHECK(summary.at("type") == "summary");
    CHECK(summary.at("ok") == false);
    CHECK(summary.at("exit_code") == 1);
    CHECK(summary.at("added") == 1);
    REQUIRE(summary.at("failed").size() == 1);
    CHECK(summary.at("failed")[0].at("address") == k_machine);
    CHECK(summary.at("skipped").size() == 2);
  }

  TEST_CASE("--json without --auto-approve is refused before anything is read or changed") {
    Quickstart q;
    RunResult r = q.run({"apply", "--json", "quickstart.yaml"});
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(r.err == "stove: error: apply --json cannot ask for approval: nothing was changed; add "
                   "--auto-approve, or apply a plan saved with `stove plan --out FILE`\n");
    CHECK_FALSE(std::filesystem::exists(q.dir / "state"));
  }

  TEST_CASE("a file with errors gives diagnostic events and a failed summary") {
    Quickstart q;
    std::filesystem::path bad = q.dir.write("bad.yaml", "resources:\n  - type: cloud_spice\n    name: x\n");
    RunResult r = q.run({"apply", "--json", "--auto-approve", bad.string()});
    CHECK(r.exit_code == 1);
    std::vector<Json> events = events_of(r.out);
    REQUIRE(events.size() >= 3);
    CHECK(events[1].at("type") == "diagnostic");
    CHECK(events[1].at("severity") == "error");
    CHECK(events[1].at("file") == bad.string());
    CHECK(events[1].at("line") == 2);
    CHECK(events.back().at("type") == "summary");
    CHECK(events.back().at("ok") == false);
    CHECK(events.back().at("exit_code") == 1);
  }

  TEST_CASE("an error that ends the run is an error event, then the summary, and stderr says it too") {
    Quickstart q;
    RunResult r = q.run({"apply", "--json", "--auto-approve", "--lock-timeout", "0s",
                         "--state", (q.dir / "no-such-dir" / "x" / "s.json").string() + "/",
                         "quickstart.yaml"});
    CHECK(r.exit_code == 1);
    std::vector<Json> events = events_of(r.out);
    REQUIRE(events.size() >= 2);
    CHECK(events[events.size() - 2].at("type") == "error");
    CHECK(events.back().at("type") == "summary");
    CHECK(events.back().at("ok") == false);
    CHECK(r.err.starts_with("stove: error: "));
  }
}
