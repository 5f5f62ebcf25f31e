#pragma once

// Checks the syntax of a Bacula Schedule `Run` directive, the value of a
// backup's `schedule`, as the director's parser (store_run/store_runbase)
// reads it, so that a typo is reported at validate time with its position
// instead of by the director after a reload:
//
//   Run = [Override=value ...] [date-time specification]
//
// Overrides: Level (Full, Incremental, Differential, VirtualFull, Base),
// Pool, FullPool, IncrementalPool, DifferentialPool, NextPool, Storage,
// Messages (resource names), Priority (a positive integer), Accurate,
// SpoolData, WritePartAfterJob (yes/no/true/false), MaxRunSchedTime (a
// duration such as "2 hours"). A bare level word ("Full sun at 02:00") is the
// old form, still accepted.
//
// Date and time, in any order, separated by spaces or commas, all
// case-insensitive: `on` (ignored); `at H:MM[am|pm]`; a day of the month
// 1-31; `lastday`; weekdays (sun, monday ...); months (jan, february ...);
// week of the month (1st-6th, first-sixth); week of the year w00-w53;
// `hourly`, `daily`, `weekly`, `monthly`; ranges of one kind (mon-fri,
// 1-15, jan-mar, w01-w26, 1st-3rd). Something must follow the overrides (the
// director reads a word after each), but a date alone will do: without
// "at", a Run fires every hour of the days it names, as Bacula has it.

#include "model/bacula_run.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace stove {

struct ScheduleProblem {
  size_t offset = 0;  // byte offset in the directive of the word at fault
  std::string message;
};

// nullopt when `run` is a valid Run directive.
std::optional<ScheduleProblem> check_bacula_schedule(std::string_view run);

// What the director reads `run` as (its overrides and the times it fires),
// or nullopt when check_bacula_schedule() finds a problem.
std::optional<BaculaRun> parse_bacula_run(std::string_view run);

} // namespace stove
