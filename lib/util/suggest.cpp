#include "util/suggest.hpp"

#include <algorithm>
#include <vector>

namespace stove {

size_t edit_distance(std::string_view a, std::string_view b, size_t limit) {
  size_t len_diff = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
  if (len_diff > limit) {
    return limit + 1;
  }
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    prev[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    size_t row_min = cur[0];
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      row_min = std::min(row_min, cur[j]);
    }
    if (row_min > limit) {
      return limit + 1;
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

namespace {

template <typename T>
std::optional<std::string> closest(std::string_view word, std::span<const T> candidates) {
  size_t limit = std::max<size_t>(1, word.size() / 3);
  std::optional<std::string> best;
  size_t best_distance = limit + 1;
  for (const auto& c : candidates) {
    std::string_view candidate(c);
    size_t d = edit_distance(word, candidate, limit);
    if (d < best_distance && d != 0) {
      best_distance = d;
      best = std::string(candidate);
    }
  }
  // A word cut short ("prevent" for "prevent_destroy") is a likely slip too.
  if (!best && word.size() >= 4) {
    for (const auto& c : candidates) {
      std::string_view candidate(c);
      if (candidate.size() > word.size() && candidate.starts_with(word)) {
        return std::string(candidate);
      }
    }
  }
  return best;
}

template <typename T>
std::string suggestion(std::string_view word, std::span<const T> candidates) {
  auto match = closest(word, candidates);
  return match ? "; did you mean \"" + *match + "\"?" : std::string();
}

} // namespace

std::optional<std::string> closest_match(std::string_view word,
                                         std::span<const std::string_view> candidates) {
  return closest(word, candidates);
}
std::optional<std::string> closest_match(std::string_view word,
                                         std::span<const std::string> candidates) {
  return closest(word, candidates);
}
std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates) {
  return suggestion(word, candidates);
}
std::string did_you_mean(std::string_view word, std::span<const std::string> candidates) {
  return suggestion(word, candidates);
}

} // namespace stove
