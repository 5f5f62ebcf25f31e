#include "state/state_reader.hpp"
#include "state/statefile.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <random>
#include <string>

using stove::State;
using stove::StateProblem;

namespace {

// What reading `text` gives: the formatted problem, or the state serialized.
std::string outcome_text(const std::optional<StateProblem>& problem, const State& state,
                         const std::string& text) {
  if (problem) {
    return "problem: " + stove::format_problem("x.json", *problem, text);
  }
  return "state: " + stove::serialize_state(state);
}

// Checks that the fast reader and nlohmann's agree on `text` whenever the
// fast one understands it; returns whether it did.
bool check_agreement(const std::string& text) {
  CAPTURE(text);
  State fast_state;
  stove::JsonInput input{std::string_view(text)};
  stove::FastReadOutcome fast = stove::read_state_fast(input, fast_state);
  State full_state;
  std::optional<StateProblem> full = stove::read_state_text(text, full_state);
  if (!fast.understood) {
    return false;
  }
  CHECK(outcome_text(fast.problem, fast_state, text) == outcome_text(full, full_state, text));
  return true;
}

const std::string k_document = R"({
  "format_version": 1,
  "serial": 7,
  "lineage": "2b0c6c2e-9d1f-4a3b-8c5d-6e7f8091a2b3",
  "stove_version": "0.1.0",
  "resources": [
    {
      "address": "cloud_space[\"My VDC\"]",
      "kind": "cloud_space",
      "spec": {"name": "My VDC", "labels": {"a": "b"}, "n": [1, -2, 3.5, null, true]},
      "status": "completed",
      "dependencies": []
    },
    {
      "address": "cloud_space[\"My VDC\"].machine[\"m\"]",
      "kind": "machine",
      "parent": "cloud_space[\"My VDC\"]",
      "spec": {"name": "m", "memory": 1024},
      "observed": {"status": "RUNNING"},
      "status": "processing",
      "dependencies": ["cloud_space[\"My VDC\"]"],
      "created_at": "2026-11-22T02:26:15Z",
      "extra": {"ignored": [1, {"x": 2}]}
    }
  ],
  "outputs": {"ip": "192.0.2.1"}
})";

} // namespace

TEST_SUITE("state reader") {

  TEST_CASE("the fast reader and nlohmann's agree on a valid state") {
    CHECK(check_agreement(k_document));
  }

  TEST_CASE("the fast reader and nlohmann's agree on problems and their positions") {
    const std::string cases[] = {
        R"({"format_version": 2})",
        R"({"serial": 1, "format_version": 0})",
        R"({"resources": [{"address": 1}], "format_version": 1})",
        R"({"format_version": 1, "serial": 1, "lineage": "l", "resources": [5]})",
        R"({"format_version": 1, "serial": 1, "lineage": "l", "resources": [{"address": "a"}]})",
        R"({"format_version": 1, "serial": 1, "lineage": "l", "resources": [
         {"address": "a", "kind": "k", "spec": {}, "status": "failed"},
         {"address": "a", "kind": "k", "spec": {}, "status": "failed"}]})",
        R"({"format_version": 1, "serial": 1, "lineage": "l", "resources": [
         {"address": "a", "kind": "k", "spec": {}, "status": "failed", "dependencies": [1]}]})",
        "[1, 2]",
        R"({"format_version": 1, "serial": -4})",
        R"({"format_version": 1, "serial": 1, "serial": 1})",
    };
    for (const auto& text : cases) {
      CHECK(check_agreement(text));
    }
  }

  TEST_CASE("a number only nlohmann converts falls back to it with the same result") {
    std::string text = k_document;
    text.replace(text.find("3.5"), 3, "1e-400");
    State fast_state;
    stove::JsonInput input{std::string_view(text)};
    CHECK_FALSE(stove::read_state_fast(input, fast_state).understood);
    State state = stove::parse_state("x.json", text);
    CHECK(state.resources[0].spec["n"][2] == 0.0);
  }

  TEST_CASE("the fast reader and nlohmann's agree on mangled states") {
    const std::string alphabet = "{}[]:,\"\\ \n0123456789-.eadkinsptu";
    std::mt19937 random(7);
    int understood = 0;
    for (int round = 0; round < 2000; ++round) {
      std::string text = k_document;
      std::size_t at = random() % text.size();
      char c = alphabet[random() % alphabet.size()];
      switch (random() % 3) {
      case 0:
        text.insert(at, 1, c);
        break;
      case 1:
        text.erase(at, 1);
        break;
      default:
        text[at] = c;
      }
      understood += check_agreement(text) ? 1 : 0;
    }
    // Most single-byte edits leave valid JSON with or without state problems.
    CHECK(understood > 200);
  }

} // TEST_SUITE
