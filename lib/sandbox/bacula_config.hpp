#pragma once

// The sandbox director's configuration: the resources of a bacula-dir 9.6
// that the sandbox keeps, read the way the real pair reads them and printed
// the way bdirjson prints them.
//
// Bacularis writes a resource it is given as JSON into the director's
// configuration file (BaculaSetting::formatDirectiveValue, then
// ConfigBacula): strings quoted, integers bare, booleans as yes/no, a list
// as one line per item, an object as a nested block, and a Schedule's Run
// items as their text (an object, as bdirjson prints it, turned back into
// text). It then has the file checked (bdirjson -t) and reads resources back
// through bdirjson. read_resource() is that round trip for one resource,
// check_config() the checks that span resources, and config_text() the file.
//
// Kept: Client, Fileset (bdirjson's spelling of FileSet), Schedule, Pool and
// Job, each with the directives listed in bacula_config.cpp (an unknown one
// is refused as the director refuses it), and a fixed Director, Catalog,
// Messages and Storage, so that the file is one a real director loads.

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace stove::sandbox::bacula {

// The director's refusal, worded as its parser words it ("Keyword \"Foo\"
// not permitted in this resource.").
class ConfigError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Bacularis' answer for a Bacularis request it cannot carry out (error
// 1000, "Internal error."): a body PHP cannot take apart.
class InternalError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Type -> name -> the resource as bdirjson prints it.
using Resources = std::map<std::string, std::map<std::string, nlohmann::json>, std::less<>>;

// The type as bdirjson spells it ("Fileset" for "FileSet" or "fileset"),
// matched without regard to case as bdirjson matches -r; nullopt for a
// type the sandbox does not keep.
std::optional<std::string> canonical_type(std::string_view type);

// Whether resources of this (canonical) type are the API's to change; the
// Director, Catalog, Messages and Storage are fixed.
bool editable_type(std::string_view type);

// How the values of a resource to read are written.
enum class ValueSource {
  bacularis_json, // the JSON object given to Bacularis' config endpoints
  directive_text, // each string is the directive's text as it stands in the
                  // file (the sandbox's version 1 data)
};

// Reads one resource of the canonical `type` and returns it as bdirjson
// prints it. Throws ConfigError for what the director refuses, and
// InternalError for what Bacularis cannot take apart.
nlohmann::json read_resource(std::string_view type, const nlohmann::json& directives,
                             ValueSource source = ValueSource::bacularis_json);

// The resource `type` `name` (type canonical), or nullptr.
const nlohmann::json* find_resource(const Resources& resources, std::string_view type,
                                    const std::string& name);

// The fixed resources, for a director whose working and pid directories
// are `working_directory`.
Resources base_resources(const std::string& working_directory);

// The checks bdirjson -t makes once every resource is read: required
// directives, references to resources that exist (a Schedule's Run
// overrides included), and a Job's Storage (in the Job or its Pool).
// Throws ConfigError.
void check_config(const Resources& resources);

// What refers to `type` `name`, as Bacularis' DataDependencies lists it:
// [{"component_type": "Director", "resource_type", "resource_name",
// "directive_name"}, ...].
nlohmann::json dependents(const Resources& resources, std::string_view type, std::string_view name);

// Renames `type` `from` to `to` in every directive that refers to it (as
// Bacularis does when a PUT renames a resource).
void rename_references(Resources& resources, std::string_view type, const std::string& from,
                       const std::string& to);

// The bacula-dir.conf that holds `resources`: what a real director would
// load, and bdirjson would print as they are.
std::string config_text(const Resources& resources);

} // namespace stove::sandbox::bacula
