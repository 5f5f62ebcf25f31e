#include "plan/plan_file.hpp"

#include "util/error.hpp"
#include "plan/plan_fixtures.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

using namespace stove;
using stove::test::config_from;
using stove::test::k_estate;
using stove::test::state_from;

TEST_SUITE("plan_file") {
  TEST_CASE("a saved plan reads back to the same plan") {
    stove::test::TempDir dir;
    Config old_config = config_from(k_estate);
    std::string edited = k_estate;
    edited.replace(edited.find("image_id: 12"), 12, "image_id: 99");
    Plan plan = make_plan(config_from(edited), state_from(old_config), "state/x.json");
    std::string path = (dir / "x.plan").string();
    save_plan(path, plan);
    Plan back = load_plan(path);
    CHECK(plan_to_json(back) == plan_to_json(plan));
    CHECK(back.state_serial == 7);
    CHECK(back.state_lineage == "00000000-0000-4000-8000-000000000001");
    CHECK(back.changes.size() == plan.changes.size());
  }

  TEST_CASE("the JSON form has the documented fields") {
    Config config = config_from("- {type: s3, name: bkt}\n");
    State empty;
    auto j = plan_to_json(make_plan(config, empty, "state/x.json"));
    CHECK(j["format_version"] == 1);
    REQUIRE(j["resource_changes"].size() == 1);
    const auto& c = j["resource_changes"][0];
    CHECK(c["address"] == "bucket[\"bkt\"]");
    CHECK(c["kind"] == "bucket");
    CHECK(c["actions"] == nlohmann::json::array({"create"}));
    CHECK(c["before"].is_null());
    CHECK(c["after"]["name"] == "bkt");
    CHECK(c["replace_paths"].empty());
    CHECK(c["reason"] == "new_resource");
    CHECK(j["summary"] == nlohmann::ordered_json{{"add", 1}, {"change", 0}, {"destroy", 0},
                                                 {"unchanged", 0}, {"has_changes", true}});
  }

  TEST_CASE("a plan from a newer stove is refused") {
    CHECK_THROWS_WITH(plan_from_json("p.json", R"({"format_version": 9, "resource_changes": []})"),
                      "p.json: plan format_version 9 is newer than this stove (0.1.0) understands "
                      "(1); upgrade stove");
  }

  TEST_CASE("files that are not plans are refused with the file's name") {
    CHECK_THROWS_WITH(plan_from_json("p.json", "{nope"),
                      "p.json:1:3: error: not a usable stove plan: invalid JSON");
    CHECK_THROWS_WITH(plan_from_json("p.json", "[1]"),
                      "p.json: not a usable stove plan: it has no format_version and "
                      "resource_changes; save plans with stove plan --out FILE");
    CHECK_THROWS_AS(plan_from_json("p.json", R"({"format_version": 1, "resource_changes": [{}]})"),
                    Error);
  }
}
