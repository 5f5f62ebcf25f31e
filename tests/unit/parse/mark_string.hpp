#pragma once

#include "parse/source.hpp"

#include <doctest/doctest.h>

#include <string>

// Shows marks as "line:column" in failed checks.
namespace doctest {
template <>
struct StringMaker<stove::Mark> {
  static String convert(const stove::Mark& mark) {
    return (std::to_string(mark.line) + ":" + std::to_string(mark.column)).c_str();
  }
};
} // namespace doctest
