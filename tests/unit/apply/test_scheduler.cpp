// The scheduler alone: what is ready, what is done, what is skipped, with
// no threads and no provider. The engine and refresh walk with it.

#include "apply/scheduler.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace stove;

namespace {

using Ops = std::vector<uint32_t>;

// a -> b means b needs a.
Dag graph(size_t n, const std::vector<std::pair<uint32_t, uint32_t>>& edges) {
  Dag dag(n);
  for (auto [from, to] : edges) {
    dag.add_edge(from, to);
  }
  return dag;
}

} // namespace

TEST_SUITE("scheduler") {

TEST_CASE("only what needs nothing is ready at first, in node order") {
  Dag dag = graph(4, {{0, 2}, {1, 2}, {2, 3}});
  Scheduler s(dag);
  CHECK(s.state(0) == OpState::ready);
  CHECK(s.state(1) == OpState::ready);
  CHECK(s.state(2) == OpState::waiting);
  CHECK(s.start_all_ready() == Ops{0, 1});
  CHECK(s.running() == 2);
  CHECK_FALSE(s.has_ready());
  CHECK_FALSE(s.start_next().has_value());
}

TEST_CASE("an operation becomes ready when its last predecessor is done") {
  Dag dag = graph(4, {{0, 2}, {1, 2}, {2, 3}});
  Scheduler s(dag);
  s.start_all_ready();
  s.succeeded(0);
  CHECK(s.state(0) == OpState::done);
  CHECK(s.state(2) == OpState::waiting);
  CHECK_FALSE(s.has_ready());
  s.succeeded(1);
  CHECK(s.state(2) == OpState::ready);
  CHECK(s.start_next() == 2u);
  s.succeeded(2);
  CHECK(s.start_next() == 3u);
  s.succeeded(3);
  CHECK(s.running() == 0);
  CHECK(s.unstarted().empty());
}

TEST_CASE("ready operations start in the order they became ready") {
  Dag dag = graph(5, {{0, 4}, {1, 3}, {2, 3}});
  Scheduler s(dag);
  CHECK(s.start_next() == 0u);
  CHECK(s.start_next() == 1u);
  s.succeeded(1);           // 3 still waits on 2
  s.succeeded(0);           // 4 is ready
  CHECK(s.start_next() == 2u);
  s.succeeded(2);           // 3 is ready, after 4
  CHECK(s.start_all_ready() == Ops{4, 3});
}

TEST_CASE("a failure skips everything that needs it, directly or not, and nothing else") {
  // 0 -> 1 -> 3, 0 -> 2, 4 alone, 5 needs 4 and 1.
  Dag dag = graph(6, {{0, 1}, {0, 2}, {1, 3}, {4, 5}, {1, 5}});
  Scheduler s(dag);
  CHECK(s.start_all_ready() == Ops{0, 4});
  Ops skipped = s.failed(0);
  // Depth first from the last successor: 2, then 1 and what needs it.
  CHECK(skipped == Ops{2, 1, 5, 3});
  CHECK(s.state(0) == OpState::failed);
  for (uint32_t op : {1u, 2u, 3u, 5u}) {
    CHECK(s.state(op) == OpState::skipped);
  }
  CHECK(s.state(4) == OpState::running);
  s.succeeded(4);           // 5 is skipped already: it does not become ready
  CHECK_FALSE(s.has_ready());
  CHECK(s.running() == 0);
  CHECK(s.unstarted().empty());
}

TEST_CASE("a failure leaves work that does not need it ready") {
  Dag dag = graph(3, {{0, 1}});
  Scheduler s(dag);
  CHECK(s.start_next() == 0u);
  CHECK(s.has_ready());     // 2 needs nothing
  CHECK(s.failed(0) == Ops{1});
  CHECK(s.start_all_ready() == Ops{2});
  s.succeeded(2);
  CHECK(s.running() == 0);
}

TEST_CASE("what never started is what an interrupt cut off") {
  Dag dag = graph(4, {{0, 1}, {1, 2}});
  Scheduler s(dag);
  CHECK(s.start_next() == 0u);
  s.succeeded(0);
  CHECK(s.unstarted() == Ops{1, 2, 3});
  CHECK(s.start_next() == 3u);
  CHECK(s.unstarted() == Ops{1, 2});
}

TEST_CASE("an empty graph has nothing to do") {
  Dag dag(0);
  Scheduler s(dag);
  CHECK_FALSE(s.has_ready());
  CHECK(s.running() == 0);
  CHECK(s.start_all_ready().empty());
  CHECK(s.unstarted().empty());
}

} // TEST_SUITE
