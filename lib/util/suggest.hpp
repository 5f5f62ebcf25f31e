#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace stove {

// The candidate closest to `word` by edit distance, if it is close enough to
// be a likely typo (at most a third of the word's length, and at least 1), or
// else the first candidate that starts with a word of four or more characters.
std::optional<std::string> closest_match(std::string_view word,
                                         std::span<const std::string_view> candidates);
std::optional<std::string> closest_match(std::string_view word,
                                         std::span<const std::string> candidates);

// "; did you mean \"X\"?" or an empty string.
std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates);
std::string did_you_mean(std::string_view word, std::span<const std::string> candidates);

// Levenshtein distance, giving up (returning limit + 1) once it exceeds `limit`.
size_t edit_distance(std::string_view a, std::string_view b, size_t limit);

} // namespace stove
