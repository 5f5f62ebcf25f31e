#pragma once

// The directives the sandbox's director knows, by resource type, and how it
// reads their values (bacula_config.hpp has the whole picture). Internal to
// lib/sandbox.

#include "sandbox/bacula_config.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

namespace stove::sandbox::bacula {

// How the director reads a directive's value, and bdirjson prints it.
enum class Kind : uint8_t {
  name,       // a resource name: a string
  text,       // a string
  integer,    // a positive 32-bit integer (a quoted one is read too)
  duration,   // a time period, printed in seconds; never quoted
  boolean,    // yes/no/true/false, printed as true/false
  reference,  // the name of a resource of `refers_to`
  references, // names of resources of `refers_to`, one per line: a list
  job_type,   // Backup, Restore, ...: printed as the director spells it
  job_level,  // Full, Incremental, ...
  runs,       // Schedule Run lines: a list of run objects
  include,    // FileSet Include blocks: a list of {File, Options}
  exclude,    // FileSet Exclude blocks: the first one's {File}
};

struct Directive {
  std::string_view key; // bdirjson's spelling
  Kind kind;
  std::string_view refers_to = {};
  bool required = false;
  std::string_view alias = {}; // another spelling the director reads
};

struct ResourceType {
  std::string_view name; // bdirjson's spelling
  std::span<const Directive> directives;
  bool editable;
};

// Every type, in the order the director's file lists them.
std::span<const ResourceType> resource_types();
// The type whose name `type` is, regardless of case and spaces, or nullptr.
const ResourceType* find_type(std::string_view type);
// The type of a canonical name; throws ConfigError for another.
const ResourceType& type_of(std::string_view canonical);
// The Run overrides that name resources, with the types they name.
std::span<const std::pair<std::string_view, std::string_view>> run_references();

// `value` as an array: itself, or a list of it.
nlohmann::json list_of(const nlohmann::json& value);

// Throws ConfigError, worded as the director words it, when `resource`
// (bdirjson's form) lacks a directive its type requires.
void require(const ResourceType& type, const nlohmann::json& resource);

} // namespace stove::sandbox::bacula
