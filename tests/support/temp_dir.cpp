#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <vector>
#include <unistd.h>

namespace stove::test {

namespace {

std::mutex g_mutex;
std::atomic<size_t> g_started{0};
std::vector<std::filesystem::path>& live_dirs() {
  static std::vector<std::filesystem::path> dirs;
  return dirs;
}

// Cleans up after each test case: removes its directories when it passed,
// says where they are when it failed.
struct TempDirListener : doctest::IReporter {
  explicit TempDirListener(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData&) override { ++g_started; }
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats& stats) override {
    std::lock_guard lock(g_mutex);
    for (const auto& dir : live_dirs()) {
      if (stats.testCaseSuccess) {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
      } else {
        std::cerr << "test files kept in " << dir.string() << "\n";
      }
    }
    live_dirs().clear();
  }
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

} // namespace

REGISTER_LISTENER("temp_dir", 1, TempDirListener);

size_t test_cases_started() { return g_started; }

TempDir::TempDir() {
  static std::atomic<unsigned> counter{0};
  std::filesystem::path base = STOVE_TEST_TMP;
  std::filesystem::create_directories(base);
  std::ostringstream name;
  name << "t-" << ::getpid() << "-" << counter++;
  m_path = base / name.str();
  std::filesystem::remove_all(m_path);
  std::filesystem::create_directories(m_path);
  std::lock_guard lock(g_mutex);
  live_dirs().push_back(m_path);
}

std::string TempDir::write(std::string_view name, std::string_view content) const {
  auto full = m_path / name;
  std::filesystem::create_directories(full.parent_path());
  std::ofstream out(full, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) {
    throw std::runtime_error("cannot write " + full.string());
  }
  return full.string();
}

} // namespace stove::test
