#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

// Lets doctest print lists of strings when a comparison fails.
namespace doctest {
template <>
struct StringMaker<std::vector<std::string>> {
  static String convert(const std::vector<std::string>& values) {
    std::string out = "{\n";
    for (const auto& v : values) {
      out += "  " + v + "\n";
    }
    out += "}";
    return String(out.c_str());
  }
};
} // namespace doctest
