#pragma once

#include <memory>
#include <string>

#include "store/database.h"

namespace concierge::store {

// OpenDatabase opens a store's database by where it is: a PostgreSQL URI (postgresql://… or
// postgres://…) or the path of an SQLite file, created if need be.
Result<std::unique_ptr<Database>> OpenDatabase(const std::string& location);

}  // namespace concierge::store
