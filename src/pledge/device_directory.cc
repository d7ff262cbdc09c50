#include "pledge/device_directory.h"

#include "common/files.h"
#include "common/json.h"
#include "crypto/certificate_builder.h"

namespace concierge::pledge {

Status WriteDeviceDirectory(const std::filesystem::path& dir, const crypto::Certificate& idevid,
                            const crypto::PrivateKey& key, const crypto::KeyProvenance& provenance,
                            const crypto::Certificate& masa_anchor) {
  RETURN_IF_ERROR(MakeDirectories(dir));
  RETURN_IF_ERROR(crypto::WriteKeyPairFiles(dir / "idevid", idevid, key));
  RETURN_IF_ERROR(WriteFileAtomic(dir / "masa-ca.pem", masa_anchor.Pem()));
  Json record{{"serial", idevid.SubjectSerialNumber()},
              {"key",
               {{"generated_by", provenance.generated_by},
                {"store", provenance.store},
                {"extractable", provenance.extractable}}}};
  return WriteFileAtomic(dir / "key-provenance.json", record.dump(2) + "\n");
}

Result<PledgeIdentity> LoadDeviceDirectory(const std::filesystem::path& dir) {
  auto context = "device identity in " + dir.string();
  ASSIGN_OR_RETURN_CTX(std::string cert_pem, ReadFile(dir / "idevid.pem"), context);
  ASSIGN_OR_RETURN_CTX(std::string key_pem, ReadFile(dir / "idevid.key"), context);
  ASSIGN_OR_RETURN_CTX(std::string anchor_pem, ReadFile(dir / "masa-ca.pem"), context);
  ASSIGN_OR_RETURN_CTX(auto chain, crypto::Certificate::FromPemChain(cert_pem), "idevid.pem");
  ASSIGN_OR_RETURN_CTX(auto key, crypto::PrivateKey::FromPem(key_pem), "idevid.key");
  ASSIGN_OR_RETURN_CTX(auto anchors, crypto::Certificate::FromPemChain(anchor_pem), "masa-ca.pem");
  crypto::Certificate idevid = chain.front();
  chain.erase(chain.begin());
  return PledgeIdentity{idevid, key, chain, anchors};
}

Status WriteEnrollment(const std::filesystem::path& dir, const EnrollResult& result) {
  RETURN_IF_ERROR(crypto::WriteKeyPairFiles(dir / "ldevid", result.ldevid, result.ldevid_key));
  RETURN_IF_ERROR(
      WriteFileAtomic(dir / "domain-ca.pem", crypto::ChainToPem(result.domain_anchors)));
  return WriteFileAtomic(dir / "voucher.cms", ToString(result.voucher_cms), 0644);
}

}  // namespace concierge::pledge
