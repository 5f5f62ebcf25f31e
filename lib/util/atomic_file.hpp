#pragma once

#include <string>
#include <string_view>

namespace stove {

// Replaces `path` with `content` so that readers see either the old file or
// the new one, never a mix, even across a crash: write a temp file beside it,
// fsync it, rename it over `path`, then fsync the directory. When
// `backup_path` is not empty and `path` exists, the old file is first kept
// there (hard link, falling back to a copy). Throws stove::Error(io).
void write_file_atomically(const std::string& path, std::string_view content,
                           const std::string& backup_path = {});

} // namespace stove
