#pragma once

#include <filesystem>

#include "crypto/key_store.h"
#include "pledge/move.h"
#include "pledge/pledge.h"

namespace concierge::pledge {

// A device directory is what a maker ships inside a device: idevid.key, idevid.pem,
// masa-ca.pem (the voucher trust anchors: the maker CA, and the MASA's signing certificate,
// whose key checks COSE vouchers, which carry no certificate) and key-provenance.json. Enrollment
// adds the domain credentials: ldevid.key, ldevid.pem, domain-ca.pem, voucher.cms and
// registrar.url, each a link into the directory `domain` points at, so that one rename swaps them
// all.
Status WriteDeviceDirectory(const std::filesystem::path& dir, const crypto::Certificate& idevid,
                            const crypto::PrivateKey& key, const crypto::KeyProvenance& provenance,
                            const std::vector<crypto::Certificate>& masa_anchors);

Result<PledgeIdentity> LoadDeviceDirectory(
    const std::filesystem::path& dir, const crypto::KeyStore& keys = crypto::DefaultKeyStore());

// WriteDomainCredentials stores credentials beside the current ones, then switches to them
// with one atomic rename and removes the previous set: a crash leaves one whole set.
Status WriteDomainCredentials(const std::filesystem::path& dir,
                              const DomainCredentials& credentials);
Result<DomainCredentials> LoadDomainCredentials(const std::filesystem::path& dir);
// ForgetDomain removes the domain credentials (a reset to the IDevID).
Status ForgetDomain(const std::filesystem::path& dir);

// The physical-presence reset: the maker prints a code on the device's label and the device
// keeps only its hash (reset-code.sha256). WriteResetCode makes one and returns it.
Result<std::string> WriteResetCode(const std::filesystem::path& dir, Random& random);
// ResetWithCode forgets the domain only when code is the label's; nothing changes otherwise.
Status ResetWithCode(const std::filesystem::path& dir, std::string_view code);

}  // namespace concierge::pledge
