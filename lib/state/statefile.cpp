#include "state/statefile.hpp"

#include "util/error.hpp"
#include "util/atomic_file.hpp"
#include "util/random.hpp"
#include "state/state_reader.hpp"
#include "util/utf8.hpp"
#include "stove/version.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <iterator>
#include <limits>
#include <optional>
#include <string_view>
#include <unistd.h>
#include <unordered_map>

namespace stove {

namespace {

using Json = nlohmann::json;

// Closes a file descriptor on every path out of a scope.
class FdCloser {
public:
  explicit FdCloser(int fd) : m_fd(fd) {}
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  ~FdCloser() { ::close(m_fd); }

private:
  int m_fd;
};

[[noreturn]] void cannot_read(const std::string& path, int err) {
  throw Error(ErrorKind::io, fmt::format("{}: cannot read: {}", path, std::strerror(err)));
}

// The whole file. Throws stove::Error(io).
std::string read_whole_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    cannot_read(path, errno);
  }
  FdCloser closer(fd);
  std::string text;
  char buffer[65536];
  while (true) {
    ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got > 0) {
      text.append(buffer, static_cast<std::size_t>(got));
    } else if (got == 0) {
      return text;
    } else if (errno != EINTR) {
      cannot_read(path, errno);
    }
  }
}

[[noreturn]] void unserialisable(const std::string& what) {
  throw Error(ErrorKind::internal, "cannot serialise state: " + what);
}

// Appends `text` as a JSON string, escaped exactly as nlohmann::json::dump
// escapes it. Returns false, having appended garbage, if it is not UTF-8.
bool append_string(std::string& out, std::string_view text) {
  static constexpr char k_hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0; // start of the bytes not yet appended
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      std::size_t length = utf8_sequence_length(text, i);
      if (length == 0) {
        return false;
      }
      i += length;
      continue;
    }
    if (c >= 0x20 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    out.append(text.substr(run, i - run));
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      out += "\\u00";
      out.push_back(k_hex[c >> 4]);
      out.push_back(k_hex[c & 0xf]);
    }
    run = ++i;
  }
  out.append(text.substr(run));
  out.push_back('"');
  return true;
}

// Serialises the fields of one State, checking on the way what load_state
// would refuse, so that a state that cannot be read back is never written.
class StateWriter {
public:
  std::string take() { return std::move(m_out); }

  void document(const State& state) {
    m_out += "{\n";
    fmt::format_to(std::back_inserter(m_out), "  \"format_version\": {},\n",
                   k_state_format_version);
    fmt::format_to(std::back_inserter(m_out), "  \"serial\": {},\n", state.serial);
    m_context = "top level";
    string_field("  ", "lineage", state.lineage, true);
    string_field("  ", "stove_version", state.stove_version, true);
    m_out += "  \"resources\": ";
    if (state.resources.empty()) {
      m_out += "[]";
    } else {
      m_out += "[\n";
      std::unordered_map<std::string_view, std::size_t> seen;
      seen.reserve(state.resources.size());
      for (std::size_t i = 0; i < state.resources.size(); ++i) {
        const ResourceState& resource = state.resources[i];
        if (i > 0) {
          m_out += ",\n";
        }
        this->resource(resource, i);
        auto [it, inserted] = seen.emplace(resource.address, i);
        if (!inserted) {
          unserialisable(fmt::format("{}: duplicate address, also used by resource {}", m_context,
                                     it->second));
        }
      }
      m_out += "\n  ]";
    }
    m_out += ",\n";
    m_context = "top level";
    json_field("  ", "outputs", state.outputs, false);
    m_out += "}\n";
  }

private:
  void resource(const ResourceState& resource, std::size_t index) {
    m_context = fmt::format("resource {}", index);
    if (resource.address.empty()) {
      unserialisable(m_context + R"(: field "address" is empty)");
    }
    constexpr std::string_view indent = "      ";
    m_out += "    {\n";
    string_field(indent, "address", resource.address, true);
    // Now known to be UTF-8, the address can name the resource.
    m_context = fmt::format("resource {} ({})", index, Json(resource.address).dump());
    string_field(indent, "kind", resource.kind, true);
    string_field(indent, "provider", resource.provider, true);
    string_field(indent, "remote_id", resource.remote_id, true);
    string_field(indent, "parent", resource.parent, true);
    json_field(indent, "spec", resource.spec, true);
    json_field(indent, "observed", resource.observed, true);
    string_field(indent, "status", to_string(resource.status), true);
    m_out += indent;
    m_out += "\"dependencies\": ";
    if (resource.dependencies.empty()) {
      m_out += "[]";
    } else {
      m_out += "[\n";
      for (std::size_t i = 0; i < resource.dependencies.size(); ++i) {
        if (i > 0) {
          m_out += ",\n";
        }
        m_out += "        ";
        checked_string("dependencies", resource.dependencies[i]);
      }
      m_out += "\n      ]";
    }
    m_out += ",\n";
    string_field(indent, "created_at", resource.created_at, true);
    string_field(indent, "updated_at", resource.updated_at, false);
    m_out += "    }";
  }

  void string_field(std::string_view indent, std::string_view name, std::string_view value,
                    bool comma) {
    m_out += indent;
    m_out += '"';
    m_out += name;
    m_out += "\": ";
    checked_string(name, value);
    m_out += comma ? ",\n" : "\n";
  }

  void checked_string(std::string_view name, std::string_view value) {
    if (!append_string(m_out, value)) {
      unserialisable(fmt::format(R"({}: field "{}" is not valid UTF-8)", m_context, name));
    }
  }

  // An object value, indented as nlohmann::json::dump(2) would at this depth.
  void json_field(std::string_view indent, std::string_view name, const Json& value, bool comma) {
    if (!value.is_object()) {
      unserialisable(fmt::format(R"({}: field "{}" is not an object)", m_context, name));
    }
    std::string text;
    try {
      text = value.dump(2);
    } catch (const Json::exception& e) {
      unserialisable(fmt::format(R"({}: field "{}": {})", m_context, name, e.what()));
    }
    m_out += indent;
    m_out += '"';
    m_out += name;
    m_out += "\": ";
    // dump() escapes line breaks inside strings, so each raw one starts a line.
    for (char c : text) {
      m_out.push_back(c);
      if (c == '\n') {
        m_out += indent;
      }
    }
    m_out += comma ? ",\n" : "\n";
  }

  std::string m_out;
  std::string m_context; // names what is being written, for errors
};

} // namespace

State load_state(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return State{};
    }
    cannot_read(path, errno);
  }
  State state;
  FastReadOutcome outcome;
  {
    FdCloser closer(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    JsonInput input(fd);
    outcome = read_state_fast(input, state);
    if (input.read_error() != 0) {
      cannot_read(path, input.read_error());
    }
  }
  if (outcome.understood && !outcome.problem) {
    state.exists = true;
    return state;
  }
  // Only now is the whole text needed: to explain malformed JSON, and to turn
  // byte offsets into lines and columns.
  state = State{};
  std::string text = read_whole_file(path);
  std::optional<StateProblem> problem = outcome.problem;
  if (!outcome.understood) {
    problem = read_state_text(text, state);
    if (!problem) {
      state.exists = true;
      return state;
    }
  }
  throw Error(ErrorKind::state, format_problem(path, *problem, text));
}

State parse_state(const std::string& path, const std::string& text) {
  State state;
  JsonInput input{std::string_view(text)};
  FastReadOutcome outcome = read_state_fast(input, state);
  std::optional<StateProblem> problem = outcome.problem;
  if (!outcome.understood) {
    state = State{};
    problem = read_state_text(text, state);
  }
  if (problem) {
    throw Error(ErrorKind::state, format_problem(path, *problem, text));
  }
  state.exists = true;
  return state;
}

std::string serialize_state(const State& state) {
  StateWriter writer;
  writer.document(state);
  return writer.take();
}

void write_state(const std::string& path, State& state) {
  if (state.serial == std::numeric_limits<uint64_t>::max()) {
    throw Error(ErrorKind::state, fmt::format("{}: error: serial cannot grow any more", path));
  }
  // Bumped even if the write fails: a gap in serials is harmless, but a
  // serial written twice with different content (the write may fail after
  // the rename, at the directory's fsync) is not.
  state.serial += 1;
  if (state.lineage.empty()) {
    state.lineage = new_uuid();
  }
  state.stove_version = k_version;
  state.format_version = k_state_format_version;
  write_file_atomically(path, serialize_state(state), path + ".backup");
  state.exists = true;
}

std::string new_uuid() {
  unsigned char bytes[16];
  fill_random(bytes, sizeof bytes);
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40); // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80); // RFC 4122 variant
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string uuid;
  uuid.reserve(36);
  for (std::size_t i = 0; i < sizeof bytes; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      uuid.push_back('-');
    }
    uuid.push_back(k_hex[bytes[i] >> 4]);
    uuid.push_back(k_hex[bytes[i] & 0xf]);
  }
  return uuid;
}

std::string now_rfc3339() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char buffer[32];
  std::size_t length = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return std::string(buffer, length);
}

} // namespace stove
