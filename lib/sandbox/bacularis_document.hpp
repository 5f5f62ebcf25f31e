#pragma once

// The document DATA_DIR/bacula.json holds: the director's editable
// resources and the job catalog (bacula_jobs.hpp).

#include "sandbox/bacula_config.hpp"
#include "sandbox/bacula_jobs.hpp"

#include <nlohmann/json.hpp>

namespace stove::sandbox {

nlohmann::json bacula_document(const bacula::Resources& config, const BaculaJobs& jobs);

// The resources of a data document. Version 1 kept each directive's value
// as its text ("30 days", "yes") and the type FileSet; they are read as the
// director reads that text, and a Client without a Password gets the
// sandbox's. Throws std::runtime_error saying what is wrong.
bacula::Resources resources_from_document(const nlohmann::json& document);

} // namespace stove::sandbox
