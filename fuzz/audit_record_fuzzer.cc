// Property: an audit record (one JSON line each) that parses round-trips with the same hash,
// and a chain check over all lines never crashes.
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "store/audit_log.h"

using namespace concierge;  // NOLINT(google-build-using-namespace): fuzz entry point

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream lines(std::string(reinterpret_cast<const char*>(data), size));
  std::vector<store::AuditRecord> records;
  std::string line;
  while (std::getline(lines, line)) {
    auto record = store::AuditRecordFromJson(line);
    if (!record) {
      continue;
    }
    auto again = store::AuditRecordFromJson(store::AuditRecordToJson(*record).dump());
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(store::ComputeAuditHash(*again) == store::ComputeAuditHash(*record));
    records.push_back(*record);
  }
  (void)store::VerifyAuditChain(records);
  return 0;
}
