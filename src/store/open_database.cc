#include "store/open_database.h"

#include "store/postgres_database.h"
#include "store/sqlite_database.h"

namespace concierge::store {

Result<std::unique_ptr<Database>> OpenDatabase(const std::string& location) {
  if (IsPostgresLocation(location)) {
    return OpenPostgresDatabase(location);
  }
  return OpenSqliteDatabase(location, /*create=*/true);
}

}  // namespace concierge::store
