// The sandbox's data directory: locked, and its cloud.json loaded (or
// created).

#include "sandbox/server_impl.hpp"

#include "util/atomic_file.hpp"
#include "util/error.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace stove::sandbox {

using nlohmann::json;

namespace {

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error(ErrorKind::io, fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    throw Error(ErrorKind::io, fmt::format("{}: cannot read", path));
  }
  return text.str();
}

} // namespace

// Loads cloud.json, or writes an empty one: a data directory that cannot
// be written fails here, at start, rather than on the first change.
uint64_t Server::Impl::load_data() {
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    throw Error(ErrorKind::io, fmt::format("{}: cannot create the data directory: {}",
                                           options.data_dir, ec.message()));
  }
  lock.acquire(options.data_dir);
  // Only a file that is certainly missing is replaced by an empty cloud.
  std::filesystem::file_status status = std::filesystem::status(data_file, ec);
  if (status.type() == std::filesystem::file_type::not_found) {
    write_file_atomically(data_file, to_document(CloudData{}).dump(1) + "\n");
    return cloud.version();
  }
  if (ec) {
    throw Error(ErrorKind::io, fmt::format("{}: cannot read: {}", data_file, ec.message()));
  }
  std::string text = read_whole_file(data_file);
  try {
    cloud.load(from_document(json::parse(text)));
  } catch (const std::exception& e) {
    throw Error(ErrorKind::io,
                fmt::format("{}: not a readable sandbox cloud: {}", data_file, e.what()));
  }
  return cloud.version();
}

} // namespace stove::sandbox
