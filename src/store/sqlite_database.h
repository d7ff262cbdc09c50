#pragma once

#include <filesystem>
#include <memory>

#include "store/database.h"

namespace concierge::store {

// OpenSqliteDatabase opens (or, with create, creates) an SQLite database file in WAL mode with
// foreign keys on; ":memory:" works for tests. Several connections, in one process or many,
// may share a file: a write transaction waits up to 10 s for another to finish.
Result<std::unique_ptr<Database>> OpenSqliteDatabase(const std::filesystem::path& path,
                                                     bool create);

}  // namespace concierge::store
