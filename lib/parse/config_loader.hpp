#pragma once

#include "model/config.hpp"
#include "parse/document.hpp"
#include "parse/source.hpp"

namespace stove {

// Builds the infrastructure model from a parsed document, checking it against
// the declared kind and provider schemas. Every problem is added to
// `diagnostics` with its position; when there are errors the returned Config
// must not be used.
//
// Accepted shapes: the original schema (a top-level list of entries), or a
// mapping with `providers:` and `resources:`.
// Consumes the document, freeing it entry by entry as it goes.
Config load_config(const SourceFile& source, Node root, Diagnostics& diagnostics);

// Reads, parses and loads `path` in one step.
Config load_config_file(const SourceFile& source, Diagnostics& diagnostics);

} // namespace stove
