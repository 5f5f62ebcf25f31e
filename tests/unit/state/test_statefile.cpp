#include "util/error.hpp"
#include "state/statefile.hpp"
#include "stove/version.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <regex>
#include <set>
#include <string>
#include <vector>

using nlohmann::json;
using stove::Error;
using stove::ErrorKind;
using stove::ResourceState;
using stove::ResourceStatus;
using stove::State;
using stove::test::TempDir;

namespace {

// A state using every field, with text that needs escaping and numbers of
// every JSON kind.
State sample_state() {
  State state;
  state.serial = 3;
  state.lineage = "2b0c6c2e-9d1f-4a3b-8c5d-6e7f8091a2b3";
  state.stove_version = "0.1.0";

  ResourceState space;
  space.address = R"(cloud_space["My VDC"])";
  space.kind = "cloud_space";
  space.provider = "sandbox";
  space.remote_id = "7";
  space.spec = {{"name", "My VDC"}, {"location", "be-g8-3"}};
  space.observed = {{"status", "DEPLOYED"}, {"public_ip", "192.0.2.10"}};
  space.status = ResourceStatus::completed;
  space.created_at = "2026-11-22T02:26:15Z";
  space.updated_at = "2026-11-22T02:26:15Z";

  ResourceState machine;
  machine.address = R"(cloud_space["My VDC"].machine["drupal"])";
  machine.kind = "machine";
  machine.provider = "sandbox";
  machine.remote_id = "42";
  machine.parent = space.address;
  machine.spec = {
      {"name", "drupal"},
      {"image_id", 12},
      {"memory", 1024},
      {"vcpus", 1},
      {"disk_boot_size", 10},
      {"description", "line one\nline \"two\"\ttab \\ \x01 caf\u00e9 \u2713 \U0001F600"},
      {"labels", {{"team", "web"}}},
      {"ratio", 0.1},
      {"offset", -3},
      {"nested", json::array({1, json::array({2, json::object()}), nullptr, true})}};
  machine.observed = {{"status", "RUNNING"}};
  machine.status = ResourceStatus::processing;
  machine.dependencies = {space.address, R"(cloud_space["My VDC"].disk["data"])"};
  machine.created_at = "2026-11-22T02:26:15Z";
  machine.updated_at = "2026-11-22T02:30:00Z";

  ResourceState failed;
  failed.address = R"(cloud_space["My VDC"].disk["data"])";
  failed.kind = "disk";
  failed.parent = space.address;
  failed.spec = json::object();
  failed.status = ResourceStatus::failed;

  state.resources = {space, machine, failed};
  state.outputs = {{"ip", "192.0.2.10"}, {"ports", {80, 443}}};
  return state;
}

// A minimal valid document around `resources` (a JSON array text).
std::string with_resources(const std::string& resources) {
  return R"({"format_version": 1, "serial": 1, "lineage": "l", "resources": )" + resources + "}";
}

// The message of the stove::Error that `f` throws; checks its kind.
std::string error_of(const std::function<void()>& f, ErrorKind kind = ErrorKind::state) {
  try {
    f();
  } catch (const Error& e) {
    CHECK(e.kind() == kind);
    return e.what();
  }
  FAIL("no stove::Error was thrown");
  return {};
}

std::string parse_error(const std::string& text) {
  return error_of([&] { stove::parse_state("state/x.json", text); });
}

void check_same(const State& a, const State& b) {
  CHECK(a.format_version == b.format_version);
  CHECK(a.serial == b.serial);
  CHECK(a.lineage == b.lineage);
  CHECK(a.stove_version == b.stove_version);
  CHECK(a.outputs == b.outputs);
  REQUIRE(a.resources.size() == b.resources.size());
  for (std::size_t i = 0; i < a.resources.size(); ++i) {
    const auto& x = a.resources[i];
    const auto& y = b.resources[i];
    CAPTURE(i);
    CHECK(x.address == y.address);
    CHECK(x.kind == y.kind);
    CHECK(x.provider == y.provider);
    CHECK(x.remote_id == y.remote_id);
    CHECK(x.parent == y.parent);
    CHECK(x.spec == y.spec);
    CHECK(x.observed == y.observed);
    CHECK(x.status == y.status);
    CHECK(x.dependencies == y.dependencies);
    CHECK(x.created_at == y.created_at);
    CHECK(x.updated_at == y.updated_at);
  }
}

bool is_uuid_v4(const std::string& text) {
  static const std::regex k_uuid(
      "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  return std::regex_match(text, k_uuid);
}

} // namespace

TEST_SUITE("State file") {

  TEST_CASE("serializing, parsing and serializing again gives the same bytes") {
    std::string first = stove::serialize_state(sample_state());
    std::string second = stove::serialize_state(stove::parse_state("x.json", first));
    CHECK(first == second);
    CHECK(first.back() == '\n');
  }

  TEST_CASE("parsing a serialized state preserves every field") {
    State original = sample_state();
    State parsed = stove::parse_state("x.json", stove::serialize_state(original));
    check_same(parsed, original);
    CHECK(parsed.exists);
    CHECK(parsed.resources[1].spec["offset"].is_number_integer());
    CHECK(parsed.resources[1].spec["ratio"].is_number_float());
  }

  TEST_CASE("serialization has the documented layout") {
    State state;
    state.serial = 3;
    state.lineage = "2b0c6c2e-9d1f-4a3b-8c5d-6e7f8091a2b3";
    state.stove_version = "0.1.0";
    ResourceState machine;
    machine.address = R"(cloud_space["My VDC"].machine["drupal"])";
    machine.kind = "machine";
    machine.provider = "sandbox";
    machine.remote_id = "42";
    machine.parent = R"(cloud_space["My VDC"])";
    machine.spec = {{"name", "drupal"}, {"memory", 1024}, {"labels", json::object()}};
    machine.observed = {{"status", "RUNNING"}};
    machine.dependencies = {machine.parent};
    machine.created_at = "2026-11-22T02:26:15Z";
    machine.updated_at = "2026-11-22T02:26:15Z";
    state.resources.push_back(machine);

    CHECK(stove::serialize_state(state) == R"({
  "format_version": 1,
  "serial": 3,
  "lineage": "2b0c6c2e-9d1f-4a3b-8c5d-6e7f8091a2b3",
  "stove_version": "0.1.0",
  "resources": [
    {
      "address": "cloud_space[\"My VDC\"].machine[\"drupal\"]",
      "kind": "machine",
      "provider": "sandbox",
      "remote_id": "42",
      "parent": "cloud_space[\"My VDC\"]",
      "spec": {
        "labels": {},
        "memory": 1024,
        "name": "drupal"
      },
      "observed": {
        "status": "RUNNING"
      },
      "status": "completed",
      "dependencies": [
        "cloud_space[\"My VDC\"]"
      ],
      "created_at": "2026-11-22T02:26:15Z",
      "updated_at": "2026-11-22T02:26:15Z"
    }
  ],
  "outputs": {}
}
)");
  }

  TEST_CASE("serialization is what nlohmann writes for the same document") {
    State state = sample_state();
    nlohmann::ordered_json document;
    document["format_version"] = stove::k_state_format_version;
    document["serial"] = state.serial;
    document["lineage"] = state.lineage;
    document["stove_version"] = state.stove_version;
    document["resources"] = nlohmann::ordered_json::array();
    for (const auto& r : state.resources) {
      nlohmann::ordered_json resource;
      resource["address"] = r.address;
      resource["kind"] = r.kind;
      resource["provider"] = r.provider;
      resource["remote_id"] = r.remote_id;
      resource["parent"] = r.parent;
      resource["spec"] = r.spec;
      resource["observed"] = r.observed;
      resource["status"] = std::string(stove::to_string(r.status));
      resource["dependencies"] = r.dependencies;
      resource["created_at"] = r.created_at;
      resource["updated_at"] = r.updated_at;
      document["resources"].push_back(resource);
    }
    document["outputs"] = state.outputs;
    CHECK(stove::serialize_state(state) == document.dump(2) + "\n");
  }

  TEST_CASE("an empty state serializes with empty arrays and objects") {
    State state;
    state.serial = 1;
    state.lineage = "l";
    CHECK(stove::serialize_state(state) == R"({
  "format_version": 1,
  "serial": 1,
  "lineage": "l",
  "stove_version": "",
  "resources": [],
  "outputs": {}
}
)");
  }

  TEST_CASE("serialize_state refuses a state it could not read back") {
    auto refusal = [](const std::function<void(State&)>& spoil) {
      State state = sample_state();
      spoil(state);
      return error_of([&] { stove::serialize_state(state); }, ErrorKind::internal);
    };
    CHECK(refusal([](State& s) { s.resources[2].address = s.resources[0].address; }) ==
          R"(cannot serialise state: resource 2 ("cloud_space[\"My VDC\"]"): duplicate address, )"
          "also used by resource 0");
    CHECK(refusal([](State& s) { s.resources[1].address.clear(); }) ==
          R"(cannot serialise state: resource 1: field "address" is empty)");
    CHECK(
        refusal([](State& s) { s.resources[0].spec = json::array(); }) ==
        R"(cannot serialise state: resource 0 ("cloud_space[\"My VDC\"]"): field "spec" is not an object)");
    CHECK(
        refusal([](State& s) { s.resources[0].kind = "bad \xff"; }) ==
        R"(cannot serialise state: resource 0 ("cloud_space[\"My VDC\"]"): field "kind" is not valid UTF-8)");
    CHECK(refusal([](State& s) { s.lineage = "\xc3"; }) ==
          R"(cannot serialise state: top level: field "lineage" is not valid UTF-8)");
    CHECK(refusal([](State& s) { s.outputs = nullptr; }) ==
          R"(cannot serialise state: top level: field "outputs" is not an object)");
    CHECK(
        refusal([](State& s) { s.resources[0].observed["x"] = "\xed\xa0\x80"; })
            .starts_with(
                R"(cannot serialise state: resource 0 ("cloud_space[\"My VDC\"]"): field "observed": )"));
  }

  TEST_CASE("a missing file loads as an empty state that does not exist yet") {
    TempDir dir;
    for (auto path : {dir / "absent.json", dir / "no" / "such" / "dir.json"}) {
      State state = stove::load_state(path.string());
      CHECK_FALSE(state.exists);
      CHECK(state.serial == 0);
      CHECK(state.lineage.empty());
      CHECK(state.resources.empty());
      CHECK(state.format_version == stove::k_state_format_version);
    }
  }

  TEST_CASE("load_state reads back what write_state wrote") {
    TempDir dir;
    auto path = (dir / "state" / "quickstart.json").string();
    State state = sample_state();
    stove::write_state(path, state);
    State loaded = stove::load_state(path);
    CHECK(loaded.exists);
    check_same(loaded, state);
    CHECK(stove::test::read_file(path) == stove::serialize_state(state));
  }

  TEST_CASE("load_state streams files larger than its read buffer") {
    TempDir dir;
    State state;
    state.lineage = "l";
    for (int i = 0; i < 3000; ++i) {
      ResourceState r;
      r.address = fmt::format(R"(cloud_space["space"].machine["m-{}"])", i);
      r.kind = "machine";
      r.parent = R"(cloud_space["space"])";
      r.spec = {{"name", fmt::format("m-{}", i)}, {"memory", 1024 + i}, {"labels", {{"n", i}}}};
      r.dependencies = {r.parent};
      state.resources.push_back(r);
    }
    auto path = (dir / "big.json").string();
    stove::write_state(path, state);
    REQUIRE(std::filesystem::file_size(path) > 1024 * 1024);
    check_same(stove::load_state(path), state);
  }

  TEST_CASE("write_state numbers the first write 1 and gives it a lineage") {
    TempDir dir;
    auto path = (dir / "s.json").string();
    State state;
    stove::write_state(path, state);
    CHECK(state.serial == 1);
    CHECK(is_uuid_v4(state.lineage));
    CHECK(state.stove_version == stove::k_version);
    CHECK(state.exists);
    State loaded = stove::load_state(path);
    CHECK(loaded.serial == 1);
    CHECK(loaded.lineage == state.lineage);
    CHECK(loaded.stove_version == stove::k_version);
  }

  TEST_CASE("write_state bumps the serial by one and keeps the lineage") {
    TempDir dir;
    auto path = (dir / "s.json").string();
    State state = sample_state();
    state.stove_version = "0.0.1";
    stove::write_state(path, state);
    CHECK(state.serial == 4);
    CHECK(state.lineage == sample_state().lineage);
    CHECK(state.stove_version == stove::k_version);

    State loaded = stove::load_state(path);
    stove::write_state(path, loaded);
    CHECK(loaded.serial == 5);
    CHECK(stove::load_state(path).serial == 5);
    CHECK(stove::load_state(path).lineage == sample_state().lineage);
  }

  TEST_CASE("write_state keeps the file it replaces as PATH.backup") {
    TempDir dir;
    auto path = (dir / "s.json").string();
    State state = sample_state();
    stove::write_state(path, state);
    CHECK_FALSE(std::filesystem::exists(path + ".backup"));
    std::string first = stove::test::read_file(path);

    state.resources.pop_back();
    stove::write_state(path, state);
    CHECK(stove::test::read_file(path + ".backup") == first);
    CHECK(stove::load_state(path + ".backup").serial == 4);
    CHECK(stove::load_state(path).serial == 5);
  }

  TEST_CASE("a failed write_state writes nothing and never reuses the serial it took") {
    TempDir dir;
    std::string blocker = dir.write("file", "not a directory");
    auto path = blocker + "/s.json";
    State state = sample_state();
    std::string message = error_of([&] { stove::write_state(path, state); }, ErrorKind::io);
    CHECK(message == path + ": cannot write: Not a directory");
    CHECK(stove::test::read_file(blocker) == "not a directory");
    CHECK(state.serial == 4);

    auto good = (dir / "s.json").string();
    stove::write_state(good, state);
    CHECK(state.serial == 5);
    CHECK(stove::load_state(good).serial == 5);
  }

  TEST_CASE("a newer format_version is refused with an upgrade hint") {
    std::string expected = fmt::format(
        "state/x.json:1:20: error: state format_version 2 is newer than this stove ({}) "
        "understands (1); upgrade stove",
        stove::k_version);
    CHECK(parse_error(with_resources("[]").replace(19, 1, "2")) == expected);

    // Checked before anything else, wherever it is, so that a future layout
    // still gets this message rather than a complaint about its fields.
    CHECK(parse_error(
              "{\"resources\": {\"new\": [1, 2]},\n \"serial\": \"big\", \"format_version\": 7}") ==
          fmt::format("state/x.json:2:37: error: state format_version 7 is newer than this stove "
                      "({}) understands (1); upgrade stove",
                      stove::k_version));
  }

  TEST_CASE("format_version must be a positive integer") {
    for (std::string value : {"0", "-1", "1.0", "\"1\"", "null", "[1]", "{}"}) {
      CAPTURE(value);
      CHECK(parse_error("{\"format_version\": " + value + ", \"serial\": 1}") ==
            R"(state/x.json:1:20: error: field "format_version" must be a positive integer)");
    }
    CHECK(parse_error(R"({"serial": 1, "lineage": "l", "resources": []})") ==
          R"(state/x.json: error: missing required field "format_version")");
  }

  TEST_CASE("malformed JSON is reported with its line and column") {
    CHECK(parse_error("{\n  \"format_version\": 1,\n  \"serial\": tru\n}") ==
          "state/x.json:3:16: error: invalid JSON: syntax error while parsing value - invalid "
          "literal; last read: '\"serial\": tru<U+000A>'");
    CHECK(parse_error("{\"format_version\": 1,, }") ==
          "state/x.json:1:22: error: invalid JSON: syntax error while parsing object key - "
          "unexpected ','; expected string literal");
    // Columns count characters: "é" and "✓" are one each.
    CHECK(parse_error("{\"lineage\": \"caf\u00e9 \u2713\" x}") ==
          "state/x.json:1:22: error: invalid JSON: syntax error while parsing object - invalid "
          "literal; last read: '\"caf\u00e9 \u2713\" x'; expected '}'");
    CHECK(parse_error("{\"format_version\": 1") ==
          "state/x.json:1:21: error: invalid JSON: syntax error while parsing object - unexpected "
          "end of input; expected '}'");
    CHECK(parse_error(with_resources("[]") + " []") ==
          "state/x.json:1:69: error: invalid JSON: syntax error while parsing value - unexpected "
          "'['; expected end of input");
  }

  TEST_CASE("an empty state file is reported as empty") {
    CHECK(parse_error("") == "state/x.json: error: state file is empty");
    CHECK(parse_error(" \n\t\n") == "state/x.json: error: state file is empty");
    TempDir dir;
    auto path = dir.write("empty.json", "");
    CHECK(error_of([&] { stove::load_state(path); }) == path + ": error: state file is empty");
  }

  TEST_CASE("the state must be a JSON object") {
    CHECK(parse_error("\n  [1, 2]") ==
          "state/x.json:2:3: error: a state file must hold a JSON object");
    CHECK(parse_error("\"text\"") ==
          "state/x.json:1:1: error: a state file must hold a JSON object");
  }

  TEST_CASE("mistyped top-level fields are named with their position") {
    CHECK(parse_error(R"({"format_version": 1, "serial": -1, "lineage": "l", "resources": []})") ==
          R"(state/x.json:1:33: error: field "serial" must be a non-negative integer)");
    CHECK(parse_error(R"({"format_version": 1, "serial": 1.5, "lineage": "l", "resources": []})") ==
          R"(state/x.json:1:33: error: field "serial" must be a non-negative integer)");
    CHECK(parse_error(R"({"format_version": 1, "serial": 1, "lineage": 5, "resources": []})") ==
          R"(state/x.json:1:47: error: field "lineage" must be a string)");
    CHECK(parse_error(R"({"format_version": 1, "serial": 1, "lineage": "l", "resources": {}})") ==
          R"(state/x.json:1:65: error: field "resources" must be an array)");
    CHECK(parse_error(R"({"format_version": 1, "serial": 1, "lineage": "l", "resources": [], )"
                      R"("outputs": []})") ==
          R"(state/x.json:1:80: error: field "outputs" must be an object)");
    CHECK(
        parse_error(R"({"format_version": 1, "serial": 1, "stove_version": null, "lineage": "l", )"
                    R"("resources": []})") ==
        R"(state/x.json:1:53: error: field "stove_version" must be a string)");
    CHECK(parse_error(R"({"format_version": 1, "serial": 1, "serial": 2, "lineage": "l", )"
                      R"("resources": []})") ==
          R"(state/x.json:1:36: error: field "serial" appears twice)");
  }

  TEST_CASE("missing top-level fields are named") {
    CHECK(parse_error(R"({"format_version": 1, "lineage": "l", "resources": []})") ==
          R"(state/x.json: error: missing required field "serial")");
    CHECK(parse_error(R"({"format_version": 1, "serial": 0, "resources": []})") ==
          R"(state/x.json: error: missing required field "lineage")");
    CHECK(parse_error(R"({"format_version": 1, "serial": 0, "lineage": ""})") ==
          R"(state/x.json: error: missing required field "resources")");
  }

  TEST_CASE("resource problems name the resource's index and address") {
    const std::string good = R"({"address": "a", "kind": "k", "spec": {}, "status": "completed"})";
    auto second = [&](const std::string& resource) {
      return parse_error(with_resources("[\n  " + good + ",\n  " + resource + "\n]"));
    };
    CHECK(
        second(
            R"({"address": "cloud_space[\"a\"]", "kind": "k", "spec": [], "status": "failed"})") ==
        R"(state/x.json:3:58: error: resource 1 ("cloud_space[\"a\"]"): field "spec" must be an object)");
    // The address may come after the problem; it still names the resource.
    CHECK(second(R"({"spec": 1, "kind": "k", "status": "failed", "address": "b"})") ==
          R"(state/x.json:3:12: error: resource 1 ("b"): field "spec" must be an object)");
    CHECK(second(R"({"address": "b", "kind": ["k"], "spec": {}, "status": "failed"})") ==
          R"(state/x.json:3:28: error: resource 1 ("b"): field "kind" must be a string)");
    CHECK(second(R"({"address": "b", "kind": "k", "spec": {}, "status": "done"})") ==
          R"(state/x.json:3:55: error: resource 1 ("b"): field "status" must be "processing", )"
          R"("completed" or "failed", not "done")");
    CHECK(second(R"({"address": "b", "kind": "k", "spec": {}, "status": 1})") ==
          R"(state/x.json:3:55: error: resource 1 ("b"): field "status" must be a string)");
    CHECK(
        second(
            R"({"address": "b", "kind": "k", "spec": {}, "status": "failed", "observed": null})") ==
        R"(state/x.json:3:77: error: resource 1 ("b"): field "observed" must be an object)");
    CHECK(
        second(
            R"({"address": "b", "kind": "k", "spec": {}, "status": "failed", "dependencies": ["a", 2]})") ==
        R"(state/x.json:3:87: error: resource 1 ("b"): field "dependencies" must be an array of strings)");
    CHECK(
        second(
            R"({"address": "b", "kind": "k", "spec": {}, "status": "failed", "dependencies": "a"})") ==
        R"(state/x.json:3:81: error: resource 1 ("b"): field "dependencies" must be an array of strings)");
    CHECK(second(R"({"address": "b", "kind": "k", "spec": {}, "status": "failed", "parent": 3})") ==
          R"(state/x.json:3:75: error: resource 1 ("b"): field "parent" must be a string)");
    CHECK(second(R"({"address": "b", "kind": "k", "spec": {}, "kind": "k", "status": "failed"})") ==
          R"(state/x.json:3:45: error: resource 1 ("b"): field "kind" appears twice)");
    CHECK(second(R"({"address": 7, "kind": "k", "spec": {}, "status": "failed"})") ==
          R"(state/x.json:3:15: error: resource 1: field "address" must be a string)");
    CHECK(second(R"({"address": "", "kind": "k", "spec": {}, "status": "failed"})") ==
          R"(state/x.json:3:15: error: resource 1: field "address" must not be empty)");
    CHECK(second("42") == R"(state/x.json:3:3: error: resource 1 must be an object)");
  }

  TEST_CASE("missing resource fields are reported at the resource") {
    for (std::string field : {"address", "kind", "spec", "status"}) {
      CAPTURE(field);
      json resource = {
          {"address", "m"}, {"kind", "k"}, {"spec", json::object()}, {"status", "failed"}};
      resource.erase(field);
      std::string which = field == "address" ? "resource 0" : R"(resource 0 ("m"))";
      CHECK(
          parse_error(with_resources("[\n " + resource.dump() + "]")) ==
          fmt::format(R"(state/x.json:2:2: error: {}: missing required field "{}")", which, field));
    }
  }

  TEST_CASE("duplicate addresses name both resources") {
    std::string text = with_resources(R"([
    {"address": "a", "kind": "k", "spec": {}, "status": "completed"},
    {"address": "b", "kind": "k", "spec": {}, "status": "completed"},
    {"address": "b", "kind": "k", "spec": {}, "status": "completed"},
    {"address": "a", "kind": "k", "spec": {}, "status": "completed"}
  ])");
    CHECK(
        parse_error(text) ==
        R"(state/x.json:4:17: error: resource 2 ("b"): duplicate address, also used by resource 1)");
  }

  TEST_CASE("load_state reports problems with positions as parse_state does") {
    TempDir dir;
    std::string text = with_resources(
        "[\n  {\"address\": \"a\", \"kind\": \"k\", \"spec\": {}, \"status\": \"completed\"},\n"
        "  {\"address\": \"a\", \"kind\": \"k\", \"spec\": {}, \"status\": \"completed\"}\n]");
    auto path = dir.write("dup.json", text);
    std::string expected =
        path + R"(:3:15: error: resource 1 ("a"): duplicate address, also used by resource 0)";
    CHECK(error_of([&] { stove::load_state(path); }) == expected);
    auto broken = dir.write("broken.json", "{\n\n   nope");
    CHECK(error_of([&] { stove::load_state(broken); }) ==
          broken + ":3:5: error: invalid JSON: syntax error while parsing object key - invalid "
                   "literal; last read: '{<U+000A><U+000A>   no'; expected string literal");
  }

  TEST_CASE("unknown fields are ignored") {
    State state = stove::parse_state("x.json", R"({
    "format_version": 1, "serial": 2, "lineage": "l", "future": {"x": [1, {"y": []}]},
    "resources": [{"address": "a", "kind": "k", "spec": {"s": 1}, "status": "completed",
                   "later": [[{}]], "hint": "h"}],
    "more": null})");
    REQUIRE(state.resources.size() == 1);
    CHECK(state.resources[0].spec == json{{"s", 1}});
    CHECK(state.serial == 2);
  }

  TEST_CASE("optional fields take their defaults") {
    State state = stove::parse_state(
        "x.json",
        with_resources(R"([{"address": "a", "kind": "k", "spec": {}, "status": "failed"}])"));
    CHECK(state.stove_version.empty());
    CHECK(state.outputs == json::object());
    REQUIRE(state.resources.size() == 1);
    const ResourceState& r = state.resources[0];
    CHECK(r.provider.empty());
    CHECK(r.remote_id.empty());
    CHECK(r.parent.empty());
    CHECK(r.observed == json::object());
    CHECK(r.status == ResourceStatus::failed);
    CHECK(r.dependencies.empty());
    CHECK(r.created_at.empty());
    CHECK(r.updated_at.empty());
  }

  TEST_CASE("a state file that cannot be read is an io error") {
    TempDir dir;
    std::filesystem::create_directories(dir / "adir.json");
    auto path = (dir / "adir.json").string();
    CHECK(error_of([&] { stove::load_state(path); }, ErrorKind::io) ==
          path + ": cannot read: Is a directory");
    std::string blocker = dir.write("file", "x");
    CHECK(error_of([&] { stove::load_state(blocker + "/s.json"); }, ErrorKind::io) ==
          blocker + "/s.json: cannot read: Not a directory");
  }

  TEST_CASE("new_uuid gives distinct random version 4 UUIDs") {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
      std::string uuid = stove::new_uuid();
      CHECK(is_uuid_v4(uuid));
      seen.insert(uuid);
    }
    CHECK(seen.size() == 100);
  }

  TEST_CASE("now_rfc3339 gives UTC time to the second") {
    static const std::regex k_format(
        "^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z$");
    CHECK(std::regex_match(stove::now_rfc3339(), k_format));
  }

} // TEST_SUITE

TEST_SUITE("State documentation") {

  namespace {

  json load_schema() {
    return json::parse(stove::test::read_file(std::filesystem::path(STOVE_SOURCE_DIR) / "state" /
                                              "state.schema.json"));
  }

  // The JSON Schema type name of a value.
  std::string schema_type(const json& value) {
    if (value.is_object())
      return "object";
    if (value.is_array())
      return "array";
    if (value.is_string())
      return "string";
    if (value.is_number_integer())
      return "integer";
    if (value.is_number())
      return "number";
    if (value.is_boolean())
      return "boolean";
    return "null";
  }

  // Checks that every key of `written` is declared in `schema`'s properties
  // with a matching type, and that every required key was written.
  void check_declared(const json& schema, const json& written, const std::string& where) {
    CAPTURE(where);
    REQUIRE(schema.contains("properties"));
    const json& properties = schema["properties"];
    for (const auto& [key, value] : written.items()) {
      CAPTURE(key);
      REQUIRE(properties.contains(key));
      if (properties[key].contains("type")) {
        CHECK(properties[key]["type"] == schema_type(value));
      }
    }
    REQUIRE(schema.contains("required"));
    for (const auto& key : schema["required"]) {
      CAPTURE(key);
      CHECK(written.contains(key.get<std::string>()));
    }
  }

  } // namespace

  TEST_CASE("the schema is a draft 2020-12 JSON Schema") {
    json schema = load_schema();
    CHECK(schema["$schema"] == "https://json-schema.org/draft/2020-12/schema");
    CHECK(schema["type"] == "object");
  }

  TEST_CASE("the schema declares every field serialize_state writes and requires only those") {
    json schema = load_schema();
    for (State state : {sample_state(), State{}}) {
      if (state.resources.empty()) {
        ResourceState bare;
        bare.address = "a";
        state.resources.push_back(bare);
      }
      json written = json::parse(stove::serialize_state(state));
      check_declared(schema, written, "top level");
      const json& resource_schema = schema["properties"]["resources"]["items"];
      for (const auto& resource : written["resources"]) {
        check_declared(resource_schema, resource, "resource");
      }
    }
  }

  TEST_CASE("the schema's required fields are the ones load_state requires") {
    json schema = load_schema();
    State state = sample_state();
    json written = json::parse(stove::serialize_state(state));
    auto check_required = [](const json& object_schema, json document,
                             const std::function<json&(json&)>& target) {
      for (const auto& [key, ignored] : target(document).items()) {
        json copy = document;
        target(copy).erase(key);
        bool refused = false;
        try {
          stove::parse_state("x.json", copy.dump());
        } catch (const Error&) {
          refused = true;
        }
        bool required = false;
        for (const auto& name : object_schema["required"]) {
          required = required || name == key;
        }
        CAPTURE(key);
        CHECK(refused == required);
      }
    };
    check_required(schema, written, [](json& d) -> json& { return d; });
    check_required(schema["properties"]["resources"]["items"], written,
                   [](json& d) -> json& { return d["resources"][0]; });
  }

  TEST_CASE("the schema's enumerations match the code") {
    json schema = load_schema();
    CHECK(schema["properties"]["format_version"]["const"] == stove::k_state_format_version);
    std::vector<std::string> statuses;
    for (auto s : {ResourceStatus::processing, ResourceStatus::completed, ResourceStatus::failed}) {
      statuses.emplace_back(stove::to_string(s));
    }
    CHECK(schema["properties"]["resources"]["items"]["properties"]["status"]["enum"] ==
          json(statuses));
  }

  TEST_CASE("the README's example is a state file exactly as stove writes it") {
    std::string readme =
        stove::test::read_file(std::filesystem::path(STOVE_SOURCE_DIR) / "state" / "README.md");
    auto start = readme.find("```json\n");
    REQUIRE(start != std::string::npos);
    start += 8;
    auto end = readme.find("```", start);
    REQUIRE(end != std::string::npos);
    std::string example = readme.substr(start, end - start);
    CHECK(stove::serialize_state(stove::parse_state("README.md", example)) == example);
  }

} // TEST_SUITE
