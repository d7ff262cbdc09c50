#include "mud/mud_manager.h"

#include <algorithm>
#include <set>

#include "common/bytes.h"
#include "crypto/key.h"
#include "mud/mud_parser.h"

namespace concierge::mud {
namespace {

// A detached signature is a few kilobytes; anything near this is not one.
constexpr size_t kMaxSignatureSize = size_t{64} * 1024;

}  // namespace

Result<MudFile> MudManager::CheckFile(const std::string& url, const std::string& body,
                                      const Bytes& signature, std::string& signer) {
  ASSIGN_OR_RETURN(MudFile file, ParseMudJson(body));
  if (file.mud_url != url) {
    return MakeError(ErrorCode::kSecurity, "the file names its URL as " + file.mud_url +
                                               ", not the URL it was fetched from");
  }
  std::string authority = UrlAuthority(url);
  ASSIGN_OR_RETURN(auto anchors, store_.SignerAnchors(authority));
  if (anchors.empty()) {
    return MakeError(ErrorCode::kSecurity, "no MUD signer is trusted for " + authority +
                                               " (add the maker's CA with `concierge mud trust " +
                                               authority + "`)");
  }
  if (signature.empty()) {
    return MakeError(ErrorCode::kSecurity, "the file is unsigned");
  }
  SignatureCheck check{std::move(anchors), clock_.Now(), expired_signer_};
  ASSIGN_OR_RETURN(VerifiedSignature verified,
                   VerifyMudSignature(AsBytes(body), signature, url, check));
  // A file is stored only if the site could enforce it.
  SiteFacts probe;
  probe.devices.push_back({"probe", url, {}});
  std::vector<MudFile> one{file};
  RETURN_IF_ERROR(CompilePolicy(one, probe, {}));
  signer = verified.signer.SubjectText();
  return file;
}

Status MudManager::AcceptFile(const std::string& url, const std::string& body,
                              const Bytes& signature) {
  std::string signer;
  auto checked = CheckFile(url, body, signature, signer);
  if (!checked) {
    RETURN_IF_ERROR(store_.RecordFetchFailure(url, checked.error().message()));
    return std::unexpected(checked.error());
  }
  int64_t now = ToUnixSeconds(clock_.Now());
  StoredMudFile stored{url,    body, signature,
                       signer, now,  now + int64_t{checked->cache_validity_hours} * 3600};
  Bytes digest = crypto::Sha256(AsBytes(body));
  return store_.StoreFile(stored, HexEncode(digest), checked->warnings);
}

Status MudManager::FetchAndAccept(const std::string& url) {
  auto body = fetcher_.Fetch(url, kMaxMudFileSize);
  if (!body) {
    RETURN_IF_ERROR(store_.RecordFetchFailure(url, body.error().message()));
    return std::unexpected(body.error());
  }
  // The signature's location comes from the file, so a file that does not parse is refused
  // before anything else is fetched.
  auto parsed = ParseMudJson(*body);
  if (!parsed) {
    RETURN_IF_ERROR(store_.RecordFetchFailure(url, parsed.error().message()));
    return std::unexpected(parsed.error());
  }
  if (parsed->mud_url != url) {
    std::string reason =
        "the file names its URL as " + parsed->mud_url + ", not the URL it was fetched from";
    RETURN_IF_ERROR(store_.RecordFetchFailure(url, reason));
    return MakeError(ErrorCode::kSecurity, reason);
  }
  std::string signature_url = SignatureUrl(*parsed);
  auto signature = fetcher_.Fetch(signature_url, kMaxSignatureSize);
  if (!signature) {
    std::string reason = "signature " + signature_url + ": " + signature.error().message();
    RETURN_IF_ERROR(store_.RecordFetchFailure(url, reason));
    return MakeError(signature.error().code(), reason);
  }
  return AcceptFile(url, *body, Bytes(signature->begin(), signature->end()));
}

Result<RefreshReport> MudManager::RefreshFiles(bool force) {
  RefreshReport report;
  ASSIGN_OR_RETURN(auto devices, devices_.List());
  std::set<std::string> urls;
  for (const registry::Device& device : devices) {
    if (!device.mud_url.empty()) {
      urls.insert(device.mud_url);
    }
  }
  int64_t now = ToUnixSeconds(clock_.Now());
  for (const std::string& url : urls) {
    ASSIGN_OR_RETURN(auto stored, store_.FindFile(url));
    if (!force && stored && stored->expires_at > now) {
      continue;
    }
    if (auto fetched = FetchAndAccept(url); fetched) {
      report.accepted.push_back(url);
    } else {
      report.refused.emplace_back(url, fetched.error().message());
    }
  }
  RETURN_IF_ERROR(RefreshNames(force, report));
  return report;
}

Result<std::vector<MudFile>> MudManager::StoredFiles(std::vector<std::string> urls) {
  std::ranges::sort(urls);
  urls.erase(std::ranges::unique(urls).begin(), urls.end());
  std::vector<MudFile> files;
  for (const std::string& url : urls) {
    ASSIGN_OR_RETURN(auto stored, store_.FindFile(url));
    if (!stored) {
      continue;
    }
    ASSIGN_OR_RETURN_CTX(MudFile file, ParseMudJson(stored->body), "stored MUD file " + url);
    files.push_back(std::move(file));
  }
  return files;
}

Status MudManager::RefreshNames(bool force, RefreshReport& report) {
  ASSIGN_OR_RETURN(auto devices, devices_.List());
  std::vector<std::string> urls;
  for (const registry::Device& device : devices) {
    urls.push_back(device.mud_url);
  }
  ASSIGN_OR_RETURN(auto files, StoredFiles(urls));
  int64_t now = ToUnixSeconds(clock_.Now());
  for (const std::string& name : DnsNamesUsed(files)) {
    ASSIGN_OR_RETURN(auto cached, store_.FindDnsRecord(name));
    if (!force && cached && cached->expires_at > now) {
      continue;
    }
    auto answer = resolver_.Resolve(name);
    if (!answer) {
      report.name_errors.emplace_back(name, answer.error().message());
      continue;
    }
    ++report.names_resolved;
    if (answer->addresses.empty()) {
      report.names_without_address.push_back(name);
    }
    if (!cached || cached->addresses != answer->addresses) {
      ++report.names_changed;
    }
    RETURN_IF_ERROR(
        store_.StoreDnsRecord(name, DnsRecord{answer->addresses, now, now + answer->ttl.count()}));
  }
  return OkStatus();
}

Result<CompiledSite> MudManager::Compile() {
  CompiledSite site;
  ASSIGN_OR_RETURN(SiteFacts facts, store_.LoadSiteFacts());
  ASSIGN_OR_RETURN(auto devices, devices_.List());
  std::vector<std::string> urls;
  for (const registry::Device& device : devices) {
    urls.push_back(device.mud_url);
  }
  ASSIGN_OR_RETURN(auto files, StoredFiles(urls));
  std::set<std::string> have_file;
  for (const MudFile& file : files) {
    have_file.insert(file.mud_url);
  }
  for (const registry::Device& device : devices) {
    if (device.mud_url.empty()) {
      site.unmanaged.emplace_back(device.name, "no MUD URL");
    } else if (!have_file.contains(device.mud_url)) {
      ASSIGN_OR_RETURN(auto status, store_.FindFetchStatus(device.mud_url));
      site.unmanaged.emplace_back(device.name, status && !status->error.empty()
                                                   ? "no verified MUD file: " + status->error
                                                   : "no verified MUD file yet");
    } else if (device.addresses.empty()) {
      site.unmanaged.emplace_back(device.name, "no known address");
    } else {
      facts.devices.push_back({device.name, device.mud_url, device.addresses});
    }
  }
  ResolvedNames names;
  for (const std::string& name : DnsNamesUsed(files)) {
    ASSIGN_OR_RETURN(auto cached, store_.FindDnsRecord(name));
    if (cached) {
      names[name] = cached->addresses;
    }
  }
  ASSIGN_OR_RETURN(site.policy, CompilePolicy(files, facts, names));
  return site;
}

}  // namespace concierge::mud
