// The actions kinds declare (`stove exec`), and how their names and
// parameters are checked.

#include "util/error.hpp"
#include "model/kind.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using namespace stove;
using nlohmann::json;

namespace {

std::vector<std::string> action_names(Kind kind) {
  std::vector<std::string> out;
  for (const auto& a : schema_of(kind).actions) {
    out.emplace_back(a.name);
  }
  return out;
}

// The message of the usage error `run` throws.
template <typename F>
std::string usage_error(F run) {
  try {
    run();
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    return e.what();
  }
  FAIL("no error");
  return {};
}

json params(Kind kind, const char* action, const std::vector<std::string>& given) {
  const KindSchema& schema = schema_of(kind);
  return action_params(schema, find_action(schema, action), given);
}

} // namespace

TEST_CASE("actions: machines start, stop and reboot, backups run, the others have none") {
  CHECK(action_names(Kind::machine) == std::vector<std::string>{"start", "stop", "reboot"});
  CHECK(action_names(Kind::backup) == std::vector<std::string>{"run"});
  CHECK(action_names(Kind::cloud_space).empty());
  CHECK(action_names(Kind::bucket).empty());

  const ActionSchema* stop = schema_of(Kind::machine).action("stop");
  REQUIRE(stop != nullptr);
  REQUIRE(stop->params.size() == 1);
  CHECK(stop->params[0].name == "force");
  CHECK(stop->params[0].type == FieldType::boolean);
  CHECK_FALSE(stop->params[0].required);
  CHECK(stop->params[0].default_value == false);
  CHECK(schema_of(Kind::machine).action("reboot")->params.empty());

  const ActionSchema* run = schema_of(Kind::backup).action("run");
  REQUIRE(run != nullptr);
  const ParamSchema* level = run->param("level");
  REQUIRE(level != nullptr);
  CHECK(level->type == FieldType::enumeration);
  CHECK(level->allowed == std::vector<std::string_view>{"Full", "Incremental", "Differential"});
  CHECK(level->default_value.is_null()); // the job's own level
  CHECK(run->param("levle") == nullptr);
}

TEST_CASE("actions: schema JSON lists each kind's actions and their parameters") {
  json machine = schema_to_json(schema_of(Kind::machine));
  REQUIRE(machine["actions"].size() == 3);
  CHECK(machine["actions"][1] ==
        json{{"name", "stop"},
             {"doc", "Power the machine off and wait until it is HALTED; a HALTED machine is "
                     "left as it is."},
             {"params",
              {{{"name", "force"},
                {"type", "boolean"},
                {"required", false},
                {"doc", "Pull the plug instead of asking the guest to shut down."},
                {"default", false}}}}});
  json backup = schema_to_json(schema_of(Kind::backup));
  CHECK(backup["actions"][0]["params"][0]["allowed"] ==
        json::array({"Full", "Incremental", "Differential"}));
  CHECK_FALSE(backup["actions"][0]["params"][0].contains("default"));
  CHECK(schema_to_json(schema_of(Kind::bucket))["actions"] == json::array());
}

TEST_CASE("actions: an unknown action lists the kind's actions with a did-you-mean") {
  const KindSchema& machine = schema_of(Kind::machine);
  CHECK(usage_error([&] { find_action(machine, "stp"); }) ==
        "machine has no action \"stp\"; did you mean \"stop\"? (actions: start, stop, reboot)");
  CHECK(usage_error([&] { find_action(machine, "destroy"); }) ==
        "machine has no action \"destroy\" (actions: start, stop, reboot)");
  CHECK(usage_error([&] { find_action(schema_of(Kind::bucket), "start"); }) ==
        "bucket has no actions (\"start\" asked for)");
  CHECK(find_action(machine, "reboot").name == "reboot");
}

TEST_CASE("actions: parameters are typed, defaulted and checked") {
  CHECK(params(Kind::machine, "stop", {}) == json{{"force", false}});
  CHECK(params(Kind::machine, "stop", {"force=true"}) == json{{"force", true}});
  CHECK(params(Kind::machine, "start", {}) == json::object());
  CHECK(params(Kind::backup, "run", {}) == json::object());
  CHECK(params(Kind::backup, "run", {"level=Full"}) == json{{"level", "Full"}});

  CHECK(usage_error([] { params(Kind::machine, "stop", {"forse=true"}); }) ==
        "machine action \"stop\" has no parameter \"forse\"; did you mean \"force\"? "
        "(parameters: force)");
  CHECK(usage_error([] { params(Kind::machine, "reboot", {"force=true"}); }) ==
        "machine action \"reboot\" takes no parameters, not \"force\"");
  CHECK(usage_error([] { params(Kind::machine, "stop", {"force=yes"}); }) ==
        "stop force=yes: force is true or false");
  CHECK(usage_error([] { params(Kind::backup, "run", {"level=full"}); }) ==
        "run level=full: level is one of Full, Incremental, Differential; did you mean "
        "\"Full\"?");
  CHECK(usage_error([] { params(Kind::backup, "run", {"level=VirtualFull"}); }) ==
        "run level=VirtualFull: level is one of Full, Incremental, Differential");
  CHECK(usage_error([] { params(Kind::backup, "run", {"level"}); }) ==
        "--param \"level\": expected NAME=VALUE");
  CHECK(usage_error([] { params(Kind::backup, "run", {"=Full"}); }) ==
        "--param \"=Full\": expected NAME=VALUE");
  CHECK(usage_error([] {
          params(Kind::backup, "run", {"level=Full", "level=Incremental"});
        }) == "--param level is given twice");
}

TEST_CASE("actions: parameters given as JSON are checked the same way") {
  const KindSchema& machine = schema_of(Kind::machine);
  const ActionSchema& stop = find_action(machine, "stop");
  CHECK(action_params(machine, stop, json{{"force", true}}) == json{{"force", true}});
  CHECK(action_params(machine, stop, json()) == json{{"force", false}});
  CHECK(usage_error([&] {
          action_params(machine, stop, json{{"force", "true"}});
        }) == "stop force=\"true\": force is true or false");
  CHECK(usage_error([&] { action_params(machine, stop, json::array()); }) ==
        "the parameters of stop are an object of name -> value");
  const KindSchema& backup = schema_of(Kind::backup);
  CHECK(usage_error([&] {
          action_params(backup, find_action(backup, "run"), json{{"level", "Ful"}});
        }) == "run level=\"Ful\": level is one of Full, Incremental, Differential; did you mean "
              "\"Full\"?");
}

TEST_CASE("actions: a required parameter must be given") {
  KindSchema schema = schema_of(Kind::backup);
  ActionSchema restore{"restore", "Restore files.", {}};
  ParamSchema where;
  where.name = "where";
  where.required = true;
  restore.params.push_back(where);
  CHECK(usage_error([&] { action_params(schema, restore, std::vector<std::string>{}); }) ==
        "backup action \"restore\" needs --param where=VALUE (where is a string)");
  CHECK(action_params(schema, restore, std::vector<std::string>{"where=/tmp/x=y"}) ==
        json{{"where", "/tmp/x=y"}});
}
