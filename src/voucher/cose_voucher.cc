#include "voucher/cose_voucher.h"

#include "cose/sign1.h"
#include "voucher/voucher_cbor.h"

namespace concierge::voucher {
namespace {

std::vector<Bytes> DerOf(const std::vector<crypto::Certificate>& certificates) {
  std::vector<Bytes> der;
  der.reserve(certificates.size());
  for (const auto& certificate : certificates) {
    der.push_back(certificate.Der());
  }
  return der;
}

// OfferedCertificates parses the certificates a message carries, unprotected or protected.
Result<std::vector<crypto::Certificate>> OfferedCertificates(const cose::Sign1& message,
                                                             std::string_view what) {
  std::vector<crypto::Certificate> certificates;
  for (const cose::Headers* headers : {&message.protected_headers, &message.unprotected_headers}) {
    for (const auto* list : {&headers->x5chain, &headers->x5bag}) {
      for (const Bytes& der : *list) {
        ASSIGN_OR_RETURN_CTX(crypto::Certificate certificate, crypto::Certificate::FromDer(der),
                             std::string(what) + " x5bag");
        certificates.push_back(std::move(certificate));
      }
    }
  }
  return certificates;
}

template <typename T, typename Decode>
Result<Signed<T>> Open(ByteSpan cose, size_t max_size, std::string_view what,
                       const std::vector<crypto::Certificate>& known_signers, Decode decode) {
  if (cose.size() > max_size) {
    return MakeError(ErrorCode::kTooLarge,
                     std::string(what) + " is " + std::to_string(cose.size()) +
                         " bytes, more than the limit of " + std::to_string(max_size));
  }
  ASSIGN_OR_RETURN_CTX(cose::Sign1 message, cose::DecodeSign1(cose), what);
  if (!message.payload) {
    return MakeError(ErrorCode::kBadFormat, std::string(what) + ": the payload is detached");
  }
  ASSIGN_OR_RETURN(auto offered, OfferedCertificates(message, what));
  const auto& candidates = known_signers.empty() ? offered : known_signers;
  if (candidates.empty()) {
    return MakeError(ErrorCode::kSecurity,
                     std::string(what) + ": carries no certificate and none is known to verify it");
  }
  std::optional<Error> failure;
  for (const auto& candidate : candidates) {
    Status verified = cose::VerifySign1(message, candidate.PublicKey());
    if (!verified) {
      failure = verified.error();
      continue;
    }
    ASSIGN_OR_RETURN_CTX(T value, decode(*message.payload), what);
    return Signed<T>{std::move(value),
                     Format::kCose,
                     candidate,
                     std::move(offered),
                     Bytes(cose.begin(), cose.end()),
                     {}};
  }
  return MakeError(
      failure->code() == ErrorCode::kPermissionDenied ? ErrorCode::kSecurity : failure->code(),
      std::string(what) + ": " + failure->message() +
          (candidates.size() > 1
               ? " with any of the " + std::to_string(candidates.size()) + " candidate signers"
               : ""));
}

}  // namespace

Result<Bytes> SignCoseVoucher(const Voucher& voucher, const crypto::PrivateKey& key,
                              const std::vector<crypto::Certificate>& x5bag) {
  ASSIGN_OR_RETURN(Bytes payload, EncodeVoucherCbor(voucher));
  return cose::SignSign1(key.get(), payload, {.x5bag = DerOf(x5bag)});
}

Result<Bytes> SignCoseVoucherRequest(const VoucherRequest& request, const crypto::PrivateKey& key,
                                     const std::vector<crypto::Certificate>& x5bag) {
  ASSIGN_OR_RETURN(Bytes payload, EncodeVoucherRequestCbor(request));
  return cose::SignSign1(key.get(), payload, {.x5bag = DerOf(x5bag)});
}

Result<Signed<Voucher>> OpenCoseVoucher(ByteSpan cose,
                                        const std::vector<crypto::Certificate>& known_signers) {
  return Open<Voucher>(cose, kMaxVoucherSize, "voucher", known_signers, DecodeVoucherCbor);
}

Result<Signed<VoucherRequest>> OpenCoseVoucherRequest(
    ByteSpan cose, RequestFrom from, const std::vector<crypto::Certificate>& known_signers) {
  bool pledge = from == RequestFrom::kPledge;
  return Open<VoucherRequest>(
      cose, pledge ? kMaxPledgeVoucherRequestSize : kMaxRegistrarVoucherRequestSize,
      pledge ? "pledge voucher-request" : "registrar voucher-request", known_signers,
      DecodeVoucherRequestCbor);
}

Result<Signed<VoucherRequest>> OpenVoucherRequestAs(Format format, ByteSpan bytes,
                                                    RequestFrom from) {
  return format == Format::kCose ? OpenCoseVoucherRequest(bytes, from, {})
                                 : OpenVoucherRequest(bytes, from);
}

Result<Bytes> ForwardableVoucher(ByteSpan cose) {
  ASSIGN_OR_RETURN_CTX(cose::Sign1 message, cose::DecodeSign1(cose), "voucher");
  return cose::WithoutUnprotected(message);
}

}  // namespace concierge::voucher
