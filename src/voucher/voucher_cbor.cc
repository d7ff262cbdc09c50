#include "voucher/voucher_cbor.h"

#include <map>
#include <span>
#include <string>

#include "cose/cbor.h"

namespace concierge::voucher {
namespace {

using cose::CborPtr;

// RFC 9254 §3.2: an absolute SID where a delta would be expected is tagged 47.
constexpr uint64_t kAbsoluteSidTag = 47;
constexpr size_t kMaxSerialNumberSize = 128;

struct Field {
  int64_t delta;
  std::string_view name;
};

// The leaves of each container, in SID order (the .sid files of 2025-12-18).
constexpr Field kVoucherFields[] = {
    {1, "assertion"},
    {2, "created-on"},
    {3, "domain-cert-revocation-checks"},
    {4, "expires-on"},
    {5, "idevid-issuer"},
    {6, "last-renewal-date"},
    {7, "nonce"},
    {8, "pinned-domain-cert"},
    {9, "pinned-domain-pubk"},
    {10, "pinned-domain-pubk-sha256"},
    {11, "serial-number"},
    {12, "additional-configuration-url"},
    {13, "est-domain"},
    {14, "manufacturer-proprietary"},
    {15, "extensions"},
};

constexpr Field kRequestFields[] = {
    {1, "assertion"},
    {2, "created-on"},
    {3, "domain-cert-revocation-checks"},
    {4, "expires-on"},
    {5, "idevid-issuer"},
    {6, "last-renewal-date"},
    {7, "nonce"},
    {8, "pinned-domain-cert"},
    {9, "prior-signed-voucher-request"},
    {10, "proximity-registrar-cert"},
    {11, "proximity-registrar-pubk-sha256"},
    {12, "proximity-registrar-pubk"},
    {13, "serial-number"},
    {14, "agent-provided-proximity-registrar-cert"},
    {15, "agent-sign-cert"},
    {16, "agent-signed-data"},
    {17, "pinned-domain-pubk"},
    {18, "pinned-domain-pubk-sha256"},
    {19, "additional-configuration-url"},
    {20, "est-domain"},
    {21, "extensions"},
    {22, "manufacturer-proprietary"},
};

struct Container {
  int64_t sid;
  std::string_view name;  // the container's qualified name, as JSON and name-keyed CBOR spell it
  std::string_view what;  // for messages
  std::span<const Field> fields;
};

constexpr Container kVoucherContainer{kVoucherSid, "ietf-voucher:voucher", "voucher",
                                      kVoucherFields};
constexpr Container kRequestContainer{kVoucherRequestSid, "ietf-voucher-request:voucher",
                                      "voucher-request", kRequestFields};

std::unexpected<Error> Invalid(const Container& container, const std::string& message) {
  return MakeError(ErrorCode::kBadFormat, std::string(container.what) + ": " + message);
}

// Leaves maps each leaf present to its item, borrowed from the decoded root.
using Leaves = std::map<std::string_view, const cbor_item_t*>;

const Field* FieldByDelta(const Container& container, int64_t delta) {
  for (const Field& field : container.fields) {
    if (field.delta == delta) {
      return &field;
    }
  }
  return nullptr;
}

const Field* FieldByName(const Container& container, std::string_view name) {
  for (const Field& field : container.fields) {
    if (field.name == name) {
      return &field;
    }
  }
  return nullptr;
}

Result<const Field*> IdentifyKey(const Container& container, const cbor_item_t* key) {
  if (cbor_isa_uint(key)) {
    ASSIGN_OR_RETURN(int64_t delta, cose::ReadInt(key, "key"));
    if (const Field* field = FieldByDelta(container, delta)) {
      return field;
    }
    return Invalid(container, "unknown key " + std::to_string(delta) + " (SID " +
                                  std::to_string(container.sid + delta) + ")");
  }
  if (cbor_isa_tag(key) && cbor_tag_value(key) == kAbsoluteSidTag) {
    cbor_item_t* tagged = cbor_tag_item(key);
    CborPtr owned(tagged);  // cbor_tag_item adds a reference
    if (!cbor_isa_uint(tagged)) {
      return Invalid(container, "tag 47 key is not a SID");
    }
    ASSIGN_OR_RETURN(int64_t sid, cose::ReadInt(tagged, "key"));
    if (const Field* field = FieldByDelta(container, sid - container.sid)) {
      return field;
    }
    return Invalid(container, "unknown key SID " + std::to_string(sid));
  }
  if (cbor_isa_string(key)) {
    ASSIGN_OR_RETURN(std::string name, cose::ReadText(key, "key"));
    if (const Field* field = FieldByName(container, name)) {
      return field;
    }
    return Invalid(container, "unknown key \"" + name.substr(0, 64) + "\"");
  }
  return Invalid(container, "a key is neither a SID nor a name");
}

Result<Leaves> OpenContainer(ByteSpan cbor, const Container& container, CborPtr& root) {
  ASSIGN_OR_RETURN(root, cose::DecodeCbor(cbor, container.what));
  if (!cbor_isa_map(root.get()) || cbor_map_size(root.get()) != 1) {
    return Invalid(container,
                   "expected a map with one entry, SID " + std::to_string(container.sid));
  }
  cbor_pair top = cbor_map_handle(root.get())[0];
  bool sid_matches = false;
  if (cbor_isa_uint(top.key)) {
    ASSIGN_OR_RETURN(int64_t sid, cose::ReadInt(top.key, "top-level key"));
    sid_matches = sid == container.sid;
  } else if (cbor_isa_string(top.key)) {
    ASSIGN_OR_RETURN(std::string name, cose::ReadText(top.key, "top-level key"));
    sid_matches = name == container.name;
  }
  if (!sid_matches) {
    return Invalid(container, "the top-level key is not SID " + std::to_string(container.sid) +
                                  " (" + std::string(container.name) + ")");
  }
  if (!cbor_isa_map(top.value)) {
    return Invalid(container, "the container is not a map");
  }
  Leaves leaves;
  cbor_pair* pairs = cbor_map_handle(top.value);
  for (size_t i = 0; i < cbor_map_size(top.value); ++i) {
    ASSIGN_OR_RETURN(const Field* field, IdentifyKey(container, pairs[i].key));
    if (!leaves.emplace(field->name, pairs[i].value).second) {
      return Invalid(container, std::string(field->name) + " appears twice");
    }
  }
  return leaves;
}

class LeafReader {
 public:
  LeafReader(const Container& container, const Leaves& leaves)
      : container_(container), leaves_(leaves) {}

  bool Has(std::string_view name) const { return leaves_.contains(name); }

  std::string Where(std::string_view name) const {
    return std::string(container_.what) + "." + std::string(name);
  }

  Result<Bytes> OptionalBytes(std::string_view name) const {
    auto it = leaves_.find(name);
    if (it == leaves_.end()) {
      return Bytes{};
    }
    return cose::ReadBytes(it->second, Where(name));
  }

  Result<std::optional<SystemTime>> OptionalTime(std::string_view name) const {
    auto it = leaves_.find(name);
    if (it == leaves_.end()) {
      return std::optional<SystemTime>();
    }
    ASSIGN_OR_RETURN(std::string text, cose::ReadText(it->second, Where(name)));
    ASSIGN_OR_RETURN_CTX(SystemTime time, ParseRfc3339(text), Where(name));
    return std::optional<SystemTime>(time);
  }

  Result<bool> OptionalBool(std::string_view name) const {
    auto it = leaves_.find(name);
    if (it == leaves_.end()) {
      return false;
    }
    if (!cbor_isa_float_ctrl(it->second) || !cbor_float_ctrl_is_ctrl(it->second) ||
        (cbor_ctrl_value(it->second) != CBOR_CTRL_TRUE &&
         cbor_ctrl_value(it->second) != CBOR_CTRL_FALSE)) {
      return MakeError(ErrorCode::kBadFormat, Where(name) + ": expected true or false");
    }
    return cbor_ctrl_value(it->second) == CBOR_CTRL_TRUE;
  }

  Result<std::string> RequiredSerial() const {
    auto it = leaves_.find("serial-number");
    if (it == leaves_.end()) {
      return MakeError(ErrorCode::kBadFormat, Where("serial-number") + ": missing");
    }
    ASSIGN_OR_RETURN(std::string serial, cose::ReadText(it->second, Where("serial-number")));
    if (serial.empty() || serial.size() > kMaxSerialNumberSize) {
      return MakeError(ErrorCode::kBadFormat, Where("serial-number") + ": must be 1 to " +
                                                  std::to_string(kMaxSerialNumberSize) +
                                                  " bytes, got " + std::to_string(serial.size()));
    }
    return serial;
  }

  Result<Assertion> RequiredAssertion() const {
    auto it = leaves_.find("assertion");
    if (it == leaves_.end()) {
      return MakeError(ErrorCode::kBadFormat, Where("assertion") + ": missing");
    }
    const cbor_item_t* item = it->second;
    if (cbor_isa_string(item)) {
      ASSIGN_OR_RETURN(std::string text, cose::ReadText(item, Where("assertion")));
      for (Assertion a : {Assertion::kVerified, Assertion::kLogged, Assertion::kProximity,
                          Assertion::kAgentProximity}) {
        if (AssertionName(a) == text) {
          return a;
        }
      }
      return MakeError(ErrorCode::kBadFormat,
                       Where("assertion") + ": unknown value \"" + text.substr(0, 32) + "\"");
    }
    ASSIGN_OR_RETURN(int64_t value, cose::ReadInt(item, Where("assertion")));
    if (value < 0 || value > static_cast<int64_t>(Assertion::kAgentProximity)) {
      return MakeError(ErrorCode::kBadFormat,
                       Where("assertion") + ": unknown value " + std::to_string(value));
    }
    return static_cast<Assertion>(value);
  }

  Result<Bytes> OptionalNonce() const {
    ASSIGN_OR_RETURN(Bytes nonce, OptionalBytes("nonce"));
    if (Has("nonce") && (nonce.size() < kMinNonceSize || nonce.size() > kMaxNonceSize)) {
      return MakeError(ErrorCode::kBadFormat, Where("nonce") + ": must be 8 to 32 bytes, got " +
                                                  std::to_string(nonce.size()));
    }
    return nonce;
  }

 private:
  const Container& container_;
  const Leaves& leaves_;
};

// Builder collects one container's leaves in SID order.
class Builder {
 public:
  explicit Builder(const Container& container) : container_(container) {}

  void Add(std::string_view name, CborPtr value) {
    const Field* field = FieldByName(container_, name);
    entries_.emplace(field->delta, std::move(value));
  }

  void AddBytes(std::string_view name, const Bytes& value) {
    if (!value.empty()) {
      Add(name, cose::BuildBytes(value));
    }
  }

  void AddTime(std::string_view name, const std::optional<SystemTime>& value) {
    if (value) {
      Add(name, cose::BuildText(FormatRfc3339(*value)));
    }
  }

  Result<Bytes> Encode() {
    CborPtr inner(cbor_new_definite_map(entries_.size()));
    for (auto& [delta, value] : entries_) {
      (void)cbor_map_add(inner.get(),
                         cbor_pair{.key = cose::BuildInt(delta).get(), .value = value.get()});
    }
    CborPtr outer(cbor_new_definite_map(1));
    (void)cbor_map_add(
        outer.get(), cbor_pair{.key = cose::BuildInt(container_.sid).get(), .value = inner.get()});
    return cose::EncodeCbor(outer.get());
  }

 private:
  const Container& container_;
  std::map<int64_t, CborPtr> entries_;
};

CborPtr BuildBool(bool value) {
  return CborPtr(cbor_build_bool(value));
}

}  // namespace

Result<Bytes> EncodeVoucherCbor(const Voucher& voucher) {
  Builder builder(kVoucherContainer);
  builder.Add("assertion", cose::BuildInt(static_cast<int64_t>(voucher.assertion)));
  builder.AddTime("created-on", voucher.created_on);
  builder.Add("domain-cert-revocation-checks", BuildBool(voucher.domain_cert_revocation_checks));
  builder.AddTime("expires-on", voucher.expires_on);
  builder.AddBytes("idevid-issuer", voucher.idevid_issuer);
  builder.AddBytes("nonce", voucher.nonce);
  builder.AddBytes("pinned-domain-cert", voucher.pinned_domain_cert);
  builder.AddBytes("pinned-domain-pubk", voucher.pinned_domain_pubk);
  builder.Add("serial-number", cose::BuildText(voucher.serial_number));
  return builder.Encode();
}

Result<Voucher> DecodeVoucherCbor(ByteSpan cbor) {
  CborPtr root;
  ASSIGN_OR_RETURN(Leaves leaves, OpenContainer(cbor, kVoucherContainer, root));
  LeafReader reader(kVoucherContainer, leaves);
  Voucher voucher;
  ASSIGN_OR_RETURN(voucher.assertion, reader.RequiredAssertion());
  ASSIGN_OR_RETURN(auto created_on, reader.OptionalTime("created-on"));
  if (!created_on) {
    return MakeError(ErrorCode::kBadFormat, "voucher.created-on: missing");
  }
  voucher.created_on = *created_on;
  ASSIGN_OR_RETURN(voucher.expires_on, reader.OptionalTime("expires-on"));
  ASSIGN_OR_RETURN(voucher.serial_number, reader.RequiredSerial());
  ASSIGN_OR_RETURN(voucher.nonce, reader.OptionalNonce());
  if (!reader.Has("nonce") && !voucher.expires_on) {
    return MakeError(ErrorCode::kBadFormat, "voucher: a nonceless voucher needs expires-on");
  }
  ASSIGN_OR_RETURN(voucher.pinned_domain_cert, reader.OptionalBytes("pinned-domain-cert"));
  ASSIGN_OR_RETURN(voucher.pinned_domain_pubk, reader.OptionalBytes("pinned-domain-pubk"));
  if (voucher.pinned_domain_cert.empty() && voucher.pinned_domain_pubk.empty()) {
    return MakeError(ErrorCode::kBadFormat,
                     "voucher: pins nothing (no pinned-domain-cert or pinned-domain-pubk)");
  }
  ASSIGN_OR_RETURN(voucher.idevid_issuer, reader.OptionalBytes("idevid-issuer"));
  ASSIGN_OR_RETURN(voucher.domain_cert_revocation_checks,
                   reader.OptionalBool("domain-cert-revocation-checks"));
  return voucher;
}

Result<Bytes> EncodeVoucherRequestCbor(const VoucherRequest& request) {
  Builder builder(kRequestContainer);
  builder.Add("assertion", cose::BuildInt(static_cast<int64_t>(request.assertion)));
  builder.AddTime("created-on", request.created_on);
  builder.AddBytes("idevid-issuer", request.idevid_issuer);
  builder.AddBytes("nonce", request.nonce);
  builder.AddBytes("prior-signed-voucher-request", request.prior_signed_voucher_request);
  builder.AddBytes("proximity-registrar-cert", request.proximity_registrar_cert);
  builder.AddBytes("proximity-registrar-pubk", request.proximity_registrar_pubk);
  builder.Add("serial-number", cose::BuildText(request.serial_number));
  return builder.Encode();
}

Result<VoucherRequest> DecodeVoucherRequestCbor(ByteSpan cbor) {
  CborPtr root;
  ASSIGN_OR_RETURN(Leaves leaves, OpenContainer(cbor, kRequestContainer, root));
  LeafReader reader(kRequestContainer, leaves);
  VoucherRequest request;
  ASSIGN_OR_RETURN(request.assertion, reader.RequiredAssertion());
  ASSIGN_OR_RETURN(request.created_on, reader.OptionalTime("created-on"));
  ASSIGN_OR_RETURN(request.serial_number, reader.RequiredSerial());
  ASSIGN_OR_RETURN(request.nonce, reader.OptionalNonce());
  ASSIGN_OR_RETURN(request.proximity_registrar_cert,
                   reader.OptionalBytes("proximity-registrar-cert"));
  ASSIGN_OR_RETURN(request.proximity_registrar_pubk,
                   reader.OptionalBytes("proximity-registrar-pubk"));
  ASSIGN_OR_RETURN(request.idevid_issuer, reader.OptionalBytes("idevid-issuer"));
  ASSIGN_OR_RETURN(request.prior_signed_voucher_request,
                   reader.OptionalBytes("prior-signed-voucher-request"));
  return request;
}

}  // namespace concierge::voucher
