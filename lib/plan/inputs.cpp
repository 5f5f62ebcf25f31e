#include "plan/inputs.hpp"

#include "parse/config_loader.hpp"
#include "state/statefile.hpp"

#include <exception>
#include <filesystem>
#include <thread>

namespace stove {

std::string default_state_path(const std::string& config_path) {
  std::filesystem::path stem = std::filesystem::path(config_path).stem();
  return (std::filesystem::path("state") / stem).string() + ".json";
}

Inputs load_inputs(const std::string& config_path, const std::string& state_path) {
  Inputs inputs;
  inputs.state_path = state_path;
  std::exception_ptr state_error;
  std::thread state_reader([&] {
    try {
      inputs.state = load_state(state_path);
      inputs.journal = replay_journal(state_path, inputs.state);
    } catch (...) {
      state_error = std::current_exception();
    }
  });
  try {
    inputs.source = SourceFile::read(config_path);
    inputs.config = load_config_file(inputs.source, inputs.diagnostics);
  } catch (...) {
    state_reader.join();
    throw;
  }
  state_reader.join();
  if (!inputs.diagnostics.has_errors() && state_error) {
    std::rethrow_exception(state_error);
  }
  return inputs;
}

} // namespace stove
