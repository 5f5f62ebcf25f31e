#pragma once

// Internal to the parser: the node tree of parse_document (parse/document.hpp),
// built from libyaml's events.

#include "parse/document.hpp"

#include <string_view>

namespace stove::detail {

// Parses `text` (source.text, or a copy with its tabs made spaces) as
// parse_document does; positions in messages are taken from `source`.
Node build_document(const SourceFile& source, std::string_view text, Diagnostics& diagnostics,
                    const DocumentLimits& limits);

} // namespace stove::detail
