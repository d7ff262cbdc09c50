#include "cose/sign1.h"

#include <string>

#include <openssl/ecdsa.h>

#include "cose/cbor.h"

namespace concierge::cose {
namespace {

constexpr uint64_t kSign1Tag = 18;
constexpr int64_t kLabelAlgorithm = 1;
constexpr int64_t kLabelCritical = 2;
constexpr int64_t kLabelContentType = 3;
constexpr int64_t kLabelKeyId = 4;
constexpr int64_t kLabelX5Bag = 32;
constexpr int64_t kLabelX5Chain = 33;
// Nobody's certificate chain is longer; a bag of more is someone making the verifier work.
constexpr size_t kMaxCertificates = 8;

std::unexpected<Error> Invalid(std::string_view message) {
  return MakeError(ErrorCode::kInvalidArgument, "COSE_Sign1: " + std::string(message));
}

// ReadCertificates reads an x5bag or x5chain value: one bstr, or an array of them.
Result<std::vector<Bytes>> ReadCertificates(const cbor_item_t* value, const std::string& where) {
  std::vector<Bytes> certificates;
  if (cbor_isa_bytestring(value)) {
    ASSIGN_OR_RETURN(Bytes one, ReadBytes(value, where));
    certificates.push_back(std::move(one));
    return certificates;
  }
  ASSIGN_OR_RETURN(auto items, ReadArray(value, where));
  if (items.size() > kMaxCertificates) {
    return Invalid(where + " carries " + std::to_string(items.size()) +
                   " certificates, more than the limit of " + std::to_string(kMaxCertificates));
  }
  for (const cbor_item_t* item : items) {
    ASSIGN_OR_RETURN(Bytes der, ReadBytes(item, where));
    certificates.push_back(std::move(der));
  }
  return certificates;
}

// ReadHeaders reads a header map and appends its integer labels to `labels`.
Result<Headers> ReadHeaders(const cbor_item_t* map, std::string_view bucket,
                            std::vector<int64_t>& labels) {
  if (!cbor_isa_map(map)) {
    return Invalid(std::string(bucket) + " header is not a map");
  }
  Headers headers;
  cbor_pair* pairs = cbor_map_handle(map);
  for (size_t i = 0; i < cbor_map_size(map); ++i) {
    if (!cbor_is_int(pairs[i].key)) {
      continue;  // text labels are private-use; carried, not interpreted
    }
    ASSIGN_OR_RETURN(int64_t label, ReadInt(pairs[i].key, "header label"));
    for (int64_t seen : labels) {
      if (seen == label) {
        return Invalid("header label " + std::to_string(label) + " appears twice");
      }
    }
    labels.push_back(label);
    const cbor_item_t* value = pairs[i].value;
    std::string where = std::string(bucket) + " header " + std::to_string(label);
    if (label == kLabelAlgorithm) {
      if (!cbor_is_int(value)) {
        return Invalid("unsupported algorithm (" + where + " is not an integer)");
      }
      ASSIGN_OR_RETURN(headers.algorithm, ReadInt(value, where));
    } else if (label == kLabelCritical) {
      return Invalid("critical header parameters are not supported");
    } else if (label == kLabelContentType) {
      if (cbor_is_int(value)) {
        ASSIGN_OR_RETURN(headers.content_type, ReadInt(value, where));
      } else if (!cbor_isa_string(value)) {
        return Invalid(where + " (content type) must be an integer or text");
      }
    } else if (label == kLabelKeyId) {
      ASSIGN_OR_RETURN(headers.key_id, ReadBytes(value, where + " (kid)"));
    } else if (label == kLabelX5Bag) {
      ASSIGN_OR_RETURN(headers.x5bag, ReadCertificates(value, where + " (x5bag)"));
    } else if (label == kLabelX5Chain) {
      ASSIGN_OR_RETURN(headers.x5chain, ReadCertificates(value, where + " (x5chain)"));
    }
  }
  return headers;
}

size_t CoordinateSize(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kEs256:
      return 32;
    case Algorithm::kEs384:
      return 48;
    case Algorithm::kEs512:
      return 66;
    case Algorithm::kEdDsa:
      return 0;
  }
  return 0;
}

const EVP_MD* Digest(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kEs256:
      return EVP_sha256();
    case Algorithm::kEs384:
      return EVP_sha384();
    case Algorithm::kEs512:
      return EVP_sha512();
    case Algorithm::kEdDsa:
      return nullptr;  // EdDSA hashes internally
  }
  return nullptr;
}

// COSE carries ECDSA signatures as r || s, each the curve's size; OpenSSL speaks DER.
Result<Bytes> RawToDer(ByteSpan raw, size_t size) {
  if (raw.size() != 2 * size) {
    return Invalid("ECDSA signature must be " + std::to_string(2 * size) + " bytes, not " +
                   std::to_string(raw.size()));
  }
  crypto::OpenSslPtr<BIGNUM> r(BN_bin2bn(raw.data(), static_cast<int>(size), nullptr));
  crypto::OpenSslPtr<BIGNUM> s(BN_bin2bn(raw.data() + size, static_cast<int>(size), nullptr));
  crypto::OpenSslPtr<ECDSA_SIG> signature(ECDSA_SIG_new());
  if (!r || !s || !signature || ECDSA_SIG_set0(signature.get(), r.get(), s.get()) != 1) {
    return std::unexpected(crypto::OpenSslError(ErrorCode::kInternal, "ECDSA signature"));
  }
  (void)r.release();  // owned by signature now
  (void)s.release();
  return crypto::EncodeDer(i2d_ECDSA_SIG, signature.get(), "an ECDSA signature");
}

Result<Bytes> DerToRaw(ByteSpan der, size_t size) {
  const unsigned char* cursor = der.data();
  crypto::OpenSslPtr<ECDSA_SIG> signature(
      d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size())));
  if (!signature) {
    return std::unexpected(crypto::OpenSslError(ErrorCode::kInternal, "ECDSA signature"));
  }
  Bytes raw(2 * size);
  const BIGNUM* r = ECDSA_SIG_get0_r(signature.get());
  const BIGNUM* s = ECDSA_SIG_get0_s(signature.get());
  bool ok = BN_bn2binpad(r, raw.data(), static_cast<int>(size)) == static_cast<int>(size) &&
            BN_bn2binpad(s, raw.data() + size, static_cast<int>(size)) == static_cast<int>(size);
  if (!ok) {
    return MakeError(ErrorCode::kInternal, "ECDSA signature does not fit the curve size");
  }
  return raw;
}

Result<Algorithm> MessageAlgorithm(const Sign1& message) {
  std::optional<int64_t> id = message.protected_headers.algorithm;
  if (!id) {
    bool protected_empty =
        message.protected_bucket.empty() ||
        (message.protected_bucket.size() == 1 && message.protected_bucket[0] == 0xa0);
    if (!protected_empty) {
      return Invalid("the algorithm must be in the protected header");
    }
    id = message.unprotected_headers.algorithm;
  }
  if (!id) {
    return Invalid("no algorithm header");
  }
  return AlgorithmFromId(*id);
}

}  // namespace

Result<Bytes> SigStructure(ByteSpan body_protected, ByteSpan external_aad, ByteSpan payload) {
  CborPtr structure =
      BuildArray({BuildText("Signature1").release(), BuildBytes(body_protected).release(),
                  BuildBytes(external_aad).release(), BuildBytes(payload).release()});
  return EncodeCbor(structure.get());
}

Result<Sign1> DecodeSign1(ByteSpan message, TagRule tags) {
  ASSIGN_OR_RETURN(TaggedBytes split, SplitTag(message, "COSE_Sign1"));
  Sign1 out;
  if (split.tag) {
    if (*split.tag != kSign1Tag) {
      return Invalid("tag " + std::to_string(*split.tag) + " is not COSE_Sign1 (18)");
    }
    out.tagged = true;
  } else if (tags == TagRule::kRequired) {
    return Invalid("the COSE_Sign1 tag (18) is required");
  }
  ASSIGN_OR_RETURN(CborPtr root, DecodeCbor(split.item, "COSE_Sign1"));
  const cbor_item_t* body = root.get();
  ASSIGN_OR_RETURN(auto items, ReadArray(body, "COSE_Sign1", 4));
  ASSIGN_OR_RETURN(out.protected_bucket, ReadBytes(items[0], "COSE_Sign1 protected header"));
  std::vector<int64_t> labels;
  if (!out.protected_bucket.empty()) {
    ASSIGN_OR_RETURN(CborPtr protected_map,
                     DecodeCbor(out.protected_bucket, "COSE_Sign1 protected header"));
    ASSIGN_OR_RETURN(out.protected_headers, ReadHeaders(protected_map.get(), "protected", labels));
  }
  ASSIGN_OR_RETURN(out.unprotected_headers, ReadHeaders(items[1], "unprotected", labels));
  if (!IsNull(items[2])) {
    ASSIGN_OR_RETURN(out.payload, ReadBytes(items[2], "COSE_Sign1 payload"));
  }
  ASSIGN_OR_RETURN(out.signature, ReadBytes(items[3], "COSE_Sign1 signature"));
  return out;
}

Status VerifySign1(const Sign1& message, EVP_PKEY* key, ByteSpan external_aad,
                   const Bytes* detached_payload) {
  ASSIGN_OR_RETURN(Algorithm algorithm, MessageAlgorithm(message));
  ASSIGN_OR_RETURN(Algorithm key_algorithm, AlgorithmForKey(key));
  if (algorithm != key_algorithm) {
    return Invalid(std::string("algorithm ") + std::string(AlgorithmName(algorithm)) +
                   " does not match the key (" + std::string(AlgorithmName(key_algorithm)) + ")");
  }
  const Bytes* payload = message.payload ? &*message.payload : detached_payload;
  if (payload == nullptr) {
    return Invalid("the payload is detached and none was given");
  }
  bool empty_map = message.protected_bucket.size() == 1 && message.protected_bucket[0] == 0xa0;
  ByteSpan body_protected = empty_map ? ByteSpan{} : ByteSpan(message.protected_bucket);
  ASSIGN_OR_RETURN(Bytes to_be_signed, SigStructure(body_protected, external_aad, *payload));
  Bytes signature = message.signature;
  if (size_t size = CoordinateSize(algorithm); size > 0) {
    ASSIGN_OR_RETURN(signature, RawToDer(message.signature, size));
  }
  crypto::OpenSslPtr<EVP_MD_CTX> context(EVP_MD_CTX_new());
  if (!context ||
      EVP_DigestVerifyInit(context.get(), nullptr, Digest(algorithm), nullptr, key) != 1) {
    return std::unexpected(crypto::OpenSslError(ErrorCode::kInternal, "COSE verify"));
  }
  if (EVP_DigestVerify(context.get(), signature.data(), signature.size(), to_be_signed.data(),
                       to_be_signed.size()) != 1) {
    crypto::ClearOpenSslErrors();
    return MakeError(ErrorCode::kPermissionDenied, "COSE_Sign1: signature does not verify");
  }
  return OkStatus();
}

Result<Bytes> SignSign1(EVP_PKEY* key, ByteSpan payload, const SignOptions& options) {
  ASSIGN_OR_RETURN(Algorithm algorithm, AlgorithmForKey(key));
  size_t entries = options.content_type ? 2 : 1;
  CborPtr protected_map(cbor_new_definite_map(entries));
  (void)cbor_map_add(protected_map.get(),
                     cbor_pair{.key = BuildInt(kLabelAlgorithm).get(),
                               .value = BuildInt(static_cast<int64_t>(algorithm)).get()});
  if (options.content_type) {
    (void)cbor_map_add(protected_map.get(),
                       cbor_pair{.key = BuildInt(kLabelContentType).get(),
                                 .value = BuildInt(*options.content_type).get()});
  }
  ASSIGN_OR_RETURN(Bytes protected_bucket, EncodeCbor(protected_map.get()));
  ASSIGN_OR_RETURN(Bytes to_be_signed,
                   SigStructure(protected_bucket, options.external_aad, payload));
  crypto::OpenSslPtr<EVP_MD_CTX> context(EVP_MD_CTX_new());
  size_t length = 0;
  if (!context ||
      EVP_DigestSignInit(context.get(), nullptr, Digest(algorithm), nullptr, key) != 1 ||
      EVP_DigestSign(context.get(), nullptr, &length, to_be_signed.data(), to_be_signed.size()) !=
          1) {
    return std::unexpected(crypto::OpenSslError(ErrorCode::kInternal, "COSE sign"));
  }
  Bytes signature(length);
  if (EVP_DigestSign(context.get(), signature.data(), &length, to_be_signed.data(),
                     to_be_signed.size()) != 1) {
    return std::unexpected(crypto::OpenSslError(ErrorCode::kInternal, "COSE sign"));
  }
  signature.resize(length);
  if (size_t size = CoordinateSize(algorithm); size > 0) {
    ASSIGN_OR_RETURN(signature, DerToRaw(signature, size));
  }
  size_t unprotected_entries = (options.key_id.empty() ? 0 : 1) + (options.x5bag.empty() ? 0 : 1);
  CborPtr unprotected_map(cbor_new_definite_map(unprotected_entries));
  if (!options.key_id.empty()) {
    (void)cbor_map_add(unprotected_map.get(), cbor_pair{.key = BuildInt(kLabelKeyId).get(),
                                                        .value = BuildBytes(options.key_id).get()});
  }
  if (!options.x5bag.empty()) {
    CborPtr bag(cbor_new_definite_array(options.x5bag.size()));
    for (const Bytes& der : options.x5bag) {
      (void)cbor_array_push(bag.get(), BuildBytes(der).get());
    }
    (void)cbor_map_add(unprotected_map.get(),
                       cbor_pair{.key = BuildInt(kLabelX5Bag).get(), .value = bag.get()});
  }
  CborPtr body = BuildArray({BuildBytes(protected_bucket).release(), unprotected_map.release(),
                             BuildBytes(payload).release(), BuildBytes(signature).release()});
  ASSIGN_OR_RETURN(Bytes encoded, EncodeCbor(body.get()));
  encoded.insert(encoded.begin(), 0xc0 | static_cast<uint8_t>(kSign1Tag));  // tag 18, one byte
  return encoded;
}

Result<Bytes> WithoutUnprotected(const Sign1& message) {
  CborPtr payload = message.payload ? BuildBytes(*message.payload) : CborPtr(cbor_new_null());
  CborPtr body =
      BuildArray({BuildBytes(message.protected_bucket).release(), cbor_new_definite_map(0),
                  payload.release(), BuildBytes(message.signature).release()});
  ASSIGN_OR_RETURN(Bytes encoded, EncodeCbor(body.get()));
  encoded.insert(encoded.begin(), 0xc0 | static_cast<uint8_t>(kSign1Tag));
  return encoded;
}

}  // namespace concierge::cose
