#include "state/state.hpp"

namespace stove {

std::string_view to_string(ResourceStatus status) {
  switch (status) {
  case ResourceStatus::processing: return "processing";
  case ResourceStatus::completed: return "completed";
  case ResourceStatus::failed: return "failed";
  }
  return "unknown";
}

bool parse_status(std::string_view text, ResourceStatus& out) {
  for (auto s : {ResourceStatus::processing, ResourceStatus::completed, ResourceStatus::failed}) {
    if (text == to_string(s)) {
      out = s;
      return true;
    }
  }
  return false;
}

} // namespace stove
