#include "sandbox/bacula_directives.hpp"

#include "model/bacula_duration.hpp"
#include "model/bacula_name.hpp"
#include "model/bacula_run.hpp"
#include "parse/bacula_schedule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

namespace stove::sandbox::bacula {

using nlohmann::json;

namespace {

constexpr std::array k_client = {
    Directive{"Name", Kind::name, {}, true},
    Directive{"Description", Kind::text},
    Directive{"Address", Kind::text, {}, true},
    Directive{"FdPort", Kind::integer},
    Directive{"Password", Kind::text, {}, true},
    Directive{"Catalog", Kind::reference, "Catalog", true},
    Directive{"FileRetention", Kind::duration},
    Directive{"JobRetention", Kind::duration},
    Directive{"AutoPrune", Kind::boolean},
    Directive{"MaximumConcurrentJobs", Kind::integer},
};
constexpr std::array k_fileset = {
    Directive{"Name", Kind::name, {}, true},
    Directive{"Description", Kind::text},
    Directive{"Include", Kind::include},
    Directive{"Exclude", Kind::exclude},
    Directive{"IgnoreFileSetChanges", Kind::boolean},
    Directive{"EnableVss", Kind::boolean},
};
constexpr std::array k_schedule = {
    Directive{"Name", Kind::name, {}, true},
    Directive{"Description", Kind::text},
    Directive{"Run", Kind::runs},
};
constexpr std::array k_pool = {
    Directive{"Name", Kind::name, {}, true},
    Directive{"Description", Kind::text},
    Directive{"PoolType", Kind::text, {}, true},
    Directive{"LabelFormat", Kind::text},
    Directive{"MaximumVolumes", Kind::integer},
    Directive{"MaximumVolumeJobs", Kind::integer},
    Directive{"VolumeRetention", Kind::duration},
    Directive{"FileRetention", Kind::duration},
    Directive{"JobRetention", Kind::duration},
    Directive{"AutoPrune", Kind::boolean},
    Directive{"Recycle", Kind::boolean},
    Directive{"Storage", Kind::references, "Storage"},
    Directive{"Catalog", Kind::reference, "Catalog"},
    Directive{"NextPool", Kind::reference, "Pool"},
};
constexpr std::array k_job = {
    Directive{"Name", Kind::name, {}, true},
    Directive{"Description", Kind::text},
    Directive{"Type", Kind::job_type, {}, true},
    Directive{"Level", Kind::job_level},
    Directive{"Messages", Kind::reference, "Messages", true},
    Directive{"Storage", Kind::references, "Storage"},
    Directive{"Pool", Kind::reference, "Pool", true},
    Directive{"FullBackupPool", Kind::reference, "Pool"},
    Directive{"IncrementalBackupPool", Kind::reference, "Pool"},
    Directive{"DifferentialBackupPool", Kind::reference, "Pool"},
    Directive{"NextPool", Kind::reference, "Pool"},
    Directive{"Client", Kind::reference, "Client"},
    Directive{"Fileset", Kind::reference, "Fileset", false, "FileSet"},
    Directive{"Schedule", Kind::reference, "Schedule"},
    Directive{"Enabled", Kind::boolean},
    Directive{"Priority", Kind::integer},
    Directive{"MaximumConcurrentJobs", Kind::integer},
    Directive{"WriteBootstrap", Kind::text},
    Directive{"SpoolAttributes", Kind::boolean},
    Directive{"Accurate", Kind::boolean},
};
constexpr std::array k_director = {
    Directive{"Name", Kind::name, {}, true},
    Directive{"Messages", Kind::reference, "Messages"},
    Directive{"QueryFile", Kind::text, {}, true},
    Directive{"WorkingDirectory", Kind::text, {}, true},
    Directive{"PidDirectory", Kind::text, {}, true},
    Directive{"Password", Kind::text, {}, true},
};
constexpr std::array k_catalog = {
    Directive{"Name", Kind::name, {}, true},
    Directive{"DbName", Kind::text, {}, true},
};
constexpr std::array k_messages = {
    Directive{"Name", Kind::name, {}, true},
};
constexpr std::array k_storage = {
    Directive{"Name", Kind::name, {}, true},      Directive{"Address", Kind::text, {}, true},
    Directive{"Password", Kind::text, {}, true},  Directive{"Device", Kind::references, {}, true},
    Directive{"MediaType", Kind::text, {}, true},
};

// In the order the director's file lists them.
constexpr std::array k_types = {
    ResourceType{"Director", k_director, false},
    ResourceType{"Catalog", k_catalog, false},
    ResourceType{"Messages", k_messages, false},
    ResourceType{"Storage", k_storage, false},
    ResourceType{"Client", k_client, true},
    ResourceType{"Fileset", k_fileset, true},
    ResourceType{"Schedule", k_schedule, true},
    ResourceType{"Pool", k_pool, true},
    ResourceType{"Job", k_job, true},
};

// The Run overrides that name resources, and their types.
constexpr std::array<std::pair<std::string_view, std::string_view>, 7> k_run_references = {{
    {"Pool", "Pool"},
    {"FullPool", "Pool"},
    {"IncrementalPool", "Pool"},
    {"DifferentialPool", "Pool"},
    {"NextPool", "Pool"},
    {"Storage", "Storage"},
    {"Messages", "Messages"},
}};

constexpr std::array<std::string_view, 7> k_job_types = {"Backup", "Restore", "Verify", "Admin",
                                                         "Copy",   "Migrate", "Console"};
constexpr std::array<std::string_view, 6> k_job_levels = {"Full",  "Incremental", "Differential",
                                                          "Since", "VirtualFull", "Base"};

// Keywords as the director matches them: case and spaces do not count.
std::string folded(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c != ' ' && c != '\t') {
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  return out;
}

bool same_word(std::string_view a, std::string_view b) {
  return folded(a) == folded(b);
}

const ResourceType* find_type_in_table(std::string_view type) {
  for (const auto& t : k_types) {
    if (same_word(t.name, type)) {
      return &t;
    }
  }
  return nullptr;
}

const Directive* find_directive(const ResourceType& type, std::string_view key) {
  for (const auto& d : type.directives) {
    if (same_word(d.key, key) || (!d.alias.empty() && same_word(d.alias, key))) {
      return &d;
    }
  }
  return nullptr;
}

// How a JSON value reads once Bacularis has written it and the lexer has
// read it back: the token text, and whether it was quoted.
struct Token {
  std::string text;
  bool quoted = false;
  bool number = false;
};

Token token_of(const json& value, ValueSource source) {
  if (value.is_string()) {
    return {value.get<std::string>(), source == ValueSource::bacularis_json, false};
  }
  if (value.is_boolean()) {
    return {value.get<bool>() ? "yes" : "no", false, false};
  }
  if (value.is_number_integer()) {
    return {value.dump(), false, true};
  }
  throw InternalError(fmt::format("a directive value Bacularis cannot write: {}", value.dump()));
}

std::string listed(std::span<const std::string_view> words) {
  std::string out;
  for (auto w : words) {
    out += out.empty() ? std::string(w) : fmt::format(", {}", w);
  }
  return out;
}

std::optional<std::string_view> keyword(std::span<const std::string_view> words,
                                        std::string_view text) {
  for (auto w : words) {
    if (same_word(w, text)) {
      return w;
    }
  }
  return std::nullopt;
}

json read_name(const Token& t) {
  if (t.number) {
    throw ConfigError(fmt::format("expected a name, got T_NUMBER: {}", t.text));
  }
  if (auto problem = check_bacula_name(t.text)) {
    throw ConfigError(
        fmt::format("Illegal character in name \"{}\": {}", t.text, problem->message));
  }
  return t.text;
}

json read_integer(const Token& t) {
  const bool digits = !t.text.empty() && t.text.size() < 10 &&
                      std::all_of(t.text.begin(), t.text.end(), [](char c) {
                        return std::isdigit(static_cast<unsigned char>(c));
                      });
  if (!digits) {
    throw ConfigError(fmt::format("expected a positive integer number, got: {}", t.text));
  }
  return std::stoll(t.text);
}

json read_duration(const Token& t) {
  auto seconds = t.quoted ? std::nullopt : bacula_duration_seconds(t.text);
  if (!seconds) {
    throw ConfigError(fmt::format("expected a time period, got: {}", t.text));
  }
  return *seconds;
}

json read_boolean(const Token& t) {
  const std::string v = folded(t.text);
  if (t.number) {
    throw ConfigError(fmt::format("expected a name, got T_NUMBER: {}", t.text));
  }
  if (v == "yes" || v == "true") {
    return true;
  }
  if (v == "no" || v == "false") {
    return false;
  }
  throw ConfigError(fmt::format("Expect \"YES\" or \"NO\", got: {}", t.text));
}

json read_runs(const json& value) {
  if (!value.is_array()) {
    // BaculaSetting counts the items of Run: PHP cannot count a string.
    throw InternalError("Run must be a list");
  }
  json out = json::array();
  for (const auto& item : value) {
    if (item.is_object()) {
      // An object as bdirjson prints it, which Bacularis turns into text.
      auto run = run_from_bdirjson(item);
      if (!run) {
        throw InternalError(fmt::format("a Run object Bacularis cannot write: {}", item.dump()));
      }
      out.push_back(bdirjson_of(*run));
      continue;
    }
    if (!item.is_string()) {
      throw InternalError(fmt::format("a Run item Bacularis cannot write: {}", item.dump()));
    }
    // Run text is written as it is, never quoted.
    const std::string text = item.get<std::string>();
    if (auto problem = check_bacula_schedule(text)) {
      throw ConfigError(fmt::format("Run \"{}\": {}", text, problem->message));
    }
    out.push_back(bdirjson_of(*parse_bacula_run(text)));
  }
  return out;
}

json files_of(const json& block, ValueSource source) {
  json files = json::array();
  if (auto f = block.find("File"); f != block.end()) {
    for (const auto& item : list_of(*f)) {
      Token t = token_of(item, source);
      files.push_back(t.text);
    }
  }
  return files;
}

// bdirjson prints the options it knows by their long names, and finds a
// signature by the first letter of its code, so that every SHA is "Sha1".
json read_options(const json& options, ValueSource source) {
  json out = json::object();
  if (!options.is_object()) {
    throw InternalError(fmt::format("an Options block Bacularis cannot write: {}", options.dump()));
  }
  for (const auto& [key, value] : options.items()) {
    const std::string v = folded(token_of(value, source).text);
    if (same_word(key, "Signature")) {
      if (v == "md5") {
        out["Signature"] = "Md5";
      } else if (v == "sha1" || v == "sha256" || v == "sha512") {
        out["Signature"] = "Sha1";
      } else {
        throw ConfigError(fmt::format("Expected a FileSet option keyword, got: {}", v));
      }
    } else if (same_word(key, "Compression")) {
      if (v == "gzip") {
        out["Compression"] = "Gzip";
      } else if (v.size() == 5 && v.substr(0, 4) == "gzip" && v[4] >= '1' && v[4] <= '9') {
        out["Compression"] = fmt::format("Gzip{}", v[4]);
      } else if (v == "lzo") {
        out["Compression"] = "Lzo";
      } else {
        throw ConfigError(fmt::format("Expected a FileSet option keyword, got: {}", v));
      }
    } else if (same_word(key, "OneFS")) {
      if (v != "yes" && v != "no") {
        throw ConfigError(fmt::format("Expected a FileSet option keyword, got: {}", v));
      }
      out["OneFs"] = v == "yes" ? "Yes" : "No";
    } else {
      throw ConfigError(fmt::format("Keyword \"{}\" not permitted in this resource.", key));
    }
  }
  return out;
}

json read_include(const json& value, ValueSource source) {
  json out = json::array();
  for (const auto& block : list_of(value)) {
    if (!block.is_object()) {
      throw InternalError(fmt::format("an Include block Bacularis cannot write: {}", block.dump()));
    }
    json item = {{"File", files_of(block, source)}};
    for (const auto& [key, v] : block.items()) {
      if (same_word(key, "Options")) {
        json options = json::array();
        for (const auto& o : list_of(v)) {
          options.push_back(read_options(o, source));
        }
        if (!options.empty()) {
          item["Options"] = std::move(options);
        }
      } else if (!same_word(key, "File")) {
        throw ConfigError(fmt::format("Keyword \"{}\" not permitted in this resource.", key));
      }
    }
    out.push_back(std::move(item));
  }
  return out;
}

// Only the first Exclude block's files: bdirjson prints no other.
json read_exclude(const json& value, ValueSource source) {
  json blocks = list_of(value);
  json first = blocks.empty() ? json::object() : blocks[0];
  if (!first.is_object()) {
    throw InternalError(fmt::format("an Exclude block Bacularis cannot write: {}", first.dump()));
  }
  for (const auto& [key, v] : first.items()) {
    if (!same_word(key, "File")) {
      throw ConfigError(fmt::format("Keyword \"{}\" not permitted in this resource.", key));
    }
  }
  return {{"File", files_of(first, source)}};
}

json read_value(const Directive& d, const json& value, ValueSource source) {
  switch (d.kind) {
  case Kind::runs:
    return read_runs(value);
  case Kind::include:
    return read_include(value, source);
  case Kind::exclude:
    return read_exclude(value, source);
  case Kind::references: {
    json out = json::array();
    for (const auto& item : list_of(value)) {
      out.push_back(read_name(token_of(item, source)));
    }
    return out;
  }
  default:
    break;
  }
  if (value.is_array() || value.is_object()) {
    throw ConfigError(fmt::format("{} takes one value, not {}", d.key, value.dump()));
  }
  const Token t = token_of(value, source);
  switch (d.kind) {
  case Kind::name:
  case Kind::reference:
    return read_name(t);
  case Kind::text:
    return t.text;
  case Kind::integer:
    return read_integer(t);
  case Kind::duration:
    return read_duration(t);
  case Kind::boolean:
    return read_boolean(t);
  case Kind::job_type:
    if (auto word = keyword(k_job_types, t.text)) {
      return std::string(*word);
    }
    throw ConfigError(fmt::format("Expected a Job Type keyword, got: {} (one of {})", t.text,
                                  listed(k_job_types)));
  case Kind::job_level:
    if (auto word = keyword(k_job_levels, t.text)) {
      return std::string(*word);
    }
    throw ConfigError(fmt::format("Expected a Job Level keyword, got: {} (one of {})", t.text,
                                  listed(k_job_levels)));
  default:
    break;
  }
  return t.text;
}

} // namespace

std::span<const ResourceType> resource_types() {
  return k_types;
}

const ResourceType* find_type(std::string_view type) {
  return find_type_in_table(type);
}

const ResourceType& type_of(std::string_view canonical) {
  const ResourceType* t = find_type(canonical);
  if (t == nullptr) {
    throw ConfigError(fmt::format("unknown resource type \"{}\"", canonical));
  }
  return *t;
}

std::span<const std::pair<std::string_view, std::string_view>> run_references() {
  return k_run_references;
}

json list_of(const json& value) {
  return value.is_array() ? value : json::array({value});
}

void require(const ResourceType& type, const json& resource) {
  for (const auto& d : type.directives) {
    if (d.required && !resource.contains(std::string(d.key))) {
      if (type.name == "Job") {
        throw ConfigError(fmt::format("\"{}\" directive in Job \"{}\" resource is required, but "
                                      "not found.",
                                      d.key, resource.value("Name", "")));
      }
      throw ConfigError(fmt::format("\"{}\" directive is required in \"{}\" resource, but not "
                                    "found.",
                                    d.key, type.name));
    }
  }
}

std::optional<std::string> canonical_type(std::string_view type) {
  const ResourceType* t = find_type(type);
  return t == nullptr ? std::nullopt : std::optional<std::string>(t->name);
}

bool editable_type(std::string_view type) {
  const ResourceType* t = find_type(type);
  return t != nullptr && t->editable;
}

json read_resource(std::string_view type, const json& directives, ValueSource source) {
  const ResourceType& t = type_of(type);
  if (!directives.is_object()) {
    throw InternalError("the resource's directives are not a JSON object");
  }
  json out = json::object();
  for (const auto& [key, value] : directives.items()) {
    const Directive* d = find_directive(t, key);
    if (d == nullptr) {
      throw ConfigError(fmt::format("Keyword \"{}\" not permitted in this resource.", key));
    }
    if (value.is_null()) {
      throw InternalError(fmt::format("{} has no value", key));
    }
    out[std::string(d->key)] = read_value(*d, value, source);
  }
  require(t, out);
  return out;
}

} // namespace stove::sandbox::bacula
