#include "parse/config_loader.hpp"

#include "support/printing.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace stove;

namespace {

struct Loaded {
  Config config;
  std::vector<std::string> errors;  // "line:col: message", sorted by position
};

Loaded load(const std::string& text, const std::string& path = "infra.yaml") {
  SourceFile source{path, text};
  Diagnostics diagnostics;
  Loaded out;
  out.config = load_config_file(source, diagnostics);
  diagnostics.sort();
  for (const auto& d : diagnostics.all()) {
    out.errors.push_back(std::to_string(d.mark.line) + ":" + std::to_string(d.mark.column) +
                         ": " + d.message);
  }
  return out;
}

const char* k_example_json = R"([
  {"location_id": 1, "type": "cloud_space", "name": "My VDC",
   "machines": [{"image_id": 12, "type": "machine", "name": "drupal", "memory": 1024, "vcpus": 1, "disk_boot_size": 10}]},
  {"type": "s3", "name": "my_bucket"}
]
)";

const char* k_example_yaml = R"(- location_id: 1
  type: cloud_space
  name: My VDC
  machines:
    - image_id: 12
      type: machine
      name: drupal
      memory: 1024
      vcpus: 1
      disk_boot_size: 10
- type: s3
  name: my_bucket
)";

} // namespace

TEST_SUITE("load_config") {
  TEST_CASE("the design's example loads the same from JSON and from YAML") {
    auto json = load(k_example_json, "example.json");
    auto yaml = load(k_example_yaml, "example.yaml");
    REQUIRE(json.errors.empty());
    REQUIRE(yaml.errors.empty());
    for (const auto* loaded : {&json, &yaml}) {
      const auto& resources = loaded->config.resources;
      REQUIRE(resources.size() == 3);
      CHECK(resources[0].address == R"(cloud_space["My VDC"])");
      CHECK(resources[1].address == R"(cloud_space["My VDC"].machine["drupal"])");
      CHECK(resources[2].address == R"(bucket["my_bucket"])");
      CHECK(resources[1].parent == 0);
      CHECK(resources[1].attrs ==
            nlohmann::json{{"name", "drupal"}, {"description", ""}, {"image_id", 12},
                           {"memory", 1024}, {"vcpus", 1}, {"disk_boot_size", 10},
                           {"labels", nlohmann::json::object()}});
      CHECK(resources[2].attrs ==
            nlohmann::json{{"name", "my_bucket"}, {"region", ""}, {"versioning", "suspended"},
                           {"tags", nlohmann::json::object()},
                           {"labels", nlohmann::json::object()}});
      CHECK(loaded->config.implicit_sandbox);
      CHECK(resources[0].provider == "sandbox");
    }
    CHECK(json.config.resources[1].attrs == yaml.config.resources[1].attrs);
  }

  TEST_CASE("the fuller form reads providers, labels, lifecycle, depends_on and parent") {
    auto loaded = load(R"(providers:
  ovc:
    type: openvcloud
    endpoint: https://cloud.example.com
    account_id: 7
  files:
    type: s3
    endpoint: http://127.0.0.1:4568
resources:
  - type: cloud_space
    name: web
    location_id: 2
  - type: machine
    parent: cloud_space["web"]
    key: app
    name: app-server
    image_id: 3
    memory: 2048
    vcpus: 2
    disk_boot_size: 20
    labels: {tier: front}
    lifecycle:
      prevent_destroy: true
      ignore_changes: [description]
  - type: bucket
    name: logs
    depends_on: ['cloud_space.web.machine.app']
)");
    REQUIRE(loaded.errors.empty());
    const auto& c = loaded.config;
    CHECK_FALSE(c.implicit_sandbox);
    REQUIRE(c.providers.size() == 2);
    CHECK(c.providers[0].settings ==
          nlohmann::json{{"account_id", 7}, {"token_env", "STOVE_OVC_TOKEN"}});
    CHECK(c.providers[1].settings == nlohmann::json{{"region", "us-east-1"},
                                                    {"access_key_env", "AWS_ACCESS_KEY_ID"},
                                                    {"secret_key_env", "AWS_SECRET_ACCESS_KEY"},
                                                    {"session_token_env", "AWS_SESSION_TOKEN"}});
    REQUIRE(c.resources.size() == 3);
    const Resource& app = c.resources[1];
    CHECK(app.address == R"(cloud_space["web"].machine["app"])");
    CHECK(app.name() == "app-server");
    CHECK(app.parent == 0);
    CHECK(app.provider == "ovc");
    CHECK(app.lifecycle.prevent_destroy);
    CHECK(app.lifecycle.ignore_changes == std::vector<std::string>{"description"});
    CHECK(app.attrs["labels"] == nlohmann::json{{"tier", "front"}});
    CHECK(c.resources[2].provider == "files");
    CHECK(c.resources[2].depends_on ==
          std::vector<std::string>{R"(cloud_space["web"].machine["app"])"});
    CHECK(c.resources[2].dependencies() == c.resources[2].depends_on);
    CHECK(app.dependencies() == std::vector<std::string>{R"(cloud_space["web"])"});
  }

  TEST_CASE("backups nest under machines as bacula or backups, with defaults") {
    auto loaded = load(R"(- type: cloud_space
  name: s
  location_id: 1
  machines:
    - name: m
      image_id: 1
      memory: 512
      vcpus: 1
      disk_boot_size: 10
      bacula:
        - name: nightly
          schedule: Level=Full sun at 02:00
)");
    REQUIRE(loaded.errors.empty());
    REQUIRE(loaded.config.resources.size() == 3);
    const Resource& b = loaded.config.resources[2];
    CHECK(b.address == R"(cloud_space["s"].machine["m"].backup["nightly"])");
    CHECK(b.attrs["fileset"] == nlohmann::json::array({"/"}));
    CHECK(b.attrs["retention_days"] == 30);
    CHECK(b.attrs["enabled"] == true);
  }

  TEST_CASE("an unknown field gets a did-you-mean at its exact position") {
    auto loaded = load(R"(- type: cloud_space
  name: s
  location_id: 1
  machines:
    - name: m
      image_id: 1
      memroy: 512
      vcpus: 1
      disk_boot_size: 10
)");
    CHECK(loaded.errors == std::vector<std::string>{
        R"(5:7: machine "m" is missing required field "memory")",
        R"(7:7: unknown field "memroy" in machine "m"; did you mean "memory"?)",
    });
  }

  TEST_CASE("wrong types, ranges and odd memory are each reported with the value's position") {
    auto loaded = load(R"(- type: cloud_space
  name: 42
  location_id: "1"
  machines:
    - name: m
      image_id: 0
      memory: 1025
      vcpus: 1.5
      disk_boot_size: 100000
      description: [a]
)");
    CHECK(loaded.errors == std::vector<std::string>{
        R"(2:9: cloud_space: field "name" must be a string, got an integer ("42") (quote it to make it a string: "42"))",
        R"(3:16: cloud_space: field "location_id" must be an integer, got a string ("1"))",
        R"(6:17: machine "m": field "image_id" must be between 1 and 2147483647, got 0)",
        R"(7:15: machine "m": field "memory" must be an even number of MB, got 1025)",
        R"(8:14: machine "m": field "vcpus" must be an integer, got a number ("1.5"))",
        R"(9:23: machine "m": field "disk_boot_size" must be between 1 and 65536 GB, got 100000)",
        R"(10:20: machine "m": field "description" must be a string, got a list)",
    });
  }

  TEST_CASE("a number too large for 64 bits is an error, not a crash") {
    auto loaded = load("- type: cloud_space\n  name: s\n  location_id: 99999999999999999999999\n");
    REQUIRE(loaded.errors.size() == 1);
    CHECK(loaded.errors[0].starts_with("3:16: "));
    CHECK(loaded.errors[0].find("out of range") != std::string::npos);
  }

  TEST_CASE("unknown types get a did-you-mean and the list of kinds") {
    auto loaded = load("- type: buckett\n  name: x\n");
    CHECK(loaded.errors == std::vector<std::string>{
        R"(1:9: unknown resource type "buckett"; did you mean "bucket"? (types: cloud_space, machine, backup, bucket (or the aliases bacula, s3)))"});
  }

  TEST_CASE("duplicate names within a parent are errors, and the same name in two parents is not") {
    auto loaded = load(R"(- type: s3
  name: logs
- type: bucket
  name: logs
- type: cloud_space
  name: a
  location_id: 1
  machines:
    - {name: m, image_id: 1, memory: 2, vcpus: 1, disk_boot_size: 1}
- type: cloud_space
  name: b
  location_id: 1
  machines:
    - {name: m, image_id: 1, memory: 2, vcpus: 1, disk_boot_size: 1}
    - {name: m, image_id: 1, memory: 2, vcpus: 1, disk_boot_size: 1}
)");
    CHECK(loaded.errors == std::vector<std::string>{
        R"(4:9: duplicate resource bucket["logs"] (first defined at line 1); names must be unique within their parent, or set key: to tell them apart)",
        R"(15:14: duplicate resource cloud_space["b"].machine["m"] (first defined at line 14); names must be unique within their parent, or set key: to tell them apart)",
    });
  }

  TEST_CASE("unknown parents and dependencies are errors with suggestions") {
    auto loaded = load(R"(- type: cloud_space
  name: web
  location_id: 1
- type: machine
  parent: cloud_space["wbe"]
  name: m
  image_id: 1
  memory: 2
  vcpus: 1
  disk_boot_size: 1
- type: bucket
  name: logs
  depends_on: ['cloud_space["webb"]', 'bucket["nope"]', 'vm.x']
)");
    CHECK(loaded.errors == std::vector<std::string>{
        R"(5:11: machine "m": unknown parent cloud_space["wbe"]; did you mean "cloud_space["web"]"?)",
        R"(13:16: bucket "logs": unknown dependency cloud_space["webb"]; did you mean "cloud_space["web"]"?)",
        R"(13:39: bucket "logs": unknown dependency bucket["nope"])",
        R"(13:57: bucket "logs": bad address "vm.x" in depends_on: unknown resource kind "vm" (kinds: cloud_space, machine, backup, bucket))",
    });
  }

  TEST_CASE("dependency cycles are reported once each, with the path") {
    auto loaded = load(R"(- type: bucket
  name: alpha
  depends_on: [bucket.bravo]
- type: bucket
  name: bravo
  depends_on: [bucket.charlie]
- type: bucket
  name: charlie
  depends_on: [bucket.alpha]
- type: bucket
  name: delta
  depends_on: [bucket.delta]
)");
    CHECK(loaded.errors == std::vector<std::string>{
        R"(3:16: dependency cycle: bucket["alpha"] -> bucket["bravo"] -> bucket["charlie"] -> bucket["alpha"])",
        R"(12:16: dependency cycle: bucket["delta"] depends on itself)",
    });
  }

  TEST_CASE("a nested kind at the top level needs a parent") {
    auto loaded = load("- {type: machine, name: m, image_id: 1, memory: 2, vcpus: 1, disk_boot_size: 1}\n");
    CHECK(loaded.errors == std::vector<std::string>{
        R"(1:3: machine "m" must sit inside a cloud_space: nest it under the cloud_space's machines: list, or set parent: cloud_space["..."])"});
  }

  TEST_CASE("a nested entry of the wrong type is an error") {
    auto loaded = load(R"(- type: cloud_space
  name: s
  location_id: 1
  machines:
    - type: bucket
      name: b
)");
    CHECK(loaded.errors == std::vector<std::string>{
        R"(5:13: "machines" holds machine entries, not bucket)"});
  }

  TEST_CASE("credentials written in clear are refused, and env names are checked") {
    auto loaded = load(R"(providers:
  ovc:
    type: openvcloud
    endpoint: https://x
    account_id: 1
    token: abc.def
  files:
    type: s3
    endpoint: ftp://x
    access_key_env: "not a name"
    colour: blue
  other:
    type: azure
resources: []
)");
    CHECK(loaded.errors == std::vector<std::string>{
        R"(6:5: "token" would put a credential in the file in clear; set token_env: VARIABLE and export VARIABLE instead)",
        R"(9:15: endpoint "ftp://x" must be an http:// or https:// URL, "sandbox" or "sandbox:DIR")",
        R"(10:21: "access_key_env" must name an environment variable (letters, digits and '_'), got "not a name")",
        R"(11:5: unknown setting "colour" for a s3 provider)",
        R"(13:11: unknown provider type "azure" (types: openvcloud, bacularis, s3, sandbox))",
    });
  }

  TEST_CASE("an openvcloud access user is checked as the G8 checks it") {
    auto loaded = load(R"(providers:
  short:
    type: openvcloud
    endpoint: https://x
    account_id: 1
    access: j
  quoted:
    type: openvcloud
    endpoint: https://x
    account_id: 1
    access: "<john>"
  fine:
    type: openvcloud
    endpoint: https://x
    account_id: 1
    access: john@itsyouonline
resources: []
)");
    CHECK(
        loaded.errors ==
        std::vector<std::string>{
            R"(6:13: "access" must be at least two characters (the G8 refuses a shorter user name), got "j")",
            R"(11:13: "access" must not contain < > " or ' (the G8 refuses them in a user name), got "<john>")",
        });
  }

  TEST_CASE("resources are matched to providers, and unmatched kinds are errors") {
    auto loaded = load(R"(providers:
  files:
    type: s3
    endpoint: http://127.0.0.1:1
resources:
  - {type: cloud_space, name: s, location_id: 1}
  - {type: bucket, name: b, provider: filez}
)");
    CHECK(loaded.errors == std::vector<std::string>{
        R"(6:5: no declared provider can manage cloud_space resources; declare one of type openvcloud or sandbox)",
        R"(7:39: bucket "b": unknown provider "filez"; did you mean "files"?)",
    });
  }

  TEST_CASE("lifecycle settings are checked against the kind's fields") {
    auto loaded = load(R"(- type: bucket
  name: logs
  lifecycle:
    prevent_destroy: "yes"
    ignore_changes: [tagz]
    prevent: true
)");
    CHECK(loaded.errors == std::vector<std::string>{
        R"(4:22: bucket "logs": "prevent_destroy" must be true or false, got a string ("yes"))",
        R"(5:22: bucket "logs": ignore_changes names unknown field "tagz"; did you mean "tags"? (fields: name, region, versioning, tags, labels))",
        R"(6:5: unknown lifecycle setting "prevent"; did you mean "prevent_destroy"?)",
    });
  }

  TEST_CASE("an empty file, a scalar and an empty list are handled") {
    CHECK(load("").errors == std::vector<std::string>{
        "1:1: the file is empty: expected a list of resources, or a mapping with providers: and resources:"});
    CHECK(load("# only a comment\n").errors.size() == 1);
    CHECK(load("hello\n").errors == std::vector<std::string>{
        R"(1:1: expected a list of resources, or a mapping with providers: and resources:, got a string ("hello"))"});
    auto empty = load("[]\n");
    CHECK(empty.errors.empty());
    CHECK(empty.config.resources.empty());
  }

  TEST_CASE("YAML 1.2 core schema keeps no and NO as strings") {
    auto loaded = load("- {type: bucket, name: off, tags: {a: NO, b: yes}}\n");
    REQUIRE(loaded.errors.empty());
    CHECK(loaded.config.resources[0].attrs["name"] == "off");
    CHECK(loaded.config.resources[0].attrs["tags"] == nlohmann::json{{"a", "NO"}, {"b", "yes"}});
  }

  TEST_CASE("JSON errors carry JSON positions") {
    auto loaded = load(R"([{"type": "s3", "name": "bkt", "versioning": "on"}])", "x.json");
    CHECK(loaded.errors == std::vector<std::string>{
        R"(1:46: bucket "bkt": field "versioning" must be one of enabled, suspended, got a string ("on"))"});
  }
}

TEST_SUITE("load_config: field syntax") {
  TEST_CASE("a bad backup schedule is reported at the word at fault, in YAML and JSON") {
    auto yaml = load(R"(- type: cloud_space
  name: web
  location_id: 1
  machines:
    - name: app
      image_id: 1
      memory: 2048
      vcpus: 1
      disk_boot_size: 10
      backups:
        - name: nightly
          schedule: Level=Full sundy at 02:00
        - name: hourly
          schedule: "Level=Incremental hourly at 0:75"
)");
    REQUIRE(yaml.errors.size() == 2);
    CHECK(yaml.errors[0] ==
          "12:32: backup \"nightly\": field \"schedule\" has an unknown word \"sundy\"; did you "
          "mean \"sunday\"?; expected a day of the month (1-31), a weekday, a month, a week "
          "(1st-6th, w00-w53), lastday, hourly, daily, weekly, monthly or \"at H:MM\"");
    CHECK(yaml.errors[1] ==
          "14:50: backup \"hourly\": field \"schedule\" has the time \"0:75\": the minutes run "
          "from 00 to 59");

    auto json = load(R"([{"type": "cloud_space", "name": "web", "location_id": 1, "machines": [
  {"name": "app", "image_id": 1, "memory": 2048, "vcpus": 1, "disk_boot_size": 10,
   "backups": [{"name": "nightly", "schedule": "Level=Full sun 02:00"}]}]}]
)", "infra.json");
    REQUIRE(json.errors.size() == 1);
    CHECK(json.errors[0] == "3:64: backup \"nightly\": field \"schedule\" has the time \"02:00\" "
                            "without \"at\" before it (write \"at 02:00\")");
  }

  TEST_CASE("a backup's name must be a Bacula name short enough for its suffixes") {
    std::string base = R"(- type: cloud_space
  name: web
  location_id: 1
  machines:
    - name: app
      image_id: 1
      memory: 2048
      vcpus: 1
      disk_boot_size: 10
      backups:
)";
    auto loaded = load(base + "        - {name: \"db/nightly\", schedule: daily}\n" +
                       "        - {name: \" padded\", schedule: daily}\n" +
                       "        - {name: " + std::string(119, 'j') + ", schedule: daily}\n" +
                       "        - {name: \"db nightly:1.0\", schedule: daily}\n");
    REQUIRE(loaded.errors.size() == 3);
    CHECK(loaded.errors[0] == "11:21: backup \"db/nightly\": field \"name\" may use only letters, "
                              "digits, '-', '_', '.', ':' and inner spaces, as Bacula names do");
    CHECK(loaded.errors[1] ==
          "12:18: backup \" padded\": field \"name\" cannot start or end with a space");
    CHECK(loaded.errors[2] == "13:18: backup \"" + std::string(119, 'j') +
                                  "\": field \"name\" is 119 characters long; the most is 118");
  }

  TEST_CASE("a schedule written as a block scalar is reported at the scalar") {
    auto loaded = load(R"(- type: cloud_space
  name: web
  location_id: 1
  machines:
    - name: app
      image_id: 1
      memory: 2048
      vcpus: 1
      disk_boot_size: 10
      backups:
        - name: nightly
          schedule: >-
            Level=Full
            sundy at 02:00
)");
    REQUIRE(loaded.errors.size() == 1);
    CHECK(loaded.errors[0].starts_with("12:21: backup \"nightly\": field \"schedule\" has an "
                                       "unknown word \"sundy\""));
  }

  TEST_CASE("the sandbox takes the design's my_bucket, an s3 provider gets S3's rules") {
    auto sandbox = load(k_example_yaml);
    CHECK(sandbox.errors.empty());

    auto s3 = load(R"(providers:
  aws:
    type: s3
    endpoint: https://s3.example.com
resources:
  - type: s3
    name: my_bucket
  - type: bucket
    name: "Logs"
  - type: bucket
    name: fine-name
)");
    REQUIRE(s3.errors.size() == 2);
    CHECK(s3.errors[0] ==
          "7:13: bucket \"my_bucket\": bucket name \"my_bucket\" may use only lowercase letters, "
          "digits, '.' and '-': '_' is not allowed (S3 has refused other names since March 2018; "
          "try \"my-bucket\")");
    CHECK(s3.errors[1] ==
          "9:11: bucket \"Logs\": bucket name \"Logs\" may use only lowercase letters, digits, "
          "'.' and '-': uppercase letters are not allowed (S3 has refused other names since "
          "March 2018; try \"logs\")");

    auto bad_everywhere = load(R"(- type: bucket
  name: my/bucket
)");
    REQUIRE(bad_everywhere.errors.size() == 1);
    CHECK(bad_everywhere.errors[0] ==
          "2:11: bucket \"my/bucket\": bucket name \"my/bucket\" may use only letters, digits, "
          "'.', '-' and '_': '/' is not allowed (try \"my-bucket\")");
  }

  TEST_CASE("bucket regions that cannot work with their provider are refused with their place") {
    auto loaded = load(R"(providers:
  aws:
    type: s3
    endpoint: https://s3.eu-west-1.amazonaws.com
    region: eu-west-1
  wrong:
    type: s3
    endpoint: https://s3.amazonaws.com
    region: eu-central-1
  implied:
    type: s3
    endpoint: https://s3.ap-south-1.amazonaws.com
  minio:
    type: s3
    endpoint: http://127.0.0.1:9000
    region: my-site
  sb:
    type: sandbox
resources:
  - {type: bucket, provider: aws, name: far-away, region: ap-southeast-2}
  - {type: bucket, provider: aws, name: in-china, region: cn-north-1}
  - {type: bucket, provider: aws, name: old-name, region: EU}
  - {type: bucket, provider: minio, name: anything, region: My_Site}
  - {type: bucket, provider: sb, name: my_bucket, region: eu-west-1}
  - {type: bucket, provider: sb, name: my_bucket2, region: us-east-1}
  - {type: bucket, provider: sb, name: fine-one, region: eu-west-1}
)");
    REQUIRE(loaded.errors.size() == 5);
    CHECK(loaded.errors[0] ==
          "9:13: provider \"wrong\": region eu-central-1 is not the region of endpoint "
          "https://s3.amazonaws.com (us-east-1); AWS refuses requests signed for another region "
          "there (AuthorizationHeaderMalformed); set region: us-east-1");
    CHECK(loaded.errors[1] ==
          "12:15: provider \"implied\": region us-east-1 is not the region of endpoint "
          "https://s3.ap-south-1.amazonaws.com (ap-south-1); AWS refuses requests signed for "
          "another region there (AuthorizationHeaderMalformed); set region: ap-south-1");
    CHECK(loaded.errors[2] ==
          "21:59: bucket \"in-china\": region cn-north-1 is in AWS partition aws-cn, which "
          "provider \"aws\" (endpoint https://s3.eu-west-1.amazonaws.com, partition aws) cannot "
          "reach: credentials do not cross partitions; give the bucket a provider whose endpoint "
          "is in aws-cn");
    CHECK(loaded.errors[3] ==
          "22:59: bucket \"old-name\": region \"EU\" is not a region code such as eu-west-1 (EU "
          "is S3's old name for eu-west-1)");
    CHECK(loaded.errors[4] ==
          "24:59: bucket \"my_bucket\": bucket name \"my_bucket\" follows S3's legacy rules, "
          "which only us-east-1 ever took; region eu-west-1 needs a name under S3's current "
          "rules");
  }
}
