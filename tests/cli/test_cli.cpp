#include "support/run.hpp"
#include "support/temp_dir.hpp"

#include "state/statefile.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

using stove::test::read_file;
using stove::test::run_stove;
using stove::test::RunOptions;
using stove::test::TempDir;

namespace {

const char* k_example_json = R"([
  {"location_id": 1, "type": "cloud_space", "name": "My VDC",
   "machines": [{"image_id": 12, "type": "machine", "name": "drupal", "memory": 1024, "vcpus": 1, "disk_boot_size": 10}]},
  {"type": "s3", "name": "my_bucket"}
]
)";

const char* k_example_yaml = R"(- location_id: 1
  type: cloud_space
  name: My VDC
  machines:
    - {image_id: 12, type: machine, name: drupal, memory: 1024, vcpus: 1, disk_boot_size: 10}
- type: s3
  name: my_bucket
)";

const char* k_sandbox_note = "stove: note: the file declares no providers: using the embedded sandbox cloud\n";

RunOptions in(const TempDir& dir) {
  RunOptions options;
  options.cwd = dir.path().string();
  return options;
}

// Writes a state in which the example was applied.
void write_example_state(const std::string& path) {
  stove::State state;
  auto add = [&](std::string address, std::string kind, std::string parent,
                 nlohmann::json spec, std::string id) {
    stove::ResourceState r;
    r.address = std::move(address);
    r.kind = std::move(kind);
    r.provider = "sandbox";
    r.remote_id = std::move(id);
    r.parent = parent;
    if (!parent.empty()) {
      r.dependencies = {parent};
    }
    r.spec = std::move(spec);
    r.created_at = r.updated_at = "2026-11-22T00:00:00Z";
    state.resources.push_back(std::move(r));
  };
  add(R"(cloud_space["My VDC"])", "cloud_space", "",
      {{"name", "My VDC"}, {"description", ""}, {"location_id", 1}, {"labels", nlohmann::json::object()}},
      "cs-1");
  add(R"(cloud_space["My VDC"].machine["drupal"])", "machine", R"(cloud_space["My VDC"])",
      {{"name", "drupal"}, {"description", ""}, {"image_id", 12}, {"memory", 1024}, {"vcpus", 1},
       {"disk_boot_size", 10}, {"labels", nlohmann::json::object()}},
      "vm-1");
  add(R"(bucket["my_bucket"])", "bucket", "",
      {{"name", "my_bucket"}, {"region", ""}, {"versioning", "suspended"},
       {"tags", nlohmann::json::object()}, {"labels", nlohmann::json::object()}},
      "my_bucket");
  stove::write_state(path, state);
}

} // namespace

TEST_SUITE("stove") {
  TEST_CASE("--version prints the version") {
    auto r = run_stove({"--version"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "stove 0.1.0\n");
  }

  TEST_CASE("--help lists the commands and the exit codes") {
    auto r = run_stove({"--help"});
    CHECK(r.exit_code == 0);
    for (const char* word :
         {"validate", "plan", "drift", "refresh", "show", "state", "schema", "exec", "import",
          "Exit status"}) {
      CHECK_MESSAGE(r.out.find(word) != std::string::npos, word);
    }
    for (const char* command :
         {"validate", "plan", "drift", "refresh", "show", "state", "schema", "exec", "import"}) {
      auto sub = run_stove({command, "--help"});
      CHECK(sub.exit_code == 0);
      CHECK(sub.out.find("Usage:") != std::string::npos);
    }
  }

  TEST_CASE("usage errors exit 1 with a stove: error: line") {
    auto none = run_stove({});
    CHECK(none.exit_code == 1);
    CHECK(none.err.starts_with("stove: error: "));
    auto unknown = run_stove({"plan", "--bogus", "x.yaml"});
    CHECK(unknown.exit_code == 1);
    CHECK(unknown.err.starts_with("stove: error: "));
    CHECK(unknown.out.empty());
  }

  TEST_CASE("a missing file is a clear error") {
    TempDir dir;
    auto r = run_stove({"validate", "nope.yaml"}, in(dir));
    CHECK(r.exit_code == 1);
    CHECK(r.err == "stove: error: nope.yaml: cannot read: No such file or directory\n");
  }
}

TEST_SUITE("stove validate") {
  TEST_CASE("the example validates as JSON and as YAML") {
    TempDir dir;
    dir.write("example.json", k_example_json);
    dir.write("example.yaml", k_example_yaml);
    for (const char* file : {"example.json", "example.yaml"}) {
      auto r = run_stove({"validate", file}, in(dir));
      CHECK(r.exit_code == 0);
      CHECK(r.out == std::string(file) +
                         " is valid: 3 resources (1 cloud_space, 1 machine, 1 bucket)\n");
      CHECK(r.err == k_sandbox_note);
    }
  }

  TEST_CASE("every error is reported at once with file, line, column, source and caret") {
    TempDir dir;
    dir.write("bad.yaml", R"(- type: cloud_space
  name: My VDC
  location_id: 1
  machines:
    - name: drupal
      image_id: 12
      memroy: 1024
      vcpus: 0
      disk_boot_size: 10
)");
    auto r = run_stove({"validate", "bad.yaml"}, in(dir));
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(r.err == R"(bad.yaml:5:7: error: machine "drupal" is missing required field "memory"
    - name: drupal
      ^
bad.yaml:7:7: error: unknown field "memroy" in machine "drupal"; did you mean "memory"?
      memroy: 1024
      ^
bad.yaml:8:14: error: machine "drupal": field "vcpus" must be between 1 and 256, got 0
      vcpus: 0
             ^
stove: error: bad.yaml has 3 errors
)");
  }

  TEST_CASE("--json reports diagnostics for machines") {
    TempDir dir;
    dir.write("bad.json", R"([{"type": "s3", "name": "bkt", "versionin": "enabled"}])");
    auto r = run_stove({"validate", "--json", "bad.json"}, in(dir));
    CHECK(r.exit_code == 1);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["valid"] == false);
    REQUIRE(j["diagnostics"].size() == 1);
    CHECK(j["diagnostics"][0]["line"] == 1);
    CHECK(j["diagnostics"][0]["column"] == 32);
    CHECK(j["diagnostics"][0]["message"] ==
          "unknown field \"versionin\" in bucket \"bkt\"; did you mean \"versioning\"?");
  }

  TEST_CASE("hostile input gets a clear error and exit 1, never a crash or a hang") {
    TempDir dir;
    std::string garbage;
    for (int i = 0; i < 4096; ++i) {
      garbage += static_cast<char>((i * 7919 + 13) % 256);
    }
    std::string bomb = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
    for (char c = 'b'; c <= 'j'; ++c) {
      bomb += std::string(1, c) + ": &" + c + " [";
      for (int k = 0; k < 9; ++k) {
        bomb += std::string(k ? "," : "") + "*" + static_cast<char>(c - 1);
      }
      bomb += "]\n";
    }
    std::string huge = "- {type: cloud_space, name: s, location_id: " + std::string(400, '9') + "}\n";
    const std::pair<const char*, std::string> cases[] = {
        {"empty.yaml", ""},
        {"garbage.yaml", garbage},
        {"deep.yaml", std::string(100000, '[')},
        {"bomb.yaml", bomb},
        {"huge.yaml", huge},
        {"nul.json", std::string("[\0]", 3)},
        {"tabs.yaml", "- type: bucket\n\tname: x\n"},
    };
    for (const auto& [name, content] : cases) {
      CAPTURE(name);
      dir.write(name, content);
      auto r = run_stove({"validate", name}, in(dir));
      CHECK(r.exit_code == 1);
      CHECK(r.err.find(std::string(name) + ":") == 0);
      CHECK(r.err.find(": error: ") != std::string::npos);
      CHECK(r.err.find("stove: error: " + std::string(name) + " has ") != std::string::npos);
    }
  }
}

TEST_SUITE("stove plan") {
  TEST_CASE("the example plans a cloud space, a machine and a bucket, and detailed exit code 2") {
    TempDir dir;
    dir.write("example.json", k_example_json);
    dir.write("example.yaml", k_example_yaml);
    std::string first;
    for (const char* file : {"example.json", "example.yaml"}) {
      auto r = run_stove({"plan", "--detailed-exitcode", file}, in(dir));
      CHECK(r.exit_code == 2);
      CHECK(r.err == k_sandbox_note);
      CHECK(r.out.find("  # cloud_space[\"My VDC\"] will be created\n  + cloud_space \"My VDC\" {\n") !=
            std::string::npos);
      CHECK(r.out.find("  # cloud_space[\"My VDC\"].machine[\"drupal\"] will be created\n") !=
            std::string::npos);
      CHECK(r.out.find("  # bucket[\"my_bucket\"] will be created\n") != std::string::npos);
      CHECK(r.out.find("      + memory         = 1024\n") != std::string::npos);
      CHECK(r.out.ends_with("\nPlan: 3 to add, 0 to change, 0 to destroy.\n"));
      CHECK(r.out.find('\033') == std::string::npos);
      if (first.empty()) {
        first = r.out;
      } else {
        CHECK(r.out == first);
      }
    }
    auto plain = run_stove({"plan", "example.yaml"}, in(dir));
    CHECK(plain.exit_code == 0);
  }

  TEST_CASE("plan changes nothing on disk") {
    TempDir dir;
    dir.write("example.yaml", k_example_yaml);
    auto r = run_stove({"plan", "example.yaml"}, in(dir));
    CHECK(r.exit_code == 0);
    CHECK_FALSE(std::filesystem::exists(dir / "state"));
  }

  TEST_CASE("--json prints the documented plan") {
    TempDir dir;
    dir.write("example.yaml", k_example_yaml);
    auto r = run_stove({"plan", "--json", "example.yaml"}, in(dir));
    CHECK(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["format_version"] == 1);
    REQUIRE(j["resource_changes"].size() == 3);
    CHECK(j["resource_changes"][0]["address"] == "cloud_space[\"My VDC\"]");
    CHECK(j["resource_changes"][1]["address"] == "cloud_space[\"My VDC\"].machine[\"drupal\"]");
    CHECK(j["resource_changes"][2]["address"] == "bucket[\"my_bucket\"]");
    for (const auto& c : j["resource_changes"]) {
      CHECK(c["actions"] == nlohmann::json::array({"create"}));
      CHECK(c["before"].is_null());
    }
    CHECK(j["summary"]["add"] == 3);
    CHECK(j["state"]["path"] == "state/example.json");
    CHECK(j["state"]["exists"] == false);
  }

  TEST_CASE("a state that matches the file gives no changes and exit 0") {
    TempDir dir;
    dir.write("example.yaml", k_example_yaml);
    write_example_state((dir / "state" / "example.json").string());
    std::string before = read_file(dir / "state" / "example.json");
    auto r = run_stove({"plan", "-refresh=false", "--detailed-exitcode", "example.yaml"}, in(dir));
    CHECK(r.exit_code == 0);
    CHECK(r.out == "No changes. The infrastructure matches the file and the state.\n");
    CHECK(read_file(dir / "state" / "example.json") == before);
  }

  TEST_CASE("an edited file plans an in-place update against the state") {
    TempDir dir;
    std::string edited = k_example_yaml;
    edited.replace(edited.find("memory: 1024"), 12, "memory: 2048");
    dir.write("example.yaml", edited);
    write_example_state((dir / "custom.json").string());
    auto r = run_stove(
        {"plan", "--refresh=false", "--detailed-exitcode", "--state", "custom.json", "example.yaml"},
        in(dir));
    CHECK(r.exit_code == 2);
    CHECK(r.out == R"(Stove will perform the following actions:

  # cloud_space["My VDC"].machine["drupal"] will be updated in-place
  ~ machine "drupal" {
      ~ memory = 1024 -> 2048
        # (6 unchanged attributes hidden)
    }

Plan: 0 to add, 1 to change, 0 to destroy.
)");
  }

  TEST_CASE("a saved plan is shown as it was planned, terraform's -out spelling works") {
    TempDir dir;
    dir.write("example.yaml", k_example_yaml);
    auto planned = run_stove({"plan", "-out=my.plan", "example.yaml"}, in(dir));
    CHECK(planned.exit_code == 0);
    CHECK(planned.out.ends_with("\nSaved the plan to my.plan. To carry it out exactly, run: "
                                "stove apply my.plan\n"));
    auto shown = run_stove({"show", "my.plan"}, in(dir));
    CHECK(shown.exit_code == 0);
    CHECK(shown.out.starts_with(
        "Saved plan for example.yaml, made against state/example.json (no state yet).\n\n"));
    CHECK(shown.out.find("Plan: 3 to add, 0 to change, 0 to destroy.") != std::string::npos);
    auto json = run_stove({"show", "--json", "my.plan"}, in(dir));
    CHECK(json.exit_code == 0);
    CHECK(nlohmann::json::parse(json.out) == nlohmann::json::parse(read_file(dir / "my.plan")));
    auto separate = run_stove({"plan", "-out", "other.plan", "example.yaml"}, in(dir));
    CHECK(separate.exit_code == 0);
    CHECK(std::filesystem::exists(dir / "other.plan"));
  }

  TEST_CASE("a state from a newer stove is refused") {
    TempDir dir;
    dir.write("example.yaml", k_example_yaml);
    dir.write("state/example.json",
              R"({"format_version": 99, "serial": 1, "lineage": "x", "resources": []})");
    auto r = run_stove({"plan", "example.yaml"}, in(dir));
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("state/example.json") != std::string::npos);
    CHECK(r.err.find("newer") != std::string::npos);
    CHECK(r.out.empty());
  }

  TEST_CASE("prevent_destroy turns a replacing plan into an error") {
    TempDir dir;
    std::string edited = k_example_yaml;
    edited.replace(edited.find("image_id: 12"), 12, "image_id: 13, lifecycle: {prevent_destroy: true}");
    dir.write("example.yaml", edited);
    write_example_state((dir / "state" / "example.json").string());
    auto r = run_stove({"plan", "--refresh=false", "example.yaml"}, in(dir));
    CHECK(r.exit_code == 1);
    CHECK(r.err == std::string(k_sandbox_note) +
                   "example.yaml:5:7: error: cloud_space[\"My VDC\"].machine[\"drupal\"] has "
                   "lifecycle.prevent_destroy set, but this plan would replace it (image_id "
                   "cannot change in place); change the file so that it can be updated in place, "
                   "or remove prevent_destroy\n");
  }
}

TEST_SUITE("stove state") {
  TEST_CASE("list and show read the state") {
    TempDir dir;
    dir.write("example.yaml", k_example_yaml);
    write_example_state((dir / "state" / "example.json").string());
    auto list = run_stove({"state", "list"}, in(dir));
    CHECK(list.exit_code == 0);
    CHECK(list.out == "cloud_space[\"My VDC\"]\ncloud_space[\"My VDC\"].machine[\"drupal\"]\n"
                      "bucket[\"my_bucket\"]\n");
    auto show = run_stove({"state", "show", "-f", "example.yaml", "bucket.my_bucket"}, in(dir));
    CHECK(show.exit_code == 0);
    CHECK(show.out.starts_with("# bucket[\"my_bucket\"]\nkind         = bucket\n"));
    CHECK(show.out.find("remote_id    = my_bucket\n") != std::string::npos);
    auto json = run_stove({"state", "show", "--json", R"(cloud_space["My VDC"].machine["drupal"])"},
                          in(dir));
    CHECK(json.exit_code == 0);
    CHECK(nlohmann::json::parse(json.out)["spec"]["memory"] == 1024);
  }

  TEST_CASE("unknown addresses and missing state files are errors") {
    TempDir dir;
    write_example_state((dir / "state" / "example.json").string());
    auto missing = run_stove({"state", "show", "bucket.my_buckt"}, in(dir));
    CHECK(missing.exit_code == 1);
    CHECK(missing.err == "stove: error: state/example.json has no resource bucket[\"my_buckt\"]; "
                         "did you mean \"bucket[\"my_bucket\"]\"?\n");
    auto bad = run_stove({"state", "show", "vm.x"}, in(dir));
    CHECK(bad.exit_code == 1);
    CHECK(bad.err.starts_with("stove: error: bad address \"vm.x\": unknown resource kind"));
    auto none = run_stove({"state", "list", "--state", "nope.json"}, in(dir));
    CHECK(none.exit_code == 1);
    CHECK(none.err == "stove: error: nope.json: no such state file\n");
  }
}

TEST_SUITE("stove schema") {
  TEST_CASE("the declarations are printed for people and for machines") {
    auto human = run_stove({"schema", "machine"});
    CHECK(human.exit_code == 0);
    CHECK(human.out.find("disk_boot_size") != std::string::npos);
    CHECK(human.out.find("grows in place, shrinking replaces") != std::string::npos);
    auto json = run_stove({"schema", "--json"});
    CHECK(json.exit_code == 0);
    auto j = nlohmann::json::parse(json.out);
    REQUIRE(j.size() == 4);
    CHECK(j[1]["kind"] == "machine");
    CHECK(j[1]["fields"][3]["name"] == "memory");
    CHECK(j[1]["fields"][3]["even"] == true);
    auto unknown = run_stove({"schema", "vm"});
    CHECK(unknown.exit_code == 1);
    CHECK(unknown.err == "stove: error: unknown kind \"vm\"\n");
  }

  TEST_CASE("each kind's actions are printed for people and for machines") {
    auto human = run_stove({"schema", "machine"});
    CHECK(human.exit_code == 0);
    CHECK(human.out.find("\n  actions (stove exec):\n  start            Power the machine on") !=
          std::string::npos);
    CHECK(human.out.find("     --param force=true|false (default false): Pull the plug") !=
          std::string::npos);
    auto backup = run_stove({"schema", "bacula"});
    CHECK(backup.out.find("--param level=Full|Incremental|Differential (optional): The backup "
                          "level; default: the job's own level.") != std::string::npos);
    auto bucket = run_stove({"schema", "bucket"});
    CHECK(bucket.out.find("\n  actions (stove exec): none\n") != std::string::npos);
    auto j = nlohmann::json::parse(run_stove({"schema", "--json"}).out);
    CHECK(j[0]["actions"] == nlohmann::json::array());
    CHECK(j[1]["actions"][2]["name"] == "reboot");
    CHECK(j[2]["actions"][0]["params"][0]["name"] == "level");
  }
}

TEST_SUITE("stove exec") {
  TEST_CASE("exec needs FILE, ADDRESS and ACTION, and checks them before touching the state") {
    TempDir dir;
    dir.write("example.json", k_example_json);
    auto missing = run_stove({"exec", "example.json", "bucket.my_bucket"}, in(dir));
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.starts_with("stove: error: ACTION is required"));
    auto no_actions = run_stove({"exec", "example.json", "bucket.my_bucket", "start"}, in(dir));
    CHECK(no_actions.exit_code == 1);
    CHECK(no_actions.err == "stove: error: bucket has no actions (\"start\" asked for)\n");
    CHECK_FALSE(std::filesystem::exists(dir / "state"));
    // With no state yet: nothing to act on.
    auto no_state = run_stove(
        {"exec", "example.json", R"(cloud_space["My VDC"].machine["drupal"])", "stop"}, in(dir));
    CHECK(no_state.exit_code == 1);
    CHECK(no_state.err ==
          "stove: error: state/example.json: no such state file; stove exec acts on what stove "
          "apply made\n");
    CHECK(no_state.out.empty());
    CHECK_FALSE(std::filesystem::exists(dir / "state"));  // not even a lock file
    auto no_file = run_stove(
        {"exec", "nope.yaml", R"(cloud_space["My VDC"].machine["drupal"])", "stop"}, in(dir));
    CHECK(no_file.exit_code == 1);
    CHECK(no_file.err == "stove: error: nope.yaml: cannot read: No such file or directory\n");
    CHECK_FALSE(std::filesystem::exists(dir / "state"));
  }

  TEST_CASE("exec refuses a resource whose create never completed") {
    TempDir dir;
    dir.write("example.json", k_example_json);
    write_example_state((dir / "state" / "example.json").string());
    auto state = stove::load_state((dir / "state" / "example.json").string());
    state.resources[1].remote_id.clear();
    stove::write_state((dir / "state" / "example.json").string(), state);
    const std::string before = read_file(dir / "state" / "example.json");
    auto uncreated = run_stove(
        {"exec", "example.json", R"(cloud_space["My VDC"].machine["drupal"])", "start"}, in(dir));
    CHECK(uncreated.exit_code == 1);
    CHECK(uncreated.err == "stove: error: cloud_space[\"My VDC\"].machine[\"drupal\"] was never "
                           "created (its create did not complete); run stove apply first\n");
    CHECK(uncreated.out.empty());
    CHECK(read_file(dir / "state" / "example.json") == before);
  }
}

TEST_SUITE("stove import") {
  TEST_CASE("import needs FILE, ADDRESS and REMOTE_ID, a file, and the parent in the state") {
    TempDir dir;
    dir.write("example.json", k_example_json);
    auto missing = run_stove({"import", "example.json", "bucket.my_bucket"}, in(dir));
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.starts_with("stove: error: REMOTE_ID is required"));
    auto no_file = run_stove({"import", "nope.yaml", "bucket.my_bucket", "my_bucket"}, in(dir));
    CHECK(no_file.exit_code == 1);
    CHECK(no_file.err == "stove: error: nope.yaml: cannot read: No such file or directory\n");
    CHECK_FALSE(std::filesystem::exists(dir / "state"));
    auto help = run_stove({"import", "--help"});
    CHECK(help.exit_code == 0);
    CHECK(help.out.find("Exit status: 0 imported, 1 error") != std::string::npos);

    // With no state yet, a machine has no cloud space to go into.
    auto orphan = run_stove(
        {"import", "example.json", R"(cloud_space["My VDC"].machine["drupal"])", "1"}, in(dir));
    CHECK(orphan.exit_code == 1);
    CHECK(orphan.out.empty());
    CHECK(orphan.err == "stove: error: cloud_space[\"My VDC\"].machine[\"drupal\"]: its parent "
                        "cloud_space[\"My VDC\"] is not in the state; import its parent first\n");
    CHECK_FALSE(std::filesystem::exists(dir / "state" / "example.json"));
  }

  TEST_CASE("import of an object the embedded sandbox does not have exits 1 and writes no state") {
    TempDir dir;
    dir.write("example.json", k_example_json);
    auto r =
        run_stove({"--no-color", "import", "example.json", "s3.my_bucket", "my_bucket"}, in(dir));
    CHECK(r.exit_code == 1);
    CHECK(r.out == "bucket[\"my_bucket\"]: Importing from ID \"my_bucket\"...\n");
    CHECK(r.err == "stove: note: the file declares no providers: using the embedded sandbox "
                   "cloud\nstove: error: bucket[\"my_bucket\"]: no bucket with id \"my_bucket\" "
                   "at provider \"sandbox\"\n");
    CHECK_FALSE(std::filesystem::exists(dir / "state" / "example.json"));
  }
}
