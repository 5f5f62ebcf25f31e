#pragma once

// Internal to the parser: how a YAML scalar's text becomes a typed node, by
// the YAML 1.2 core schema and the tag written on it, and the quoting of
// scalars in messages.

#include "parse/document.hpp"

#include <string>
#include <string_view>

namespace stove::detail {

inline constexpr std::string_view k_core_tag_prefix = "tag:yaml.org,2002:";

// What a scalar's or collection's tag asks for.
enum class Tag { none, str, null, boolean, integer, real, seq, map, unsupported };

Tag classify_tag(std::string_view tag);

// A tag as written in a message: "!!int" for the core schema's.
std::string display_tag(std::string_view tag);

// `text` in double quotes, escaped so that it prints as one clean line, and
// cut if long.
std::string in_quotes(std::string_view text);

// Gives `node`, whose text is set, its type and value: by the core schema
// for Tag::none, as the tag asks otherwise. A text that is not what its tag
// asks for, or a tag a scalar cannot have, is reported and leaves a string.
void resolve_scalar(Node& node, Tag tag, std::string_view tag_text, Diagnostics& diagnostics);

} // namespace stove::detail
