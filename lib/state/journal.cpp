#include "state/journal.hpp"

#include "state/record_index.hpp"

#include "util/error.hpp"
#include "model/observed.hpp"
#include "state/statefile.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <optional>
#include <unistd.h>
#include <unordered_map>

namespace stove {

namespace {

using Json = nlohmann::json;

Json resource_to_json(const ResourceState& r) {
  return Json{{"address", r.address},       {"kind", r.kind},
              {"provider", r.provider},     {"remote_id", r.remote_id},
              {"parent", r.parent},         {"spec", r.spec},
              {"observed", r.observed},     {"status", to_string(r.status)},
              {"dependencies", r.dependencies}, {"created_at", r.created_at},
              {"updated_at", r.updated_at}};
}

ResourceState resource_from_json(const Json& j) {
  ResourceState r;
  r.address = j.at("address").get<std::string>();
  r.kind = j.at("kind").get<std::string>();
  r.provider = j.at("provider").get<std::string>();
  r.remote_id = j.at("remote_id").get<std::string>();
  r.parent = j.at("parent").get<std::string>();
  r.spec = j.at("spec");
  r.observed = j.at("observed");
  if (!parse_status(j.at("status").get<std::string>(), r.status)) {
    throw std::runtime_error("unknown status");
  }
  r.dependencies = j.at("dependencies").get<std::vector<std::string>>();
  r.created_at = j.at("created_at").get<std::string>();
  r.updated_at = j.at("updated_at").get<std::string>();
  return r;
}

std::string record(const Json& j) {
  // dump() escapes control characters, so a record is exactly one line.
  std::string line = j.dump(-1, ' ', false, Json::error_handler_t::replace);
  line.push_back('\n');
  return line;
}

} // namespace

std::string journal_path_for(const std::string& state_path) { return state_path + ".journal"; }

Journal::Journal(const std::string& state_path) : m_path(journal_path_for(state_path)) {
  m_fd = ::open(m_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (m_fd < 0) {
    throw Error(ErrorKind::io,
                fmt::format("{}: cannot open the apply journal: {}", m_path, std::strerror(errno)));
  }
}

Journal::~Journal() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

void Journal::begin(const State& state, const std::string& operation) {
  append(record(Json{{"t", "begin"},
                     {"lineage", state.lineage},
                     {"serial", state.serial},
                     {"operation", operation},
                     {"at", now_rfc3339()}}));
}

void Journal::intent(const ResourceState& resource) {
  append(record(Json{{"t", "intent"}, {"resource", resource_to_json(resource)}}));
}

void Journal::updating(const std::string& address, const Json& observed_before) {
  append(record(Json{{"t", "updating"}, {"address", address}, {"observed", observed_before}}));
}

void Journal::recorded(const ResourceState& resource) {
  append(record(Json{{"t", "recorded"}, {"resource", resource_to_json(resource)}}));
}

void Journal::deleted(const std::string& address) {
  append(record(Json{{"t", "deleted"}, {"address", address}}));
}

void Journal::failed(const std::string& address, const std::string& error) {
  append(record(Json{{"t", "failed"}, {"address", address}, {"error", error}}));
}

uint64_t Journal::records() const {
  std::lock_guard lock(m_mutex);
  return m_flushed;
}

// Group commit: the first caller to find no flush under way becomes the
// flusher and writes everything queued so far with one write and one
// fdatasync, looping while more arrives; the others wait for a flush that
// covers their record.
void Journal::append(std::string line) {
  std::unique_lock lock(m_mutex);
  m_pending.push_back(std::move(line));
  uint64_t mine = ++m_queued;
  while (m_flushed < mine && m_error.empty()) {
    if (m_flushing) {
      m_flushed_cv.wait(lock);
      continue;
    }
    m_flushing = true;
    std::vector<std::string> batch;
    batch.swap(m_pending);
    uint64_t upto = m_queued;
    lock.unlock();
    std::string data;
    for (auto& l : batch) {
      data += l;
    }
    std::string error;
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(m_fd, data.data() + done, data.size() - done);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        error = std::strerror(errno);
        break;
      }
      done += static_cast<size_t>(n);
    }
    if (error.empty() && ::fdatasync(m_fd) != 0) {
      error = std::strerror(errno);
    }
    lock.lock();
    m_flushing = false;
    if (error.empty()) {
      m_flushed = upto;
    } else {
      m_error = error;
    }
    m_flushed_cv.notify_all();
  }
  if (!m_error.empty()) {
    throw Error(ErrorKind::io,
                fmt::format("{}: cannot write the apply journal: {}", m_path, m_error));
  }
}

void Journal::remove() {
  if (::unlink(m_path.c_str()) != 0 && errno != ENOENT) {
    throw Error(ErrorKind::io,
                fmt::format("{}: cannot remove the apply journal: {}", m_path, std::strerror(errno)));
  }
}

namespace {

// The journal's text; nullopt if there is none.
std::optional<std::string> read_journal(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno != ENOENT) {
      throw Error(ErrorKind::state,
                  fmt::format("{}: cannot read the apply journal: {}", path, std::strerror(errno)));
    }
    return std::nullopt;
  }
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Folds a journal's records into a state, one at a time. Deleted resources
// stay in place, marked, until finish().
class Replay {
public:
  Replay(const std::string& path, const std::string& state_path, State& state)
      : m_path(path), m_state_path(state_path), m_state(state), m_records(state) {}

  // Applies record `j`, line `line_no` of the journal.
  void apply(const Json& j, size_t line_no) {
    const std::string t = j.at("t").get<std::string>();
    if (t == "begin") {
      begin(j, line_no);
    } else if (t == "intent") {
      ResourceState r = resource_from_json(j.at("resource"));
      r.status = ResourceStatus::processing;
      r.remote_id.clear();
      m_pending_intent[r.address] = true;
      m_records.upsert(std::move(r));
    } else if (t == "updating") {
      updating(j);
    } else if (t == "recorded") {
      ResourceState r = resource_from_json(j.at("resource"));
      m_pending_intent.erase(r.address);
      m_records.upsert(std::move(r));
    } else if (t == "deleted") {
      const auto address = j.at("address").get<std::string>();
      m_pending_intent.erase(address);
      m_records.remove(address);
    } else if (t == "failed") {
      if (ResourceState* r = m_records.find(j.at("address").get<std::string>())) {
        r->status = ResourceStatus::failed;
      }
    } else {
      throw Error(ErrorKind::state,
                  fmt::format("{}:{}: unknown journal record \"{}\"", m_path, line_no, t));
    }
  }

  // Intents with no result so far.
  size_t interrupted_creates() const { return m_pending_intent.size(); }

  // Takes the deleted resources out of the state.
  void finish() { m_records.compact(); }

private:
  void begin(const Json& j, size_t line_no) {
    const auto lineage = j.at("lineage").get<std::string>();
    if (!m_state.lineage.empty() && !lineage.empty() && lineage != m_state.lineage) {
      throw Error(ErrorKind::state,
                  fmt::format("{}:{}: the journal belongs to state lineage {}, but {} has "
                              "lineage {}; move the journal away if that state was replaced "
                              "on purpose",
                              m_path, line_no, lineage, m_state_path, m_state.lineage));
    }
    if (m_state.lineage.empty()) {
      m_state.lineage = lineage;
    }
  }

  void updating(const Json& j) {
    if (ResourceState* r = m_records.find(j.at("address").get<std::string>())) {
      r->status = ResourceStatus::processing;
      if (!r->observed.is_object()) {
        r->observed = Json::object();
      }
      r->observed[std::string(k_observed_interrupted_update)] = j.at("observed");
    }
  }

  const std::string& m_path;
  const std::string& m_state_path;
  State& m_state;
  RecordIndex m_records;
  std::unordered_map<std::string, bool> m_pending_intent;  // address -> intent not yet resolved
};

} // namespace

ReplayResult replay_journal(const std::string& state_path, State& state) {
  ReplayResult result;
  std::string path = journal_path_for(state_path);
  std::optional<std::string> text = read_journal(path);
  if (!text) {
    return result;
  }
  result.found = true;

  Replay replay(path, state_path, state);
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text->size()) {
    size_t end = text->find('\n', pos);
    ++line_no;
    if (end == std::string::npos) {
      // No newline: the crash cut this record short; it never took effect.
      result.truncated_tail = true;
      break;
    }
    std::string_view line(text->data() + pos, end - pos);
    pos = end + 1;
    if (line.empty()) {
      continue;
    }
    try {
      replay.apply(Json::parse(line), line_no);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Error(ErrorKind::state,
                  fmt::format("{}:{}: unreadable journal record: {}", path, line_no, e.what()));
    }
    ++result.records;
  }
  result.interrupted_creates = replay.interrupted_creates();
  replay.finish();
  return result;
}

} // namespace stove
