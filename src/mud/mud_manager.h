#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "mud/compiler.h"
#include "mud/fetcher.h"
#include "mud/mud_signature.h"
#include "mud/mud_store.h"
#include "mud/resolver.h"
#include "registry/device_registry.h"

namespace concierge::mud {

struct RefreshReport {
  std::vector<std::string> accepted;                         // URLs whose file was (re)stored
  std::vector<std::pair<std::string, std::string>> refused;  // URL, why
  size_t names_resolved = 0;                                 // looked up, with or without addresses
  size_t names_changed = 0;
  std::vector<std::string> names_without_address;                // answered, with no address
  std::vector<std::pair<std::string, std::string>> name_errors;  // name, why
};

// CompiledSite is the policy for the site as stored, and the devices it leaves alone.
struct CompiledSite {
  Policy policy;
  std::vector<std::pair<std::string, std::string>> unmanaged;  // device, why
};

// MudManager keeps the site's MUD files and DNS answers current and compiles the site's
// policy for the devices in the site's registry. A file is stored only after every check passes;
// until then (and whenever a newer file is refused) the device keeps the file it had.
class MudManager {
 public:
  MudManager(MudStore& store, registry::DeviceRegistry& devices, Fetcher& fetcher,
             Resolver& resolver, const Clock& clock,
             ExpiredSignerPolicy expired_signer = ExpiredSignerPolicy::kRefuse)
      : store_(store),
        devices_(devices),
        fetcher_(fetcher),
        resolver_(resolver),
        clock_(clock),
        expired_signer_(expired_signer) {}

  // RefreshFiles fetches the file of every assigned URL that has none yet or whose
  // cache-validity has run out (every URL, with force).
  Result<RefreshReport> RefreshFiles(bool force);
  // RefreshNames re-resolves the names the stored files use whose TTL has run out (all, with
  // force). A failed lookup keeps the previous answer.
  Status RefreshNames(bool force, RefreshReport& report);
  // AcceptFile checks a MUD file and its detached signature and stores them; errors say which
  // check failed (the refusal is also recorded and audited).
  Status AcceptFile(const std::string& url, const std::string& body, const Bytes& signature);
  // FetchAndAccept fetches the file at url and its signature, then AcceptFile.
  Status FetchAndAccept(const std::string& url);

  Result<CompiledSite> Compile();

 private:
  // CheckFile returns the parsed file once every check has passed.
  Result<MudFile> CheckFile(const std::string& url, const std::string& body, const Bytes& signature,
                            std::string& signer);
  Result<std::vector<MudFile>> StoredFiles(std::vector<std::string> urls);

  MudStore& store_;
  registry::DeviceRegistry& devices_;
  Fetcher& fetcher_;
  Resolver& resolver_;
  const Clock& clock_;
  ExpiredSignerPolicy expired_signer_;
};

}  // namespace concierge::mud
