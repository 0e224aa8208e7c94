// Files written atomically: to a temporary file in the same folder, flushed
// to disk, then renamed over the target, so a reader never sees half a file.
// No libtorch (fer_data): the runtime commands write their outputs this way too.
#pragma once

#include <string>

namespace fer {

// The temporary name beside `path` (unique per process).
std::string atomic_temp_name(const std::string & path);
// Flushes `tmp` to disk and renames it to `path`; throws a runtime error (and
// removes tmp) when that fails.
void atomic_commit(const std::string & tmp, const std::string & path);
// Writes `text` to `path` atomically.
void write_file_atomic(const std::string & path, const std::string & text);

}  // namespace fer
