#include "plan/order.hpp"

#include "plan/plan_fixtures.hpp"

#include "support/printing.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace stove;
using stove::test::config_from;
using stove::test::k_estate;
using stove::test::state_from;

namespace {

// The operations in execution order, as "destroy ADDRESS" / "apply ADDRESS".
std::vector<std::string> walk(const Plan& plan) {
  OperationGraph graph = build_operation_graph(plan.changes);
  std::vector<uint32_t> order;
  REQUIRE(graph.dag.topological_order(order));
  std::vector<std::string> out;
  for (uint32_t op : order) {
    const auto& o = graph.operations[op];
    const auto& c = plan.changes[o.change];
    if (c.action == Action::no_op) {
      continue;
    }
    out.push_back((o.phase == Phase::destroy ? "destroy " : "apply ") + c.address);
  }
  return out;
}

} // namespace

TEST_SUITE("build_operation_graph") {
  TEST_CASE("replacing a cloud space destroys inside-out and creates outside-in") {
    Config old_config = config_from(k_estate);
    std::string moved = k_estate;
    moved.replace(moved.find("location_id: 1"), 14, "location_id: 2");
    Plan plan = make_plan(config_from(moved), state_from(old_config), "s.json");
    CHECK(walk(plan) == std::vector<std::string>{
        R"(destroy cloud_space["web"].machine["app"].backup["nightly"])",
        R"(destroy cloud_space["web"].machine["app"])",
        R"(destroy cloud_space["web"])",
        R"(apply cloud_space["web"])",
        R"(apply cloud_space["web"].machine["app"])",
        R"(apply cloud_space["web"].machine["app"].backup["nightly"])",
    });
  }

  TEST_CASE("depends_on orders creates and, reversed, destroys") {
    const char* file = R"(- {type: bucket, name: first}
- {type: bucket, name: second, depends_on: ['bucket["third"]']}
- {type: bucket, name: third, depends_on: ['bucket["first"]']}
)";
    Config config = config_from(file);
    State empty;
    CHECK(walk(make_plan(config, empty, "s.json")) == std::vector<std::string>{
        R"(apply bucket["first"])", R"(apply bucket["third"])", R"(apply bucket["second"])"});
    Config none = config_from("[]");
    CHECK(walk(make_plan(none, state_from(config), "s.json")) == std::vector<std::string>{
        R"(destroy bucket["second"])", R"(destroy bucket["third"])", R"(destroy bucket["first"])"});
  }
}
