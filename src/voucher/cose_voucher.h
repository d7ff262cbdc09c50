#pragma once

#include <vector>

#include "common/bytes.h"
#include "crypto/certificate.h"
#include "crypto/key.h"
#include "voucher/voucher.h"

namespace concierge::voucher {

// cBRSKI artifacts: the CBOR encodings (voucher_cbor.h) in a tagged COSE_Sign1 whose protected
// header names the signing key's algorithm only (h'A10126' for ES256), with the certificates
// the recipient needs to find the key in an unprotected x5bag (label 32).
Result<Bytes> SignCoseVoucher(const Voucher& voucher, const crypto::PrivateKey& key,
                              const std::vector<crypto::Certificate>& x5bag);
Result<Bytes> SignCoseVoucherRequest(const VoucherRequest& request, const crypto::PrivateKey& key,
                                     const std::vector<crypto::Certificate>& x5bag);

// Opening checks the size bound of the artifact, the COSE structure, the signature and the
// content. The signer is the first of `known_signers` whose key verifies; when there are none,
// the first certificate of the message's own x5bag or x5chain whose key does. Signed::
// certificates is that bag, which a voucher-request's recipient also searches for the chain of
// the pledge that signed the request inside (cBRSKI -30). As with CMS, whether the signer is
// trusted is the caller's decision.
Result<Signed<Voucher>> OpenCoseVoucher(ByteSpan cose,
                                        const std::vector<crypto::Certificate>& known_signers);
Result<Signed<VoucherRequest>> OpenCoseVoucherRequest(
    ByteSpan cose, RequestFrom from, const std::vector<crypto::Certificate>& known_signers);

// OpenVoucherRequestAs opens a voucher-request in either format; a COSE one is verified with
// the certificates it carries (a MASA's view of a registrar's request).
Result<Signed<VoucherRequest>> OpenVoucherRequestAs(Format format, ByteSpan bytes,
                                                    RequestFrom from);

// ForwardableVoucher is a MASA's COSE voucher as a registrar passes it on: with the unprotected
// header, whose certificates are for the registrar, removed (cBRSKI §"Registrar to Pledge").
Result<Bytes> ForwardableVoucher(ByteSpan cose);

}  // namespace concierge::voucher
