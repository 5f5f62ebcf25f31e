#pragma once

// The backup's `run` action (stove exec) over Bacularis (internal to
// lib/providers): POST jobs/run with what Bacularis requires (the job's
// level, or the one asked for, as a letter, and its Client, Fileset,
// Storage and Pool), then GET jobs/{jobid} until the job ends. T (and W,
// terminated with warnings) is success; E, e, f and I are failures and A a
// cancel, each with the job log's last error. The run's record is observed
// as last_job (id, status, level, started, ended, files, bytes), whatever
// its end.

#include "providers/bacularis_api.hpp"

namespace stove::providers::bacularis {

ActionResult run_job(Api& api, const Target& target, const nlohmann::json& params,
                     const OpContext& context);

} // namespace stove::providers::bacularis
