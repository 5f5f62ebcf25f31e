#include "graph/dag.hpp"

#include <doctest/doctest.h>

using namespace stove;

TEST_SUITE("Dag") {
  TEST_CASE("topological order puts every node after its predecessors, ties by number") {
    Dag dag(5);
    dag.add_edge(3, 1);
    dag.add_edge(1, 0);
    dag.add_edge(4, 2);
    std::vector<uint32_t> order;
    REQUIRE(dag.topological_order(order));
    CHECK(order == std::vector<uint32_t>{3, 1, 0, 4, 2});
  }

  TEST_CASE("a cycle makes the topological order fail and is found as a path") {
    Dag dag(4);
    dag.add_edge(0, 1);
    dag.add_edge(1, 2);
    dag.add_edge(2, 1);
    dag.add_edge(3, 3);
    std::vector<uint32_t> order;
    CHECK_FALSE(dag.topological_order(order));
    auto cycles = dag.find_cycles();
    REQUIRE(cycles.size() == 2);
    CHECK(cycles[0] == std::vector<uint32_t>{1, 2, 1});
    CHECK(cycles[1] == std::vector<uint32_t>{3, 3});
  }

  TEST_CASE("an acyclic graph has no cycles, however long its chains") {
    const size_t n = 200000;
    Dag dag(n);
    for (size_t i = 0; i + 1 < n; ++i) {
      dag.add_edge(i, i + 1);
    }
    CHECK(dag.find_cycles().empty());
    std::vector<uint32_t> order;
    CHECK(dag.topological_order(order));
    CHECK(order.size() == n);
    CHECK(order.front() == 0);
    CHECK(order.back() == n - 1);
  }

  TEST_CASE("a long cycle is reported once, starting at its smallest node") {
    Dag dag(6);
    dag.add_edge(5, 4);
    dag.add_edge(4, 3);
    dag.add_edge(3, 5);
    auto cycles = dag.find_cycles();
    REQUIRE(cycles.size() == 1);
    CHECK(cycles[0] == std::vector<uint32_t>{3, 5, 4, 3});
  }
}
