#include "plan/plan.hpp"

#include "util/error.hpp"
#include "plan/plan_fixtures.hpp"

#include "support/printing.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace stove;
using stove::test::config_from;
using stove::test::k_estate;
using stove::test::state_from;

namespace {

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

const ResourceChange& change(const Plan& plan, const std::string& address) {
  auto it = std::find_if(plan.changes.begin(), plan.changes.end(),
                         [&](const ResourceChange& c) { return c.address == address; });
  REQUIRE_MESSAGE(it != plan.changes.end(), address);
  return *it;
}

size_t position(const Plan& plan, const std::string& address) {
  for (size_t i = 0; i < plan.changes.size(); ++i) {
    if (plan.changes[i].address == address) {
      return i;
    }
  }
  FAIL("no change for " << address);
  return 0;
}

const std::string k_web = R"(cloud_space["web"])";
const std::string k_app = R"(cloud_space["web"].machine["app"])";
const std::string k_nightly = R"(cloud_space["web"].machine["app"].backup["nightly"])";

} // namespace

TEST_SUITE("make_plan") {
  TEST_CASE("an empty state plans every resource for creation, parents first") {
    Config config = config_from(k_estate);
    State empty;
    Plan plan = make_plan(config, empty, "state/x.json");
    CHECK(plan.summary().add == 5);
    CHECK(plan.summary().change == 0);
    CHECK(plan.summary().destroy == 0);
    for (const auto& c : plan.changes) {
      CHECK(c.action == Action::create);
      CHECK(c.reason == ChangeReason::new_resource);
      CHECK(c.before.is_null());
    }
    CHECK(position(plan, k_web) < position(plan, k_app));
    CHECK(position(plan, k_app) < position(plan, k_nightly));
    CHECK(change(plan, k_app).after["memory"] == 1024);
  }

  TEST_CASE("a matching state plans no changes") {
    Config config = config_from(k_estate);
    Plan plan = make_plan(config, state_from(config), "s.json");
    CHECK_FALSE(plan.summary().has_changes());
    CHECK(plan.summary().unchanged == 5);
    CHECK(change(plan, k_app).action == Action::no_op);
    CHECK(change(plan, k_app).remote_id == "101");
  }

  TEST_CASE("memory and vcpus update in place") {
    Config old_config = config_from(k_estate);
    Config config = config_from(replace_all(k_estate, "memory: 1024", "memory: 2048"));
    Plan plan = make_plan(config, state_from(old_config), "s.json");
    const auto& c = change(plan, k_app);
    CHECK(c.action == Action::update);
    CHECK(c.reason == ChangeReason::attributes_changed);
    CHECK(c.before["memory"] == 1024);
    CHECK(c.after["memory"] == 2048);
    CHECK(c.replace_paths.empty());
    CHECK(change(plan, k_nightly).action == Action::no_op);
    CHECK(plan.summary().change == 1);
  }

  TEST_CASE("a new image replaces the machine and, with it, its backups") {
    Config old_config = config_from(k_estate);
    Config config = config_from(replace_all(k_estate, "image_id: 12", "image_id: 13"));
    Plan plan = make_plan(config, state_from(old_config), "s.json");
    const auto& c = change(plan, k_app);
    CHECK(c.action == Action::replace);
    CHECK(c.reason == ChangeReason::fields_force_replace);
    CHECK(c.replace_paths == std::vector<std::string>{"image_id"});
    const auto& b = change(plan, k_nightly);
    CHECK(b.action == Action::replace);
    CHECK(b.reason == ChangeReason::parent_replaced);
    CHECK(plan.summary().add == 2);
    CHECK(plan.summary().destroy == 2);
  }

  TEST_CASE("the boot disk grows in place and shrinking it replaces the machine") {
    Config old_config = config_from(k_estate);
    State state = state_from(old_config);
    Plan grow = make_plan(config_from(replace_all(k_estate, "disk_boot_size: 10",
                                                  "disk_boot_size: 20")), state, "s.json");
    CHECK(change(grow, k_app).action == Action::update);
    Plan shrink = make_plan(config_from(replace_all(k_estate, "disk_boot_size: 10",
                                                    "disk_boot_size: 5")), state, "s.json");
    CHECK(change(shrink, k_app).action == Action::replace);
    CHECK(change(shrink, k_app).replace_paths == std::vector<std::string>{"disk_boot_size"});
  }

  TEST_CASE("a new location replaces the cloud space and everything inside it") {
    Config old_config = config_from(k_estate);
    std::string moved = k_estate;
    moved.replace(moved.find("location_id: 1"), 14, "location_id: 2");
    Plan plan = make_plan(config_from(moved), state_from(old_config), "s.json");
    CHECK(change(plan, k_web).replace_paths == std::vector<std::string>{"location_id"});
    CHECK(change(plan, k_app).action == Action::replace);
    CHECK(change(plan, k_app).reason == ChangeReason::parent_replaced);
    CHECK(change(plan, k_nightly).action == Action::replace);
    CHECK(change(plan, R"(cloud_space["db"])").action == Action::no_op);
  }

  TEST_CASE("resources gone from the file are destroyed children first") {
    Config old_config = config_from(k_estate);
    Config config = config_from("- {type: bucket, name: assets}\n");
    Plan plan = make_plan(config, state_from(old_config), "s.json");
    CHECK(plan.summary().destroy == 4);
    CHECK(change(plan, k_web).action == Action::destroy);
    CHECK(change(plan, k_web).reason == ChangeReason::removed_from_file);
    CHECK(change(plan, k_web).after.is_null());
    CHECK(position(plan, k_nightly) < position(plan, k_app));
    CHECK(position(plan, k_app) < position(plan, k_web));
  }

  TEST_CASE("a replaced parent is destroyed after its children and created before them") {
    Config old_config = config_from(k_estate);
    std::string moved = k_estate;
    moved.replace(moved.find("location_id: 1"), 14, "location_id: 2");
    Config config = config_from(moved);
    Plan plan = make_plan(config, state_from(old_config), "s.json");
    // In the plan's order each change appears at its first operation: the
    // children's destroys come before the parent's.
    CHECK(position(plan, k_nightly) < position(plan, k_app));
    CHECK(position(plan, k_app) < position(plan, k_web));
  }

  TEST_CASE("a machine moved to another cloud space is one replace forced by the parent") {
    Config old_config = config_from(R"(- type: cloud_space
  name: a
  location_id: 1
  machines: [{name: m, image_id: 1, memory: 2, vcpus: 1, disk_boot_size: 1}]
- {type: cloud_space, name: b, location_id: 1}
)");
    Config config = config_from(R"(- {type: cloud_space, name: a, location_id: 1}
- type: cloud_space
  name: b
  location_id: 1
  machines: [{name: m, image_id: 1, memory: 2, vcpus: 1, disk_boot_size: 1}]
)");
    Plan plan = make_plan(config, state_from(old_config), "s.json");
    const auto& c = change(plan, R"(cloud_space["b"].machine["m"])");
    CHECK(c.action == Action::replace);
    CHECK(c.reason == ChangeReason::parent_changed);
    CHECK(c.previous_address == R"(cloud_space["a"].machine["m"])");
    CHECK(c.replace_paths == std::vector<std::string>{"parent"});
    CHECK(c.remote_id == "101");
    CHECK(plan.summary().add == 1);
    CHECK(plan.summary().destroy == 1);
    CHECK(plan.changes.size() == 3);
  }

  TEST_CASE("prevent_destroy makes a replacing plan an error that names the resource") {
    Config old_config = config_from(k_estate);
    std::string guarded = replace_all(k_estate, "image_id: 12", "image_id: 13\n      lifecycle: {prevent_destroy: true}");
    Config config = config_from(guarded);
    try {
      make_plan(config, state_from(old_config), "s.json");
      FAIL("expected an error");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::input);
      CHECK(std::string(e.what()) ==
            "infra.yaml:5:7: error: cloud_space[\"web\"].machine[\"app\"] has "
            "lifecycle.prevent_destroy set, but this plan would replace it (image_id cannot "
            "change in place); change the file so that it can be updated in place, or remove "
            "prevent_destroy");
    }
  }

  TEST_CASE("ignore_changes keeps the applied value and plans no update") {
    Config old_config = config_from(k_estate);
    std::string edited = replace_all(k_estate, "memory: 1024",
                                     "memory: 4096\n      lifecycle: {ignore_changes: [memory]}");
    Plan plan = make_plan(config_from(edited), state_from(old_config), "s.json");
    CHECK(change(plan, k_app).action == Action::no_op);
    CHECK(change(plan, k_app).after["memory"] == 1024);
  }

  TEST_CASE("a resource whose last request failed is planned again") {
    Config config = config_from(k_estate);
    State state = state_from(config);
    state.resources[1].status = ResourceStatus::failed;
    state.resources[3].remote_id.clear();
    state.resources[3].status = ResourceStatus::processing;
    Plan plan = make_plan(config, state, "s.json");
    CHECK(change(plan, k_app).action == Action::update);
    CHECK(change(plan, k_app).reason == ChangeReason::status_incomplete);
    CHECK(change(plan, R"(cloud_space["db"])").action == Action::create);
    CHECK(change(plan, R"(cloud_space["db"])").reason == ChangeReason::status_incomplete);
  }

  TEST_CASE("a state whose dependencies form a cycle is refused") {
    Config old_config = config_from(k_estate);
    State state = state_from(old_config);
    state.resources[0].dependencies = {k_nightly};  // web now "needs" its own grandchild
    Config config = config_from("[]");
    CHECK_THROWS_AS(make_plan(config, state, "s.json"), Error);
  }
}

TEST_SUITE("check_plan_is_current") {
  TEST_CASE("a plan is current only against the same lineage and serial") {
    Config config = config_from(k_estate);
    State state = state_from(config);
    Plan plan = make_plan(config, state, "state/x.json");
    CHECK_NOTHROW(check_plan_is_current(plan, state));

    State moved_on = state;
    moved_on.serial = 8;
    try {
      check_plan_is_current(plan, moved_on);
      FAIL("expected a stale plan");
    } catch (const Error& e) {
      CHECK(std::string(e.what()) ==
            "the saved plan is stale: it was made against serial 7 of state/x.json, which is now "
            "at serial 8; run stove plan again");
    }

    State other = state;
    other.lineage = "00000000-0000-4000-8000-000000000002";
    CHECK_THROWS_WITH(check_plan_is_current(plan, other),
                      "the saved plan was made for state lineage "
                      "00000000-0000-4000-8000-000000000001, but state/x.json now holds state "
                      "lineage 00000000-0000-4000-8000-000000000002; run stove plan again");

    State none;
    Plan first = make_plan(config, none, "state/x.json");
    CHECK_NOTHROW(check_plan_is_current(first, none));
    CHECK_THROWS_AS(check_plan_is_current(first, state), Error);
  }
}
