// Stove's Bacula against the real one. Debian's bacula-director (9.6) ships
// the director, bacula-dir, and bdirjson, the tool Bacularis runs to read
// the director's configuration (GET config/dir/TYPE/NAME is bdirjson -r TYPE
// -n NAME -R). These tests check that:
//   - every Run directive reads, in stove and the sandbox, as the real
//     director reads it, and what stove's checker refuses the director
//     refuses too;
//   - an estate applied to the sandbox exports as a bacula-dir.conf that
//     bacula-dir -t loads, and for every resource the sandbox's answer is
//     what bdirjson prints, shapes and all;
//   - what the sandbox refuses, bdirjson -t refuses.
// The tests fail, and do not skip, when the binaries are missing (.ci/deps
// installs bacula-director, bacula-director-sqlite3 and sqlite3).

#include "http/client.hpp"
#include "model/bacula_run.hpp"
#include "parse/bacula_schedule.hpp"
#include "support/background.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

using namespace stove;
using namespace stove::test;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string k_install =
    "install Debian's bacula-director, bacula-director-sqlite3 and sqlite3 (.ci/deps does)";

std::string require_tool(const std::string& name) {
  auto found = find_program(name, {"/usr/sbin", "/sbin"});
  REQUIRE_MESSAGE(found.has_value(), name, " is not installed: ", k_install);
  return *found;
}

// The schema bacula-dir -t needs its SQLite catalog to have.
const fs::path k_catalog_schema = "/usr/share/dbconfig-common/data/bacula-director-sqlite3/"
                                  "install/sqlite3";

// Makes the SQLite catalog (bacula.db) a director working in `dir` opens.
void make_catalog(const fs::path& dir) {
  fs::create_directories(dir);
  REQUIRE_MESSAGE(fs::exists(k_catalog_schema), k_catalog_schema.string(),
                  " is missing: ", k_install);
  RunResult made = run_program(
      "/bin/sh", {"-c", fmt::format("'{}' '{}' < '{}'", require_tool("sqlite3"),
                                    (dir / "bacula.db").string(), k_catalog_schema.string())});
  REQUIRE_MESSAGE(made.exit_code == 0, made.err);
}

// bdirjson's JSON for `args` against `conf`.
Json bdirjson(const fs::path& conf, std::vector<std::string> args) {
  args.insert(args.begin(), {"-c", conf.string()});
  RunResult r = run_program(require_tool("bdirjson"), args);
  REQUIRE_MESSAGE(r.exit_code == 0, r.out, r.err);
  Json parsed = Json::parse(r.out, nullptr, false);
  REQUIRE_MESSAGE(!parsed.is_discarded(), r.out);
  return parsed;
}

// What bdirjson -t says of `conf`: its exit code, and its message.
RunResult bdirjson_test(const fs::path& conf) {
  return run_program(require_tool("bdirjson"), {"-t", "-c", conf.string()});
}

// A director with what a Job needs, in `work`, and `extra` resources.
std::string base_config(const fs::path& work, const std::string& extra) {
  return fmt::format(R"(Director {{
  Name = "d"
  Password = "x"
  Messages = "Standard"
  QueryFile = "/etc/bacula/scripts/query.sql"
  WorkingDirectory = "{0}"
  PidDirectory = "{0}"
}}
Catalog {{
  Name = "MyCatalog"
  DbName = "bacula"
}}
Messages {{
  Name = "Standard"
}}
Storage {{
  Name = "File1"
  Address = "localhost"
  Password = "x"
  Device = "FileChgr1"
  MediaType = "File1"
}}
Pool {{
  Name = "p"
  PoolType = Backup
}}
Client {{
  Name = "c"
  Address = "a"
  Password = "x"
  Catalog = "MyCatalog"
}}
FileSet {{
  Name = "f"
  Include {{
    File = "/"
  }}
}}
Job {{
  Name = "j"
  Type = Backup
  Client = "c"
  FileSet = "f"
  Pool = "p"
  Storage = "File1"
  Messages = "Standard"
}}
{1})",
                     work.string(), extra);
}

// A Schedule "s" of these Run lines, as Bacularis writes them (as they are).
std::string schedule_of(const std::vector<std::string>& runs) {
  std::string out = "Schedule {\n  Name = \"s\"\n";
  for (const auto& run : runs) {
    out += fmt::format("  Run = {}\n", run);
  }
  return out + "}\n";
}

// Run directives in the forms Bacula's manual, stove's playbooks and
// hand-written configurations use.
const std::vector<std::string> k_runs = {
    "Level=Full sun at 02:00",
    "Level=Incremental mon-sat at 02:00",
    "Full 1st sun at 23:05",
    "Differential 2nd-5th sun at 23:05",
    "Incremental mon-sat at 23:05",
    "Level=Full Pool=p 1st sun at 2:05",
    "Level = Full on 1 jan at 0:00",
    "Level=Full monthly 1st sun at 1:00am",
    "Level=Incremental hourly at 0:15",
    "Level=Full weekly sun at 12:30pm",
    "Level=Full lastday at 23:00",
    "Level=Full 1-31 lastday at 23:00",
    "Level=Full w00-w53 sun at 3:00",
    "Level=Full jan-mar, jul 1-15 at 04:00",
    "Level=Full mon,wed,fri at 01:00",
    "Level=Full Priority=10 SpoolData=yes Accurate=no daily at 03:00",
    "Level=Full MaxRunSchedTime=\"2 hours\" daily at 03:00",
    "Level=Full MaxRunSchedTime=90 at 03:00",
    "level=virtualfull SUN AT 02:00",
    "Level=Full daily",
    "Full sun",
    "daily",
    "hourly",
    "at 12:00am",
    "at 12:00pm",
    "at 1:59pm",
    "Level=Differential 1st-2nd fri jan-mar w01 lastday at 23:59",
    "fri-mon at 1:00",
    "nov-feb at 1:00",
    "30-2 at 1:00",
    "5-5 at 1:00",
    "w52-w01 at 1:00",
    "6th-2nd sat at 1:00",
    "mon wed at 1:00 at 3:00 at 22:00",
    "on 1 15 31 at 4:05",
    "Level=Full on 1-7 sun at 4:05",
    "first sunday january at 5:00",
    "sixth saturday december at 5:00",
    "Level=Full Storage=File1 Messages=Standard FullPool=p IncrementalPool=p "
    "DifferentialPool=p NextPool=p WritePartAfterJob=yes at 6:00",
    "Level=Base tue at 7:07",
};

// Run directives stove's checker refuses; the director must refuse them.
const std::vector<std::string> k_bad_runs = {
    "Level=Full",
    "Full",
    "Level=Full Priority=5",
    "1 15 31 at 4:05",
    "Level=Full 1 at 4:05",
    "Level=Weekly sun at 02:00",
    "Level=Full sundy at 02:00",
    "Level=Full sun at 25:00",
    "Level=Full sun at 2:60",
    "Level=Full sun 02:00",
    "Level=Full 32 at 02:00",
    "Level=Full 0 at 02:00",
    "Level=Full w54 at 02:00",
    "Level=Full mon-mon at 02:00",
    "Level=Full jan-fri at 02:00",
    "Level=Full Priority=high at 02:00",
    "Level=Full SpoolData=maybe at 02:00",
    "Level=Full Bogus=1 at 02:00",
};

// An estate with several machines and backups: excludes, retention, a
// schedule with overrides, one on the last day of the month, one disabled.
std::string estate(const std::string& url) {
  return fmt::format(R"(providers:
  lab:
    type: sandbox
    endpoint: {}
resources:
  - type: cloud_space
    name: prod
    location_id: 1
    machines:
      - name: web 1
        image_id: 12
        memory: 2048
        vcpus: 2
        disk_boot_size: 20
        backups:
          - name: web-nightly
            schedule: Level=Incremental mon-sat at 02:00
            fileset: [/var/www, /etc]
            excludes: [/var/www/cache, /tmp]
            retention_days: 14
          - name: web-weekly
            schedule: Level=Full Priority=5 SpoolData=yes Accurate=yes sun at 03:30
            fileset: [/var/www]
            retention_days: 60
      - name: db
        image_id: 12
        memory: 4096
        vcpus: 2
        disk_boot_size: 40
        backups:
          - name: db-monthly
            schedule: Level=Full Pool=db-monthly-pool 1st sun jan-jun at 23:05
            fileset: [/var/lib/postgresql]
            retention_days: 365
            enabled: false
          - name: db-lastday
            schedule: Level=Differential lastday at 10:00pm
            fileset: [/var/lib/postgresql, /etc/postgresql]
            excludes: [/var/lib/postgresql/tmp]
            retention_days: 31
  - type: cloud_space
    name: staging
    location_id: 1
    machines:
      - name: web 2
        image_id: 12
        memory: 1024
        vcpus: 1
        disk_boot_size: 10
        backups:
          - name: staging-daily
            schedule: daily at 1:15
)",
                     url);
}

// A GET to the sandbox: the reply's body.
Json sandbox_get(const SandboxProcess& sandbox, const std::string& path) {
  httplib::Client client("127.0.0.1", sandbox.port());
  client.set_bearer_token_auth(sandbox.token());
  auto res = client.Get(path);
  REQUIRE(res);
  REQUIRE_MESSAGE(res->status == 200, res->body);
  Json body = Json::parse(res->body, nullptr, false);
  return body.is_discarded() ? Json(res->body) : body;
}

} // namespace

TEST_SUITE("real bacula") {
  TEST_CASE("every Run directive reads in stove as the real director reads it") {
    TempDir dir;
    const fs::path work = dir / "work";
    fs::create_directories(work);
    std::vector<std::string> texts;
    Json expected = Json::array();
    for (const auto& run : k_runs) {
      auto parsed = parse_bacula_run(run);
      REQUIRE_MESSAGE(parsed.has_value(), run);
      expected.push_back(bdirjson_of(*parsed));
      texts.push_back(directive_text(*parsed));
    }
    dir.write("runs.conf", base_config(work, schedule_of(k_runs)));
    Json real = bdirjson(dir / "runs.conf", {"-r", "Schedule", "-n", "s", "-R"}).at("Run");
    REQUIRE(real.size() == k_runs.size());
    for (size_t i = 0; i < k_runs.size(); ++i) {
      CAPTURE(k_runs[i]);
      CHECK(real[i] == expected[i]);
    }
    // The text stove writes for a Run (the sandbox's export, the drift it
    // shows) reads back as the same Run.
    dir.write("texts.conf", base_config(work, schedule_of(texts)));
    Json again = bdirjson(dir / "texts.conf", {"-r", "Schedule", "-n", "s", "-R"}).at("Run");
    REQUIRE(again.size() == texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
      CAPTURE(texts[i]);
      CHECK(again[i] == expected[i]);
    }
  }

  TEST_CASE("a Run directive stove's checker refuses, the real director refuses") {
    TempDir dir;
    fs::create_directories(dir / "work");
    REQUIRE(bdirjson_test(dir.write("ok.conf", base_config(dir / "work", schedule_of(k_runs))))
                .exit_code == 0);
    for (const auto& run : k_bad_runs) {
      CAPTURE(run);
      CHECK(check_bacula_schedule(run).has_value());
      CHECK(bdirjson_test(dir.write("bad.conf", base_config(dir / "work", schedule_of({run}))))
                .exit_code != 0);
    }
  }

  TEST_CASE("an estate applied to the sandbox is a configuration the real director loads, and "
            "every resource reads as bdirjson prints it") {
    TempDir dir;
    SandboxProcess sandbox((dir / "cloud").string(), {"--deploy-delay", "20"});
    const std::string file = dir.write("infra.yaml", estate(sandbox.url()));
    const std::string state = (dir / "infra.state.json").string();
    RunOptions env;
    env.env["STOVE_SANDBOX_TOKEN"] = sandbox.token();
    RunResult applied =
        run_stove({"--no-color", "apply", "--auto-approve", "--state", state, file}, env);
    INFO(applied.out, applied.err);
    REQUIRE(applied.exit_code == 0);
    CHECK(applied.out.find("Apply complete! Resources: 10 added, 0 changed, 0 destroyed.") !=
          std::string::npos);
    // The reads come in bdirjson's shapes, and match what the file says.
    RunResult plan = run_stove({"plan", "--detailed-exitcode", "--state", state, file}, env);
    INFO(plan.out, plan.err);
    CHECK(plan.exit_code == 0);

    // The director's configuration, as the sandbox keeps it.
    std::string conf_text = sandbox_get(sandbox, "/sandbox/admin/bacula/config").get<std::string>();
    const fs::path conf = dir.write("bacula-dir.conf", conf_text);
    Json director = sandbox_get(sandbox, "/api/v3/config/dir/Director").at("output");
    REQUIRE(director.size() == 1);
    make_catalog(director[0].at("Director").at("WorkingDirectory").get<std::string>());

    // A real director loads it.
    RunResult loaded = run_program(require_tool("bacula-dir"), {"-t", "-c", conf.string()});
    INFO(conf_text);
    CHECK_MESSAGE(loaded.exit_code == 0, loaded.out, loaded.err);

    // And for every resource, the sandbox answers what bdirjson prints.
    size_t compared = 0;
    for (const char* type : {"Director", "Catalog", "Messages", "Storage", "Client", "Fileset",
                             "Schedule", "Pool", "Job"}) {
      CAPTURE(type);
      Json listed = sandbox_get(sandbox, fmt::format("/api/v3/config/dir/{}", type)).at("output");
      Json real_list = bdirjson(conf, {"-r", type, "-R"});
      CHECK(listed == real_list);
      for (const auto& item : listed) {
        const std::string name = item.begin().value().at("Name").get<std::string>();
        CAPTURE(name);
        Json answer = sandbox_get(sandbox, fmt::format("/api/v3/config/dir/{}/{}", type,
                                                       http::url_encode(name)))
                          .at("output");
        CHECK(answer == bdirjson(conf, {"-r", type, "-n", name, "-R"}));
        ++compared;
      }
    }
    // 4 fixed resources, 3 Clients, and 5 each of Filesets, Schedules, Pools
    // and Jobs.
    CHECK(compared == 4 + 3 + 5 * 4);
  }

  TEST_CASE("what the sandbox refuses, bdirjson -t refuses") {
    TempDir dir;
    SandboxProcess sandbox((dir / "cloud").string());
    // A configuration the director loads, to which each refused resource is
    // added as Bacularis would write it.
    fs::create_directories(dir / "work");
    const std::string valid = base_config(dir / "work", "");
    httplib::Client client("127.0.0.1", sandbox.port());
    client.set_bearer_token_auth(sandbox.token());
    httplib::Headers headers = {{"X-Baculum-API", "0.4"}};
    struct Case {
      const char* type;
      Json directives;
      const char* text; // the same resource as Bacularis writes it into the file
    };
    const std::vector<Case> cases = {
        {"Client",
         {{"Name", "c2"}, {"Address", "a"}, {"Catalog", "MyCatalog"}},
         "Client {\n  Name = \"c2\"\n  Address = \"a\"\n  Catalog = \"MyCatalog\"\n}\n"},
        {"Pool",
         {{"Name", "p2"}, {"PoolType", "Backup"}, {"VolumeRetention", "30 days"}},
         "Pool {\n  Name = \"p2\"\n  PoolType = \"Backup\"\n  VolumeRetention = \"30 days\"\n}"
         "\n"},
        {"Pool",
         {{"Name", "p3"}, {"PoolType", "Backup"}, {"Bogus", "x"}},
         "Pool {\n  Name = \"p3\"\n  PoolType = \"Backup\"\n  Bogus = \"x\"\n}\n"},
        {"Schedule",
         {{"Name", "s2"}, {"Run", {"Level=Full sundy at 02:00"}}},
         "Schedule {\n  Name = \"s2\"\n  Run = Level=Full sundy at 02:00\n}\n"},
        {"Schedule",
         {{"Name", "s3"}, {"Run", {"Level=Full"}}},
         "Schedule {\n  Name = \"s3\"\n  Run = Level=Full\n}\n"},
        {"Job",
         {{"Name", "j2"}, {"Type", "Backup"}, {"Pool", "nope"}, {"Messages", "Standard"}},
         "Job {\n  Name = \"j2\"\n  Type = Backup\n  Pool = \"nope\"\n  Messages = "
         "\"Standard\"\n}\n"},
        {"Job",
         {{"Name", "j3"}, {"Type", "Backup"}, {"Pool", "p"}, {"Messages", "Standard"}},
         "Job {\n  Name = \"j3\"\n  Type = Backup\n  Pool = \"p\"\n  Messages = "
         "\"Standard\"\n}\n"},
    };
    CHECK(bdirjson_test(dir.write("valid.conf", valid)).exit_code == 0);
    for (const auto& c : cases) {
      CAPTURE(c.text);
      auto res =
          client.Post(fmt::format("/api/v3/config/dir/{}/{}", c.type,
                                  c.directives.at("Name").get<std::string>()),
                      headers, Json{{"config", c.directives.dump()}}.dump(), "application/json");
      REQUIRE(res);
      CHECK(Json::parse(res->body).at("error") == 94);
      CHECK(bdirjson_test(dir.write("refused.conf", valid + c.text)).exit_code != 0);
    }
  }
}
