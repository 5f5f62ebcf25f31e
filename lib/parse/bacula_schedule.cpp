#include "parse/bacula_schedule.hpp"

#include "model/bacula_duration.hpp"
#include "model/bacula_name.hpp"
#include "util/suggest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

namespace stove {

namespace {

struct Token {
  enum Type { word, equals, quoted } type = word;
  std::string_view text;  // without the quotes
  size_t offset = 0;      // of the token's first byte (the quote, if quoted)
};

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

// The date and time words, by what they set.
enum class Part { ignored, at, lastday, weekday, month, week_of_month, hourly, daily, weekly, monthly };

struct Keyword {
  std::string_view name;
  Part part;
  int code;
};

constexpr std::array k_keywords = {
    Keyword{"on", Part::ignored, 0},         Keyword{"at", Part::at, 0},
    Keyword{"lastday", Part::lastday, 0},    Keyword{"sun", Part::weekday, 0},
    Keyword{"mon", Part::weekday, 1},        Keyword{"tue", Part::weekday, 2},
    Keyword{"wed", Part::weekday, 3},        Keyword{"thu", Part::weekday, 4},
    Keyword{"fri", Part::weekday, 5},        Keyword{"sat", Part::weekday, 6},
    Keyword{"sunday", Part::weekday, 0},     Keyword{"monday", Part::weekday, 1},
    Keyword{"tuesday", Part::weekday, 2},    Keyword{"wednesday", Part::weekday, 3},
    Keyword{"thursday", Part::weekday, 4},   Keyword{"friday", Part::weekday, 5},
    Keyword{"saturday", Part::weekday, 6},   Keyword{"jan", Part::month, 0},
    Keyword{"feb", Part::month, 1},          Keyword{"mar", Part::month, 2},
    Keyword{"apr", Part::month, 3},          Keyword{"may", Part::month, 4},
    Keyword{"jun", Part::month, 5},          Keyword{"jul", Part::month, 6},
    Keyword{"aug", Part::month, 7},          Keyword{"sep", Part::month, 8},
    Keyword{"oct", Part::month, 9},          Keyword{"nov", Part::month, 10},
    Keyword{"dec", Part::month, 11},         Keyword{"january", Part::month, 0},
    Keyword{"february", Part::month, 1},     Keyword{"march", Part::month, 2},
    Keyword{"april", Part::month, 3},        Keyword{"june", Part::month, 5},
    Keyword{"july", Part::month, 6},         Keyword{"august", Part::month, 7},
    Keyword{"september", Part::month, 8},    Keyword{"october", Part::month, 9},
    Keyword{"november", Part::month, 10},    Keyword{"december", Part::month, 11},
    Keyword{"daily", Part::daily, 0},        Keyword{"weekly", Part::weekly, 0},
    Keyword{"monthly", Part::monthly, 0},    Keyword{"hourly", Part::hourly, 0},
    Keyword{"1st", Part::week_of_month, 0},  Keyword{"2nd", Part::week_of_month, 1},
    Keyword{"3rd", Part::week_of_month, 2},  Keyword{"4th", Part::week_of_month, 3},
    Keyword{"5th", Part::week_of_month, 4},  Keyword{"6th", Part::week_of_month, 5},
    Keyword{"first", Part::week_of_month, 0}, Keyword{"second", Part::week_of_month, 1},
    Keyword{"third", Part::week_of_month, 2}, Keyword{"fourth", Part::week_of_month, 3},
    Keyword{"fifth", Part::week_of_month, 4}, Keyword{"sixth", Part::week_of_month, 5},
};

const Keyword* find_keyword(std::string_view word) {
  for (const auto& k : k_keywords) {
    if (iequals(k.name, word)) {
      return &k;
    }
  }
  return nullptr;
}

enum class Override { level, resource, priority, yes_no, duration };

struct OverrideField {
  std::string_view name;
  Override type;
};

constexpr std::array k_overrides = {
    OverrideField{"Level", Override::level},
    OverrideField{"Pool", Override::resource},
    OverrideField{"FullPool", Override::resource},
    OverrideField{"IncrementalPool", Override::resource},
    OverrideField{"DifferentialPool", Override::resource},
    OverrideField{"NextPool", Override::resource},
    OverrideField{"Storage", Override::resource},
    OverrideField{"Messages", Override::resource},
    OverrideField{"Priority", Override::priority},
    OverrideField{"Accurate", Override::yes_no},
    OverrideField{"SpoolData", Override::yes_no},
    OverrideField{"WritePartAfterJob", Override::yes_no},
    OverrideField{"MaxRunSchedTime", Override::duration},
};

// The levels of a Backup job (the others belong to Verify jobs).
constexpr std::array<std::string_view, 5> k_levels = {"Full", "Incremental", "Differential",
                                                      "VirtualFull", "Base"};

const OverrideField* find_override(std::string_view word) {
  for (const auto& o : k_overrides) {
    if (iequals(o.name, word)) {
      return &o;
    }
  }
  return nullptr;
}

bool is_level(std::string_view word) {
  return std::any_of(k_levels.begin(), k_levels.end(),
                     [&](std::string_view l) { return iequals(l, word); });
}

// The level as the director spells it ("full" -> "Full").
std::string_view level_name(std::string_view word) {
  for (std::string_view l : k_levels) {
    if (iequals(l, word)) {
      return l;
    }
  }
  return word;
}

// The name bdirjson prints an override under.
std::string_view json_name(const OverrideField& field) {
  return field.name == "WritePartAfterJob" ? std::string_view("writepartafterjob") : field.name;
}

bool yes(std::string_view word) { return iequals(word, "yes") || iequals(word, "true"); }

template <size_t N> void set_range(std::bitset<N>& bits, int from, int to, int last) {
  // As the director does: a range that runs backwards wraps around (and one
  // whose ends are equal takes every value).
  if (from < to) {
    for (int i = from; i <= to; ++i) {
      bits.set(static_cast<size_t>(i));
    }
    return;
  }
  for (int i = from; i <= last; ++i) {
    bits.set(static_cast<size_t>(i));
  }
  for (int i = 0; i <= to; ++i) {
    bits.set(static_cast<size_t>(i));
  }
}

std::string quote(std::string_view text) { return fmt::format("\"{}\"", text); }

class Checker {
public:
  explicit Checker(std::string_view run) : m_run(run) {
    // The director's defaults: every hour, day, month, weekday and week.
    m_result.hour.set();
    m_result.mday.set();
    m_result.month.set();
    m_result.wday.set();
    m_result.wom.set();
    m_result.woy.set();
  }

  // What the director reads; meaningful only when run() found no problem.
  const BaculaRun& result() const { return m_result; }

  std::optional<ScheduleProblem> run() {
    if (!tokenize()) {
      return m_problem;
    }
    if (m_tokens.empty()) {
      return problem(0, "is empty; write a Bacula Run directive such as "
                        "\"Level=Full sun at 02:00\"");
    }
    size_t i = 0;
    if (!overrides(i)) {
      return m_problem;
    }
    if (i < m_tokens.size() && m_tokens[i].type == Token::word && all_digits(m_tokens[i].text)) {
      // The director reads that word as a name, and a number is none.
      return problem(m_tokens[i].offset,
                     fmt::format("starts its date with the day {0}, which the director refuses "
                                 "there (\"expected a name\"); write \"on {0}\"",
                                 m_tokens[i].text));
    }
    if (i == m_tokens.size()) {
      // The director reads a word after each override and level: with none
      // left, it stops at the end of the line ("expected a name, got
      // T_EOL").
      return problem(m_run.size(), "has no date or time after its level and overrides; the "
                                   "director needs one, such as \"daily\" or \"sun at 02:00\"");
    }
    date_time(i);
    return m_problem;
  }

private:
  bool problem_once(size_t offset, std::string message) {
    if (!m_problem) {
      m_problem = ScheduleProblem{offset, std::move(message)};
    }
    return false;
  }
  std::optional<ScheduleProblem> problem(size_t offset, std::string message) {
    problem_once(offset, std::move(message));
    return m_problem;
  }

  bool tokenize() {
    size_t i = 0;
    while (i < m_run.size()) {
      char c = m_run[i];
      if (c == ' ' || c == '\t' || c == ',') {
        ++i;
      } else if (c == '=') {
        m_tokens.push_back({Token::equals, m_run.substr(i, 1), i});
        ++i;
      } else if (c == '"') {
        size_t end = m_run.find('"', i + 1);
        if (end == std::string_view::npos) {
          return problem_once(i, "has a quote that is never closed");
        }
        m_tokens.push_back({Token::quoted, m_run.substr(i + 1, end - i - 1), i});
        i = end + 1;
      } else if (c == '#' || c == ';' || c == '{' || c == '}' || c == '\n' || c == '\r') {
        return problem_once(i, fmt::format("cannot contain {}: the director would read the "
                                           "rest of the line differently",
                                           c == '\n' || c == '\r' ? std::string("a line break")
                                                                  : fmt::format("'{}'", c)));
      } else {
        size_t start = i;
        while (i < m_run.size() && m_run[i] != ' ' && m_run[i] != '\t' && m_run[i] != ',' &&
               m_run[i] != '=' && m_run[i] != '"') {
          ++i;
        }
        m_tokens.push_back({Token::word, m_run.substr(start, i - start), start});
      }
    }
    return true;
  }

  // Level=Full Pool=X ... and bare level words, up to the first date or time
  // word. Returns false on a problem.
  bool overrides(size_t& i) {
    while (i < m_tokens.size()) {
      const Token& t = m_tokens[i];
      if (t.type != Token::word) {
        if (t.type == Token::equals) {
          return problem_once(t.offset, "has '=' without an override name before it, as in "
                                        "\"Level=Full\"");
        }
        return problem_once(t.offset, fmt::format("has an unexpected quoted word {}",
                                                  quote(t.text)));
      }
      const bool assignment = i + 1 < m_tokens.size() && m_tokens[i + 1].type == Token::equals;
      const OverrideField* field = find_override(t.text);
      if (field == nullptr && assignment) {
        std::vector<std::string_view> names;
        for (const auto& o : k_overrides) {
          names.push_back(o.name);
        }
        return problem_once(t.offset, fmt::format("has an unknown override {}{} (overrides: {})",
                                                  quote(t.text), did_you_mean(t.text, names),
                                                  fmt::join(names, ", ")));
      }
      if (field == nullptr) {
        if (is_level(t.text)) {  // the old form: "Full sun at 02:00"
          m_result.overrides["Level"] = level_name(t.text);
          ++i;
          continue;
        }
        return true;  // the date and time start here
      }
      if (!assignment) {
        return problem_once(t.offset, fmt::format("expects '=' after {}, as in \"{}=...\"",
                                                  quote(t.text), field->name));
      }
      if (i + 2 >= m_tokens.size() || m_tokens[i + 2].type == Token::equals) {
        return problem_once(m_tokens[i + 1].offset,
                            fmt::format("expects a value after \"{}=\"", t.text));
      }
      const Token& value = m_tokens[i + 2];
      if (!check_override(*field, value)) {
        return false;
      }
      record_override(*field, value.text);
      i += 3;
    }
    return true;
  }

  bool check_override(const OverrideField& field, const Token& value) {
    switch (field.type) {
    case Override::level:
      if (!is_level(value.text)) {
        return problem_once(value.offset,
                            fmt::format("has an unknown level {}{} (levels: {})", quote(value.text),
                                        did_you_mean(value.text, k_levels),
                                        fmt::join(k_levels, ", ")));
      }
      return true;
    case Override::resource:
      if (check_bacula_name(value.text)) {
        return problem_once(value.offset,
                            fmt::format("has an invalid {} name {}: Bacula names use letters, "
                                        "digits, '-', '_', '.', ':' and spaces",
                                        field.name, quote(value.text)));
      }
      return true;
    case Override::priority:
      if (!all_digits(value.text) || value.text.size() > 9 || std::stol(std::string(value.text)) < 1) {
        return problem_once(value.offset,
                            fmt::format("expects Priority to be a positive integer, got {}",
                                        quote(value.text)));
      }
      return true;
    case Override::yes_no:
      if (!iequals(value.text, "yes") && !iequals(value.text, "no") &&
          !iequals(value.text, "true") && !iequals(value.text, "false")) {
        return problem_once(value.offset, fmt::format("expects {} to be yes or no, got {}",
                                                      field.name, quote(value.text)));
      }
      return true;
    case Override::duration:
      if (!bacula_duration_seconds(value.text)) {
        return problem_once(value.offset,
                            fmt::format("expects {} to be a duration such as \"2 hours\", got {}",
                                        field.name, quote(value.text)));
      }
      return true;
    }
    return true;
  }

  void record_override(const OverrideField& field, std::string_view value) {
    const std::string name(json_name(field));
    switch (field.type) {
    case Override::level: m_result.overrides[name] = level_name(value); break;
    case Override::resource: m_result.overrides[name] = std::string(value); break;
    case Override::priority: m_result.overrides[name] = std::stol(std::string(value)); break;
    case Override::yes_no: m_result.overrides[name] = yes(value); break;
    case Override::duration: m_result.overrides[name] = *bacula_duration_seconds(value); break;
    }
  }

  // The first word of a kind replaces the default (every value) with
  // itself; later ones add to it.
  template <size_t N> void first_of_kind(bool& have, std::bitset<N>& bits) {
    if (!have) {
      bits.reset();
      have = true;
    }
  }

  void keyword(const Keyword& k) {
    switch (k.part) {
    case Part::ignored: break;
    case Part::at: break; // the checker reads the time that follows
    case Part::lastday:
      first_of_kind(m_have_mday, m_result.mday);
      m_result.last_day = true;
      break;
    case Part::weekday:
      first_of_kind(m_have_wday, m_result.wday);
      m_result.wday.set(static_cast<size_t>(k.code));
      break;
    case Part::month:
      first_of_kind(m_have_month, m_result.month);
      m_result.month.set(static_cast<size_t>(k.code));
      break;
    case Part::week_of_month:
      first_of_kind(m_have_wom, m_result.wom);
      m_result.wom.set(static_cast<size_t>(k.code));
      break;
    case Part::hourly:
      m_have_hour = true;
      m_result.hour.set();
      break;
    case Part::daily:
      // As the director has it: "daily" marks the days of the month as
      // given and sets every weekday.
      m_have_mday = true;
      m_result.wday.set();
      break;
    case Part::weekly:
      m_have_mday = m_have_wom = m_have_woy = true;
      m_result.mday.set();
      m_result.wom.set();
      m_result.woy.set();
      break;
    case Part::monthly:
      m_have_month = true;
      m_result.month.set();
      break;
    }
  }

  void date_time(size_t i) {
    for (; i < m_tokens.size(); ++i) {
      const Token& t = m_tokens[i];
      if (t.type == Token::equals) {
        problem_once(t.offset, "has an unexpected '='");
        return;
      }
      if (t.type == Token::quoted) {
        problem_once(t.offset, fmt::format("has an unexpected quoted word {}", quote(t.text)));
        return;
      }
      const bool assignment = i + 1 < m_tokens.size() && m_tokens[i + 1].type == Token::equals;
      if (assignment || find_override(t.text) != nullptr || is_level(t.text)) {
        problem_once(t.offset, fmt::format("has {} after the date and time: overrides such as "
                                           "Level= must come first",
                                           quote(t.text)));
        return;
      }
      if (!date_time_word(t)) {
        return;
      }
      if (const Keyword* k = find_keyword(t.text); k != nullptr && k->part == Part::at) {
        if (i + 1 >= m_tokens.size()) {
          problem_once(t.offset, "expects a time after \"at\", such as 02:00");
          return;
        }
        const Token& next = m_tokens[i + 1];
        if (next.type != Token::word || next.text.find(':') == std::string_view::npos ||
            next.text.find('-') != std::string_view::npos) {
          problem_once(next.offset, fmt::format("expects a time after \"at\", such as 02:00, "
                                                "got {}",
                                                quote(next.text)));
          return;
        }
        if (!time(next)) {
          return;
        }
        ++i;
      }
    }
  }

  bool date_time_word(const Token& t) {
    std::string_view w = t.text;
    if (all_digits(w)) {
      return day(w, t.offset);
    }
    if (w.find('-') != std::string_view::npos) {
      return range(t);
    }
    if (w.find(':') != std::string_view::npos) {
      return problem_once(t.offset, fmt::format("has the time {} without \"at\" before it "
                                                "(write \"at {}\")",
                                                quote(w), w));
    }
    if (week_of_year(w)) {
      return week_number(w, t.offset);
    }
    if (const Keyword* k = find_keyword(w)) {
      keyword(*k);
      return true;
    }
    std::vector<std::string_view> names;
    for (const auto& k : k_keywords) {
      names.push_back(k.name);
    }
    std::string lowered = lower(w);
    return problem_once(t.offset,
                        fmt::format("has an unknown word {}{}; expected a day of the month "
                                    "(1-31), a weekday, a month, a week (1st-6th, w00-w53), "
                                    "lastday, hourly, daily, weekly, monthly or \"at H:MM\"",
                                    quote(w), did_you_mean(lowered, names)));
  }

  static bool week_of_year(std::string_view w) {
    return w.size() == 3 && (w[0] == 'w' || w[0] == 'W') && all_digits(w.substr(1));
  }

  bool day(std::string_view w, size_t offset) {
    if (w.size() > 2 || std::stoi(std::string(w)) < 1 || std::stoi(std::string(w)) > 31) {
      return problem_once(offset, fmt::format("has the day {}: days of the month run from 1 to 31",
                                              quote(w)));
    }
    first_of_kind(m_have_mday, m_result.mday);
    m_result.mday.set(static_cast<size_t>(std::stoi(std::string(w)) - 1));
    return true;
  }

  bool week_number(std::string_view w, size_t offset) {
    if (std::stoi(std::string(w.substr(1))) > 53) {
      return problem_once(offset, fmt::format("has the week {}: weeks of the year run from w00 "
                                              "to w53",
                                              quote(w)));
    }
    first_of_kind(m_have_woy, m_result.woy);
    m_result.woy.set(static_cast<size_t>(std::stoi(std::string(w.substr(1)))));
    return true;
  }

  // H:MM or HH:MM, 0-23, or 1-12 followed by am or pm.
  bool time(const Token& t) {
    std::string_view w = t.text;
    size_t colon = w.find(':');
    std::string_view hour = w.substr(0, colon);
    std::string_view rest = w.substr(colon + 1);
    std::string_view minute = rest.substr(0, std::min<size_t>(2, rest.size()));
    std::string_view suffix = rest.substr(minute.size());
    auto bad = [&](std::string_view why) {
      return problem_once(t.offset, fmt::format("has the time {}: {}", quote(w), why));
    };
    if (!all_digits(hour) || hour.size() > 2 || !all_digits(minute) || minute.size() != 2) {
      return bad("write H:MM or HH:MM, e.g. 02:00 or 2:30pm");
    }
    int h = std::stoi(std::string(hour));
    int m = std::stoi(std::string(minute));
    if (!suffix.empty()) {
      if (!iequals(suffix, "am") && !iequals(suffix, "pm")) {
        return bad("only am or pm may follow the minutes");
      }
      if (h > 12) {
        return bad("with am or pm, the hour runs from 0 to 12");
      }
    } else if (h > 23) {
      return bad("the hour runs from 0 to 23");
    }
    if (m > 59) {
      return bad("the minutes run from 00 to 59");
    }
    // 12am is 00:00 and 12pm 12:00, as the director has them.
    if (iequals(suffix, "pm") && h != 12) {
      h += 12;
    } else if (iequals(suffix, "am") && h == 12) {
      h = 0;
    }
    if (!m_have_hour) {
      m_result.hour.reset();
    }
    m_have_hour = true;
    m_result.hour.set(static_cast<size_t>(h));
    m_result.minute = m;
    return true;
  }

  bool range(const Token& t) {
    std::string_view w = t.text;
    size_t dash = w.find('-');
    std::string_view from = w.substr(0, dash);
    std::string_view to = w.substr(dash + 1);
    auto bad = [&](std::string_view why) {
      return problem_once(t.offset, fmt::format("has the range {}: {}", quote(w), why));
    };
    if (to.find('-') != std::string_view::npos || from.empty() || to.empty()) {
      return bad("write FIRST-LAST, e.g. mon-fri, 1-15, jan-mar or w01-w26");
    }
    if (all_digits(from) && all_digits(to)) {
      if (from.size() > 2 || to.size() > 2) {
        return bad("days of the month run from 1 to 31");
      }
      int a = std::stoi(std::string(from));
      int b = std::stoi(std::string(to));
      if (a < 1 || a > 31 || b < 1 || b > 31) {
        return bad("days of the month run from 1 to 31");
      }
      first_of_kind(m_have_mday, m_result.mday);
      set_range(m_result.mday, a - 1, b - 1, 30);
      return true;
    }
    if (week_of_year(from) && week_of_year(to)) {
      if (std::stoi(std::string(from.substr(1))) > 53 || std::stoi(std::string(to.substr(1))) > 53) {
        return bad("weeks of the year run from w00 to w53");
      }
      first_of_kind(m_have_woy, m_result.woy);
      set_range(m_result.woy, std::stoi(std::string(from.substr(1))),
                std::stoi(std::string(to.substr(1))), 53);
      return true;
    }
    const Keyword* a = find_keyword(from);
    const Keyword* b = find_keyword(to);
    auto rangeable = [](const Keyword* k) {
      return k != nullptr &&
             (k->part == Part::weekday || k->part == Part::month || k->part == Part::week_of_month);
    };
    if (!rangeable(a) || !rangeable(b) || a->part != b->part) {
      return bad("both ends must be days of the month, weekdays, months, weeks of the month "
                 "or weeks of the year");
    }
    if (a->code == b->code) {
      return bad("its two ends are the same");
    }
    if (a->part == Part::weekday) {
      first_of_kind(m_have_wday, m_result.wday);
      set_range(m_result.wday, a->code, b->code, 6);
    } else if (a->part == Part::month) {
      first_of_kind(m_have_month, m_result.month);
      set_range(m_result.month, a->code, b->code, 11);
    } else {
      first_of_kind(m_have_wom, m_result.wom);
      set_range(m_result.wom, a->code, b->code, 5);
    }
    return true;
  }

  std::string_view m_run;
  std::vector<Token> m_tokens;
  std::optional<ScheduleProblem> m_problem;
  BaculaRun m_result;
  bool m_have_hour = false;
  bool m_have_mday = false;
  bool m_have_wday = false;
  bool m_have_month = false;
  bool m_have_wom = false;
  bool m_have_woy = false;
};

} // namespace

std::optional<ScheduleProblem> check_bacula_schedule(std::string_view run) {
  return Checker(run).run();
}

std::optional<BaculaRun> parse_bacula_run(std::string_view run) {
  Checker checker(run);
  if (checker.run()) {
    return std::nullopt;
  }
  return checker.result();
}

} // namespace stove
