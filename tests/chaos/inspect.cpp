#include "chaos/inspect.hpp"

#include "providers/bacularis.hpp"
#include "providers/s3_xml.hpp"
#include "support/run.hpp"
#include "support/s3_client.hpp"

#include <fmt/format.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace stove::chaos {

namespace {

using nlohmann::json;

// What the state records, by kind: remote ids, and for machines the name
// (their Client is named after it).
struct Recorded {
  std::set<std::string> spaces;
  std::set<std::string> machines;
  std::map<std::string, std::string> machine_names; // remote id -> name
  std::set<std::string> backups;
  std::set<std::string> buckets;
  std::set<std::string> backed_up_machines; // addresses of machines with a backup
  std::map<std::string, std::string> machine_by_address;
  std::map<std::string, json> specs; // "kind remote-id" -> the applied spec
  size_t records = 0;
};

// What the sandbox holds, read through its APIs.
struct Held {
  std::multiset<std::string> space_names;
  std::set<std::string> spaces;
  std::set<std::string> machines;
  std::map<std::string, json> machine_objects; // id -> machines/list's entry
  std::vector<std::string> machine_duplicates;
  std::set<std::string> buckets;
  std::map<std::string, std::set<std::string>> director; // type -> names
  std::map<std::string, json> resources;                 // "Type name" -> bdirjson's
  std::set<std::string> loaded_jobs;
};

std::string id_text(const json& id) {
  return id.is_string() ? id.get<std::string>() : id.dump();
}

std::optional<Recorded> read_state(const std::string& path, Findings& findings) {
  Recorded out;
  if (!std::filesystem::exists(path)) {
    return out;
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  json state = json::parse(text.str(), nullptr, false);
  if (state.is_discarded() || !state.contains("resources")) {
    findings.corrupt.push_back(fmt::format("{} is not a readable state", path));
    return std::nullopt;
  }
  test::RunResult listed = test::run_stove({"state", "list", "--state", path});
  if (listed.exit_code != 0) {
    findings.corrupt.push_back(
        fmt::format("stove state list exits {}: {}", listed.exit_code, listed.err));
  }
  for (const auto& r : state["resources"]) {
    ++out.records;
    const std::string kind = r.value("kind", "");
    const std::string id = r.value("remote_id", "");
    if (id.empty()) {
      findings.corrupt.push_back(
          fmt::format("{} has no remote id after the run converged", r.value("address", "?")));
      continue;
    }
    out.specs[kind + " " + id] = r.value("spec", json::object());
    if (kind == "cloud_space") {
      out.spaces.insert(id);
    } else if (kind == "machine") {
      out.machines.insert(id);
      out.machine_names[id] = r["observed"].value("name", "");
      out.machine_by_address[r.value("address", "")] = r["observed"].value("name", "");
    } else if (kind == "backup") {
      out.backups.insert(id);
      out.backed_up_machines.insert(r.value("parent", ""));
    } else if (kind == "bucket") {
      out.buckets.insert(id);
    }
  }
  return out;
}

json cloudapi(const test::SandboxProcess& sandbox, const std::string& method, const json& body) {
  test::SandboxProcess::Reply reply = sandbox.call(method, body.dump());
  if (reply.status != 200) {
    throw std::runtime_error(fmt::format("{}: {} {}", method, reply.status, reply.body));
  }
  return json::parse(reply.body);
}

json bacularis(const test::SandboxProcess& sandbox, const std::string& path) {
  httplib::Client client("127.0.0.1", sandbox.port());
  client.set_bearer_token_auth(sandbox.token());
  auto res = client.Get(fmt::format("/api/v3/{}", path));
  if (!res || res->status != 200) {
    throw std::runtime_error(fmt::format("GET {}: {}", path, res ? res->status : 0));
  }
  json body = json::parse(res->body);
  if (body.value("error", -1) != 0) {
    throw std::runtime_error(fmt::format("GET {}: {}", path, res->body));
  }
  return body["output"];
}

Held read_sandbox(const test::SandboxProcess& sandbox) {
  Held held;
  const json spaces = cloudapi(sandbox, "cloudspaces/list", json::object());
  for (const auto& space : spaces) {
    const std::string id = id_text(space["id"]);
    held.spaces.insert(id);
    held.space_names.insert(space.value("name", ""));
    std::multiset<std::string> names;
    const json machines = cloudapi(sandbox, "machines/list", {{"cloudspaceId", space["id"]}});
    for (const auto& m : machines) {
      held.machines.insert(id_text(m["id"]));
      held.machine_objects[id_text(m["id"])] = m;
      const std::string name = m.value("name", "");
      if (names.count(name) > 0) {
        held.machine_duplicates.push_back(
            fmt::format("two machines \"{}\" in cloud space {}", name, id));
      }
      names.insert(name);
    }
  }
  test::S3Client s3(fmt::format("{}/s3", sandbox.url()), "sandbox", sandbox.token());
  held.buckets = s3.buckets();
  for (const char* type : {"Client", "Fileset", "Schedule", "Pool", "Job"}) {
    auto& names = held.director[type];
    const json listed = bacularis(sandbox, fmt::format("config/dir/{}", type));
    for (const auto& item : listed) {
      const std::string name = item.begin().value().value("Name", "");
      names.insert(name);
      held.resources[fmt::format("{} {}", type, name)] = item.begin().value();
    }
  }
  const json loaded = bacularis(sandbox, "jobs/resnames");
  for (const auto& [director, jobs] : loaded.items()) {
    for (const auto& job : jobs) {
      held.loaded_jobs.insert(job.get<std::string>());
    }
  }
  return held;
}

// The files of bdirjson's Include (a list of blocks) or Exclude (one).
json files_of(const json& blocks) {
  json files = json::array();
  for (const auto& block : blocks.is_array() ? blocks : json::array({blocks})) {
    for (const auto& f : block.value("File", json::array())) {
      files.push_back(f);
    }
  }
  return files;
}

void mismatch(Findings& findings, const std::string& what, const json& want, const json& have) {
  if (want != have) {
    findings.mismatched.push_back(
        fmt::format("{}: the state says {}, the cloud {}", what, want.dump(), have.dump()));
  }
}

// What the cloud holds against the specs the state records.
void check_attributes(const test::SandboxProcess& sandbox, const Recorded& recorded,
                      const Held& held, Findings& findings) {
  for (const auto& id : recorded.machines) {
    auto m = held.machine_objects.find(id);
    const json& spec = recorded.specs.at("machine " + id);
    if (m != held.machine_objects.end()) {
      mismatch(findings, fmt::format("machine {} memory", id), spec["memory"], m->second["memory"]);
      mismatch(findings, fmt::format("machine {} vcpus", id), spec["vcpus"], m->second["vcpus"]);
      // Stove starts what it creates, and starts again what it stops.
      mismatch(findings, fmt::format("machine {} status", id), "RUNNING", m->second["status"]);
    }
  }
  test::S3Client s3(fmt::format("{}/s3", sandbox.url()), "sandbox", sandbox.token());
  for (const auto& name : recorded.buckets) {
    if (!held.buckets.contains(name)) {
      continue;
    }
    const json& spec = recorded.specs.at("bucket " + name);
    auto versioning = s3.send("GET", fmt::format("/{}?versioning", name));
    const std::string status = providers::s3xml::text(versioning.body, "Status").value_or("");
    // A bucket never versioned has no Status: stove's "suspended" is either.
    const std::string wanted = spec.value("versioning", "suspended") == "enabled" ? "Enabled"
                               : status.empty()                                   ? ""
                                                                                  : "Suspended";
    mismatch(findings, fmt::format("bucket {} versioning", name), wanted, status);
    auto tagging = s3.send("GET", fmt::format("/{}?tagging", name));
    json tags = json::object();
    if (tagging.status == 200) {
      for (const auto& [key, value] :
           providers::s3xml::parse_tagging(tagging.body)
               .value_or(std::vector<std::pair<std::string, std::string>>{})) {
        tags[key] = value;
      }
    }
    mismatch(findings, fmt::format("bucket {} tags", name), spec.value("tags", json::object()),
             tags);
  }
  for (const auto& job : recorded.backups) {
    const json& spec = recorded.specs.at("backup " + job);
    auto find = [&](const char* type, const std::string& name) {
      auto it = held.resources.find(fmt::format("{} {}", type, name));
      return it == held.resources.end() ? json() : it->second;
    };
    const json job_resource = find("Job", job);
    if (job_resource.is_null()) {
      continue;
    }
    mismatch(findings, fmt::format("backup {} enabled", job), spec.value("enabled", true),
             job_resource.value("Enabled", true));
    mismatch(findings, fmt::format("backup {} retention", job),
             spec.value("retention_days", 30) * 86400,
             find("Pool", job + "-pool").value("VolumeRetention", json()));
    const json fileset = find("Fileset", job + "-fileset");
    mismatch(findings, fmt::format("backup {} fileset", job),
             spec.value("fileset", json::array({"/"})),
             files_of(fileset.value("Include", json::array())));
    mismatch(findings, fmt::format("backup {} excludes", job),
             spec.value("excludes", json::array()),
             files_of(fileset.value("Exclude", json::array())));
  }
}

// Reports what one side has and the other lacks.
void compare(const std::string& what, const std::set<std::string>& cloud,
             const std::set<std::string>& wanted, Findings& findings) {
  for (const auto& name : cloud) {
    if (!wanted.contains(name)) {
      findings.orphans.push_back(fmt::format("{} \"{}\"", what, name));
    }
  }
  for (const auto& name : wanted) {
    if (!cloud.contains(name)) {
      findings.missing.push_back(fmt::format("{} \"{}\"", what, name));
    }
  }
}

} // namespace

Findings inspect(const test::SandboxProcess& sandbox, const std::string& state_path,
                 size_t expected_records) {
  Findings findings;
  auto recorded = read_state(state_path, findings);
  if (!recorded) {
    return findings;
  }
  if (recorded->records != expected_records) {
    findings.corrupt.push_back(
        fmt::format("the state records {} resources, not {}", recorded->records, expected_records));
  }
  Held held;
  try {
    held = read_sandbox(sandbox);
  } catch (const std::exception& e) {
    findings.corrupt.push_back(fmt::format("reading the sandbox: {}", e.what()));
    return findings;
  }
  for (const auto& name : held.space_names) {
    if (held.space_names.count(name) > 1) {
      findings.duplicates.push_back(
          fmt::format("{} cloud spaces \"{}\"", held.space_names.count(name), name));
    }
  }
  findings.duplicates.insert(findings.duplicates.end(), held.machine_duplicates.begin(),
                             held.machine_duplicates.end());
  compare("cloud space", held.spaces, recorded->spaces, findings);
  compare("machine", held.machines, recorded->machines, findings);
  compare("bucket", held.buckets, recorded->buckets, findings);
  std::set<std::string> filesets, schedules, pools, clients;
  for (const auto& job : recorded->backups) {
    filesets.insert(job + "-fileset");
    schedules.insert(job + "-schedule");
    pools.insert(job + "-pool");
  }
  for (const auto& address : recorded->backed_up_machines) {
    auto it = recorded->machine_by_address.find(address);
    if (it != recorded->machine_by_address.end()) {
      clients.insert(providers::bacularis::client_name(it->second));
    }
  }
  compare("Job", held.director["Job"], recorded->backups, findings);
  compare("Fileset", held.director["Fileset"], filesets, findings);
  compare("Schedule", held.director["Schedule"], schedules, findings);
  compare("Pool", held.director["Pool"], pools, findings);
  compare("Client", held.director["Client"], clients, findings);
  // Every Job the director has, it runs: a reload followed the last write.
  compare("Job loaded by the director", held.loaded_jobs, recorded->backups, findings);
  try {
    check_attributes(sandbox, *recorded, held, findings);
  } catch (const std::exception& e) {
    findings.corrupt.push_back(fmt::format("reading the sandbox's attributes: {}", e.what()));
  }
  return findings;
}

} // namespace stove::chaos
