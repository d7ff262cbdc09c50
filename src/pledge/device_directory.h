#pragma once

#include <filesystem>

#include "pledge/pledge.h"

namespace concierge::pledge {

// A device directory is what a maker ships inside a device: idevid.key, idevid.pem,
// masa-ca.pem (the voucher trust anchor) and key-provenance.json; enrollment adds
// ldevid.key, ldevid.pem, domain-ca.pem and voucher.cms.
Status WriteDeviceDirectory(const std::filesystem::path& dir, const crypto::Certificate& idevid,
                            const crypto::PrivateKey& key, const crypto::KeyProvenance& provenance,
                            const crypto::Certificate& masa_anchor);

Result<PledgeIdentity> LoadDeviceDirectory(const std::filesystem::path& dir);

Status WriteEnrollment(const std::filesystem::path& dir, const EnrollResult& result);

}  // namespace concierge::pledge
