#include "model/address.hpp"
#include "util/error.hpp"
#include "state/state_edit.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using stove::Address;
using stove::Error;
using stove::ErrorKind;
using stove::State;

namespace {

Address addr(const std::string& text) {
  auto a = stove::parse_address(text);
  REQUIRE(a);
  return *a;
}

// cloud_space["web"] with machines a (which has a backup) and b, and a bucket
// that machine b depends on.
State sample() {
  State state;
  auto add = [&](std::string address, std::string kind, std::string parent,
                 std::vector<std::string> dependencies) {
    stove::ResourceState r;
    r.address = std::move(address);
    r.kind = std::move(kind);
    r.parent = std::move(parent);
    r.dependencies = std::move(dependencies);
    r.remote_id = r.address;
    state.resources.push_back(std::move(r));
  };
  add(R"(cloud_space["web"])", "cloud_space", "", {});
  add(R"(cloud_space["web"].machine["a"])", "machine", R"(cloud_space["web"])",
      {R"(cloud_space["web"])"});
  add(R"(cloud_space["web"].machine["a"].backup["nightly"])", "backup",
      R"(cloud_space["web"].machine["a"])", {R"(cloud_space["web"].machine["a"])"});
  add(R"(cloud_space["web"].machine["b"])", "machine", R"(cloud_space["web"])",
      {R"(cloud_space["web"])", R"(bucket["logs"])"});
  add(R"(bucket["logs"])", "bucket", "", {});
  add(R"(cloud_space["db"])", "cloud_space", "", {});
  return state;
}

std::vector<std::string> addresses(const State& state) {
  std::vector<std::string> out;
  for (const auto& r : state.resources) {
    out.push_back(r.address);
  }
  return out;
}

template <typename F>
std::string input_error(F f) {
  try {
    f();
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    return e.what();
  }
  FAIL("no error");
  return {};
}

bool same(const State& a, const State& b) {
  if (a.resources.size() != b.resources.size()) {
    return false;
  }
  for (size_t i = 0; i < a.resources.size(); ++i) {
    const auto& x = a.resources[i];
    const auto& y = b.resources[i];
    if (x.address != y.address || x.parent != y.parent || x.dependencies != y.dependencies) {
      return false;
    }
  }
  return true;
}

} // namespace

TEST_SUITE("remove_resources") {

  TEST_CASE("a leaf is removed and nothing else") {
    State state = sample();
    auto removed = stove::remove_resources(state, "s.json", {addr("bucket.logs")}, false);
    CHECK(removed == std::vector<std::string>{R"(bucket["logs"])"});
    CHECK(addresses(state) ==
          std::vector<std::string>{R"(cloud_space["web"])", R"(cloud_space["web"].machine["a"])",
                                   R"(cloud_space["web"].machine["a"].backup["nightly"])",
                                   R"(cloud_space["web"].machine["b"])", R"(cloud_space["db"])"});
    // A dependency on it is left as it is, as terraform leaves it.
    CHECK(state.resources[3].dependencies.back() == R"(bucket["logs"])");
  }

  TEST_CASE("a parent alone is refused, naming every resource under it") {
    State state = sample();
    std::string message = input_error(
        [&] { stove::remove_resources(state, "s.json", {addr("cloud_space.web")}, false); });
    CHECK(message ==
          "cannot remove cloud_space[\"web\"] alone: 3 resource(s) under it would be left without "
          "their parent:\n    cloud_space[\"web\"].machine[\"a\"]\n    "
          "cloud_space[\"web\"].machine[\"a\"].backup[\"nightly\"]\n    "
          "cloud_space[\"web\"].machine[\"b\"]\n  name them too, or pass --recursive to remove "
          "cloud_space[\"web\"] and everything under it");
    CHECK(same(state, sample()));
  }

  TEST_CASE("a parent goes with its children when all are named, in any order") {
    State state = sample();
    auto removed = stove::remove_resources(
        state, "s.json",
        {addr("cloud_space.web.machine.a.backup.nightly"), addr("cloud_space.web.machine.a")},
        false);
    CHECK(removed ==
          std::vector<std::string>{R"(cloud_space["web"].machine["a"])",
                                   R"(cloud_space["web"].machine["a"].backup["nightly"])"});
    CHECK(state.resources.size() == 4);
  }

  TEST_CASE("--recursive removes everything under the named resources") {
    State state = sample();
    auto removed = stove::remove_resources(state, "s.json", {addr("cloud_space.web")}, true);
    CHECK(removed.size() == 4);
    CHECK(addresses(state) ==
          std::vector<std::string>{R"(bucket["logs"])", R"(cloud_space["db"])"});
  }

  TEST_CASE("an unknown address is refused with a suggestion, and nothing is removed") {
    State state = sample();
    std::string message = input_error([&] {
      stove::remove_resources(state, "s.json", {addr("bucket.logs"), addr("bucket.lgos")}, false);
    });
    CHECK(message == "s.json has no resource bucket[\"lgos\"]; did you mean "
                     "\"bucket[\"logs\"]\"?");
    CHECK(same(state, sample()));
  }

  TEST_CASE("an address named twice is removed once") {
    State state = sample();
    auto removed = stove::remove_resources(state, "s.json",
                                           {addr("bucket.logs"), addr(R"(bucket["logs"])")}, false);
    CHECK(removed.size() == 1);
  }
}

TEST_SUITE("move_resource") {

  TEST_CASE("moving a parent renames everything under it, with parent links and dependencies") {
    State state = sample();
    auto moved =
        stove::move_resource(state, "s.json", addr("cloud_space.web"), addr("cloud_space.www"));
    REQUIRE(moved.size() == 4);
    CHECK(moved[0].from == R"(cloud_space["web"])");
    CHECK(moved[0].to == R"(cloud_space["www"])");
    CHECK(moved[2].from == R"(cloud_space["web"].machine["a"].backup["nightly"])");
    CHECK(moved[2].to == R"(cloud_space["www"].machine["a"].backup["nightly"])");
    CHECK(addresses(state) ==
          std::vector<std::string>{R"(cloud_space["www"])", R"(cloud_space["www"].machine["a"])",
                                   R"(cloud_space["www"].machine["a"].backup["nightly"])",
                                   R"(cloud_space["www"].machine["b"])", R"(bucket["logs"])",
                                   R"(cloud_space["db"])"});
    CHECK(state.resources[2].parent == R"(cloud_space["www"].machine["a"])");
    CHECK(state.resources[2].dependencies ==
          std::vector<std::string>{R"(cloud_space["www"].machine["a"])"});
    CHECK(state.resources[3].dependencies ==
          std::vector<std::string>{R"(cloud_space["www"])", R"(bucket["logs"])"});
    // What the provider knows it by does not change.
    CHECK(state.resources[0].remote_id == R"(cloud_space["web"])");
  }

  TEST_CASE("a nested resource is renamed in place, and others depending on it follow") {
    State state = sample();
    auto moved = stove::move_resource(state, "s.json", addr("bucket.logs"), addr("bucket.audit"));
    REQUIRE(moved.size() == 1);
    CHECK(state.resources[3].dependencies ==
          std::vector<std::string>{R"(cloud_space["web"])", R"(bucket["audit"])"});
    moved = stove::move_resource(state, "s.json", addr("cloud_space.web.machine.b"),
                                 addr("cloud_space.web.machine.c"));
    REQUIRE(moved.size() == 1);
    CHECK(state.resources[3].address == R"(cloud_space["web"].machine["c"])");
  }

  TEST_CASE("errors change nothing") {
    State state = sample();
    auto refuse = [&](const char* from, const char* to) {
      return input_error([&] { stove::move_resource(state, "s.json", addr(from), addr(to)); });
    };
    CHECK(refuse("bucket.lgos", "bucket.x") ==
          "s.json has no resource bucket[\"lgos\"]; did you mean \"bucket[\"logs\"]\"?");
    CHECK(refuse("bucket.logs", "bucket.logs") ==
          "cannot move bucket[\"logs\"] to itself: FROM and TO are the same address");
    CHECK(refuse("bucket.logs", "cloud_space.logs") ==
          "cannot move bucket[\"logs\"] to cloud_space[\"logs\"]: a bucket cannot become a "
          "cloud_space; TO must be a bucket too");
    CHECK(refuse("cloud_space.web", "cloud_space.db") ==
          "cannot move cloud_space[\"web\"] to cloud_space[\"db\"]: the state already has a "
          "resource at cloud_space[\"db\"]; remove it first (stove state rm) if it is no longer "
          "wanted");
    CHECK(refuse("cloud_space.web.machine.a", "cloud_space.db.machine.a") ==
          "cannot move cloud_space[\"web\"].machine[\"a\"] to cloud_space[\"db\"].machine[\"a\"]: "
          "that would change its parent from cloud_space[\"web\"] to cloud_space[\"db\"]\n  state "
          "mv only renames: a machine stays under its parent, as it does in the cloud; to rename "
          "the parent, move the parent, and what is under it follows");
    CHECK(same(state, sample()));
  }

  TEST_CASE("an address under TO that is already taken is refused") {
    State state = sample();
    stove::ResourceState stray;
    stray.address = R"(cloud_space["www"].machine["b"])";
    stray.kind = "machine";
    stray.parent = R"(cloud_space["www"])";
    state.resources.push_back(stray);
    State before = state;
    CHECK(input_error([&] {
            stove::move_resource(state, "s.json", addr("cloud_space.web"), addr("cloud_space.www"));
          }) == "cannot move cloud_space[\"web\"] to cloud_space[\"www\"]: "
                "cloud_space[\"web\"].machine[\"b\"] would become "
                "cloud_space[\"www\"].machine[\"b\"], which the state already has");
    CHECK(same(state, before));
  }
}
