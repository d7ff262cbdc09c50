#include "pledge/device_directory.h"

#include <array>

#include "common/files.h"
#include "common/json.h"
#include "crypto/certificate_builder.h"
#include "crypto/openssl_ptr.h"

namespace concierge::pledge {

Status WriteDeviceDirectory(const std::filesystem::path& dir, const crypto::Certificate& idevid,
                            const crypto::PrivateKey& key, const crypto::KeyProvenance& provenance,
                            const std::vector<crypto::Certificate>& masa_anchors) {
  RETURN_IF_ERROR(MakeDirectories(dir));
  RETURN_IF_ERROR(crypto::KeepKeyPair(crypto::DefaultKeyStore(), crypto::KeyReferences(dir), dir,
                                      "idevid", {idevid, key}));
  RETURN_IF_ERROR(WriteFileAtomic(dir / "masa-ca.pem", crypto::ChainToPem(masa_anchors)));
  Json record{{"serial", idevid.SubjectSerialNumber()},
              {"key",
               {{"generated_by", provenance.generated_by},
                {"store", provenance.store},
                {"extractable", provenance.extractable}}}};
  return WriteFileAtomic(dir / "key-provenance.json", record.dump(2) + "\n");
}

Result<PledgeIdentity> LoadDeviceDirectory(const std::filesystem::path& dir,
                                           const crypto::KeyStore& keys) {
  auto context = "device identity in " + dir.string();
  ASSIGN_OR_RETURN_CTX(std::string cert_pem, ReadFile(dir / "idevid.pem"), context);
  ASSIGN_OR_RETURN_CTX(std::string anchor_pem, ReadFile(dir / "masa-ca.pem"), context);
  ASSIGN_OR_RETURN_CTX(auto chain, crypto::Certificate::FromPemChain(cert_pem), "idevid.pem");
  ASSIGN_OR_RETURN_CTX(auto anchors, crypto::Certificate::FromPemChain(anchor_pem), "masa-ca.pem");
  // A device whose IDevID key lives in its TPM names it in key-provenance.json ("keys":
  // {"idevid": "handle:0x81000001"}); otherwise the key is idevid.key.
  crypto::KeyReferences references(dir);
  if (auto provenance = ReadFile(dir / "key-provenance.json"); provenance) {
    ASSIGN_OR_RETURN(Json record, ParseJsonObject(*provenance, "key-provenance.json"));
    ASSIGN_OR_RETURN_CTX(references, crypto::KeyReferences::FromConfig(record, dir),
                         "key-provenance.json");
  }
  ASSIGN_OR_RETURN_CTX(auto key, keys.Load(references.For("idevid")), context);
  RETURN_IF_ERROR(
      crypto::CheckKeyOfCertificate(chain.front(), key, references.For("idevid"), "idevid.pem"));
  crypto::Certificate idevid = chain.front();
  chain.erase(chain.begin());
  return PledgeIdentity{idevid, key, chain, anchors};
}

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kDomainLink = "domain";
constexpr std::array<std::string_view, 5> kDomainFiles = {
    "ldevid.pem", "ldevid.key", "domain-ca.pem", "voucher.cms", "registrar.url"};

Status FileError(const fs::path& path, const std::error_code& error, std::string_view what) {
  return MakeError(ErrorCode::kUnavailable,
                   std::string(what) + " " + path.string() + ": " + error.message());
}

// RemoveSetsExcept deletes every credential set but `keep`.
void RemoveSetsExcept(const fs::path& dir, const std::string& keep) {
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    std::string name = entry.path().filename().string();
    if (name.starts_with("domain.") && name != keep) {
      fs::remove_all(entry.path(), error);
    }
  }
}

}  // namespace

Status WriteDomainCredentials(const fs::path& dir, const DomainCredentials& credentials) {
  std::string set = "domain." + credentials.ldevid.SerialHex();
  fs::path staging = dir / set;
  std::error_code error;
  fs::remove_all(staging, error);
  RETURN_IF_ERROR(MakeDirectories(staging));
  RETURN_IF_ERROR(crypto::KeepKeyPair(crypto::DefaultKeyStore(), crypto::KeyReferences(staging),
                                      staging, "ldevid", {credentials.ldevid, credentials.key}));
  RETURN_IF_ERROR(
      WriteFileAtomic(staging / "domain-ca.pem", crypto::ChainToPem(credentials.anchors), 0644));
  RETURN_IF_ERROR(
      WriteFileAtomic(staging / "voucher.cms", ToString(credentials.voucher_cms), 0644));
  RETURN_IF_ERROR(
      WriteFileAtomic(staging / "registrar.url", credentials.registrar_url + "\n", 0644));
  RETURN_IF_ERROR(SyncDirectory(staging));
  // The per-file links never change; only `domain` moves, by rename over the old link.
  for (std::string_view name : kDomainFiles) {
    fs::path link = dir / name;
    fs::path target = fs::path(kDomainLink) / name;
    if (fs::is_symlink(fs::symlink_status(link)) && fs::read_symlink(link, error) == target) {
      continue;
    }
    fs::remove(link, error);
    fs::create_symlink(target, link, error);
    if (error) {
      return FileError(link, error, "cannot link");
    }
  }
  fs::path next = dir / "domain.next";
  fs::remove(next, error);
  fs::create_symlink(set, next, error);
  if (error) {
    return FileError(next, error, "cannot link");
  }
  fs::rename(next, dir / kDomainLink, error);
  if (error) {
    return FileError(dir / kDomainLink, error, "cannot switch credentials at");
  }
  // The switch must be on disk before the old set goes, or a crash could leave neither.
  RETURN_IF_ERROR(SyncDirectory(dir));
  RemoveSetsExcept(dir, set);
  return OkStatus();
}

Result<DomainCredentials> LoadDomainCredentials(const fs::path& dir) {
  std::string context = "domain credentials in " + dir.string();
  ASSIGN_OR_RETURN_CTX(
      auto pair,
      crypto::LoadKeyPair(crypto::DefaultKeyStore(), crypto::KeyReferences(dir), dir, "ldevid"),
      context);
  ASSIGN_OR_RETURN_CTX(std::string anchors_pem, ReadFile(dir / "domain-ca.pem"), context);
  ASSIGN_OR_RETURN_CTX(auto anchors, crypto::Certificate::FromPemChain(anchors_pem),
                       "domain-ca.pem");
  ASSIGN_OR_RETURN_CTX(std::string url_line, ReadFile(dir / "registrar.url"), context);
  std::string url(TrimTrailingSpace(url_line));
  auto voucher = ReadFile(dir / "voucher.cms");
  return DomainCredentials{pair.certificate, pair.key, anchors, url,
                           voucher ? ToBytes(*voucher) : Bytes()};
}

Status ForgetDomain(const fs::path& dir) {
  std::error_code error;
  fs::remove(dir / kDomainLink, error);
  if (error) {
    return FileError(dir / kDomainLink, error, "cannot remove");
  }
  for (std::string_view name : kDomainFiles) {
    fs::remove(dir / name, error);
  }
  RemoveSetsExcept(dir, "");
  return OkStatus();
}

Result<std::string> WriteResetCode(const fs::path& dir, Random& random) {
  std::string hex = HexEncode(random.Generate(10));
  std::string code;
  for (size_t i = 0; i < hex.size(); i += 5) {
    if (!code.empty()) {
      code += '-';
    }
    code += hex.substr(i, 5);
  }
  RETURN_IF_ERROR(WriteFileAtomic(dir / "reset-code.sha256",
                                  HexEncode(crypto::Sha256(ToBytes(code))) + "\n", 0600));
  return code;
}

Status ResetWithCode(const fs::path& dir, std::string_view code) {
  ASSIGN_OR_RETURN_CTX(std::string stored_line, ReadFile(dir / "reset-code.sha256"),
                       "this device has no physical reset code");
  std::string_view stored = TrimTrailingSpace(stored_line);
  std::string given = HexEncode(crypto::Sha256(ToBytes(code)));
  if (!ConstantTimeEqual(ToBytes(given), ToBytes(stored))) {
    return MakeError(ErrorCode::kPermissionDenied,
                     "the reset code is not this device's; nothing was changed");
  }
  return ForgetDomain(dir);
}

}  // namespace concierge::pledge
