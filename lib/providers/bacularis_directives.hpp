#pragma once

// What a backup is in the director (internal to lib/providers): the five
// resources stove writes for it, in the form Bacularis takes them, the form
// bdirjson prints them back in, and what stove observes of them.
//
// JOB is the backup's name, the remote id; MACHINE-fd is its machine's
// Client, shared by the machine's backups:
//   Client   MACHINE-fd    Address (the machine's ip_address), FdPort 9102,
//                          Catalog MyCatalog, AutoPrune, Password (the file
//                          daemons' password: required by the director; a
//                          secret, never observed)
//   Fileset  JOB-fileset   Include [{File, Options [{Signature MD5}]}],
//                          Exclude {File} (left out when empty)
//   Schedule JOB-schedule  Run [the schedule, as its text]
//   Pool     JOB-pool      VolumeRetention, JobRetention, FileRetention in
//                          seconds (retention_days), PoolType Backup,
//                          AutoPrune, Recycle, LabelFormat "JOB-"
//   Job      JOB           Type Backup, Level Incremental, Client, Fileset,
//                          Schedule, Pool, Storage [File1], Messages
//                          Standard, Enabled
// Strings are sent as strings (Bacularis quotes them), periods as integer
// seconds (a quoted period is refused by the director), booleans as
// booleans (written yes/no); bdirjson prints Storage as a list, Signature as
// "Md5" and each Run as an object of bits.

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stove::providers::bacularis {

// `object[name]`, or null when `object` is no object or lacks it.
nlohmann::json value_of(const nlohmann::json& object, const char* name);
// `object[name]` when it is a string, else "".
std::string string_of(const nlohmann::json& object, const char* name);
std::string lower_ascii(std::string text);

// The names a backup's resources get.
struct Names {
  std::string job;
  std::string fileset;
  std::string schedule;
  std::string pool;

  explicit Names(std::string job_name);
};

// The directives stove writes, as Bacularis takes them.
nlohmann::json client_directives(const std::string& name, const std::string& address,
                                 const std::optional<std::string>& password);
nlohmann::json fileset_directives(const std::string& name, const std::vector<std::string>& files,
                                  const std::vector<std::string>& excludes);
nlohmann::json schedule_directives(const std::string& name, const std::string& run);
nlohmann::json pool_directives(const Names& names, int64_t retention_days);
nlohmann::json job_directives(const Names& names, const std::string& client, bool enabled);

// The directives stove manages in a resource of `type`: a write sets these
// and keeps the others (a Client's Password, unless stove has one).
std::vector<std::string> managed_keys(std::string_view type);

// `directives` (as written) the way bdirjson prints them back.
nlohmann::json read_form(std::string_view type, const nlohmann::json& directives);

// Whether `have` (bdirjson's) has every directive of `want` (also
// bdirjson's) with the same value; a Password only when `want` has one.
bool matches(const nlohmann::json& have, const nlohmann::json& want);
// The directives of `want` that `have` lacks or holds otherwise, for
// messages; a Password is never shown.
std::string differences(const nlohmann::json& have, const nlohmann::json& want);

// `current` (bdirjson's, a valid write form too) with stove's directives
// set from `wanted`, or removed where `wanted` leaves them out.
nlohmann::json merged(std::string_view type, const nlohmann::json& current,
                      const nlohmann::json& wanted);

// What makes a Job the one stove would make: the resources it names.
nlohmann::json job_identity(const nlohmann::json& job);

// Finds a resource by type ("Schedule", "Fileset", "Pool") and name.
using Lookup =
    std::function<std::optional<nlohmann::json>(std::string_view type, const std::string& name)>;

// What stove observes of the Job `job`, named `name`, and of the Schedule,
// Fileset and Pool it names, found through `lookup`: name, client, enabled,
// schedule (the Run as directive text), fileset and excludes, and
// retention_days (the Pool's VolumeRetention in days). What the job lacks
// is observed as null.
nlohmann::json observed_of(const std::string& name, const nlohmann::json& job,
                           const Lookup& lookup);

// `observed` with its schedule replaced by `spec_schedule` when both read as
// the same Run: the text the file has, not the director's rewriting of it.
nlohmann::json with_spec_schedule(nlohmann::json observed, const nlohmann::json& spec_schedule);

} // namespace stove::providers::bacularis
