#include "plan/render.hpp"

#include "plan/plan_fixtures.hpp"

#include <doctest/doctest.h>

using namespace stove;
using stove::test::config_from;
using stove::test::state_from;

TEST_SUITE("render_plan") {
  TEST_CASE("create, update, replace and destroy read like terraform's plan") {
    Config old_config = config_from(R"(- type: cloud_space
  name: web
  location_id: 1
  machines:
    - {name: app, image_id: 12, memory: 1024, vcpus: 1, disk_boot_size: 10}
    - {name: old, image_id: 12, memory: 1024, vcpus: 1, disk_boot_size: 10}
- {type: s3, name: logs}
)");
    Config config = config_from(R"(- type: cloud_space
  name: web
  location_id: 1
  machines:
    - {name: app, image_id: 12, memory: 2048, vcpus: 1, disk_boot_size: 10}
- {type: s3, name: logs, region: eu-west-1}
- {type: s3, name: new, tags: {app: web}}
)");
    Plan plan = make_plan(config, state_from(old_config), "s.json");
    CHECK(render_plan(plan, RenderOptions{}) == R"(Stove will perform the following actions:

  # cloud_space["web"].machine["app"] will be updated in-place
  ~ machine "app" {
      ~ memory = 1024 -> 2048
        # (6 unchanged attributes hidden)
    }

  # bucket["logs"] must be replaced
-/+ bucket "logs" {
      ~ region = "" -> "eu-west-1" # forces replacement
        # (4 unchanged attributes hidden)
    }

  # bucket["new"] will be created
  + bucket "new" {
      + name       = "new"
      + region     = ""
      + versioning = "suspended"
      + tags       = { "app" = "web" }
      + labels     = {}
    }

  # cloud_space["web"].machine["old"] will be destroyed (it is no longer in the file)
  - machine "old" {
      - name           = "old" -> null
      - description    = "" -> null
      - image_id       = 12 -> null
      - memory         = 1024 -> null
      - vcpus          = 1 -> null
      - disk_boot_size = 10 -> null
      - labels         = {} -> null
    }

Plan: 2 to add, 1 to change, 2 to destroy.
)");
  }

  TEST_CASE("a plan without changes says so") {
    Config config = config_from("- {type: s3, name: logs}\n");
    Plan plan = make_plan(config, state_from(config), "s.json");
    CHECK(render_plan(plan, RenderOptions{}) ==
          "No changes. The infrastructure matches the file and the state.\n");
  }

  TEST_CASE("colour is used only when asked for") {
    Config config = config_from("- {type: s3, name: logs}\n");
    State empty;
    Plan plan = make_plan(config, empty, "s.json");
    CHECK(render_plan(plan, RenderOptions{false}).find('\033') == std::string::npos);
    CHECK(render_plan(plan, RenderOptions{true}).find("\033[32m+\033[0m") != std::string::npos);
  }
}
