#pragma once

#include "support/run.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace stove::test {

// A fresh directory for one test case. It is removed when the test case
// passes and kept, with its path printed, when it fails.
class TempDir {
public:
  TempDir();
  const std::filesystem::path& path() const { return m_path; }
  std::filesystem::path operator/(std::string_view name) const { return m_path / name; }

  // Writes `content` to `name` inside the directory and returns the full path.
  std::string write(std::string_view name, std::string_view content) const;

private:
  std::filesystem::path m_path;
};

// How many test cases this run has started (see support/main.cpp).
size_t test_cases_started();

} // namespace stove::test
