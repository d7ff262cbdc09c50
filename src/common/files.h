#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/bytes.h"

namespace concierge {

// ReadFile returns the whole file, refusing files larger than max_size.
Result<std::string> ReadFile(const std::filesystem::path& path,
                             size_t max_size = size_t{16} * 1024 * 1024);

// WriteFileAtomic writes through a temporary file, fsyncs it and renames it into place, so a
// crash leaves either the old or the new content. mode is applied before the rename.
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view content,
                       unsigned mode = 0644);

// SyncDirectory makes the entries renamed into or removed from dir durable: a crash after it
// cannot bring back what it replaced.
Status SyncDirectory(const std::filesystem::path& dir);

// MakeDirectories creates path and its parents (mode 0700 for new ones).
Status MakeDirectories(const std::filesystem::path& path);

}  // namespace concierge
