// Writes the seed corpora under fuzz/corpus/ from one in-memory onboarding, so seeds are real
// artifacts of this project's own code. Usage: make_seeds FUZZ_CORPUS_DIR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "coap/multipart_core.h"
#include "cose/sign1.h"
#include "crypto/cms.h"
#include "fakes/onboarding_world.h"
#include "ownership/chain.h"
#include "ownership/delegation.h"
#include "ownership/statement.h"
#include "store/audit_log.h"
#include "voucher/cose_voucher.h"
#include "voucher/voucher.h"
#include "voucher/voucher_cbor.h"

using namespace concierge;  // NOLINT(google-build-using-namespace): tool entry point

namespace {

void Write(const std::filesystem::path& path, std::string_view content) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

void WriteCoseSeeds(const std::filesystem::path& dir, const crypto::PrivateKey& key) {
  cose::SignOptions options;
  options.content_type = 60;  // application/cbor
  options.key_id = ToBytes("seed");
  Bytes tagged = cose::SignSign1(key.get(), ToBytes("seed payload"), options).value();
  Write(dir / "tagged.cose", ToString(tagged));
  Write(dir / "untagged.cose", ToString(ByteSpan(tagged).subspan(1)));
  Bytes empty = cose::SignSign1(key.get(), {}).value();
  Write(dir / "empty-payload.cose", ToString(empty));
}

// cBRSKI's artifacts for the same device: the pledge's request (signed with its IDevID key,
// pinning the registrar's public key), the registrar's (with the certificates a MASA needs in
// its x5bag), the MASA's voucher, and that voucher as a registrar forwards it.
void WriteCoseVoucherSeeds(const std::filesystem::path& out, voucher::VoucherRequest request,
                           const pledge::PledgeIdentity& pledge,
                           const registrar::RegistrarIdentity& registrar,
                           const masa::MasaIdentity& masa) {
  request.proximity_registrar_cert.clear();
  request.proximity_registrar_pubk = registrar.registrar_cert.PublicKeyDer().value();
  Write(out / "voucher_cbor" / "pvr.cbor",
        ToString(voucher::EncodeVoucherRequestCbor(request).value()));
  Bytes pvr = voucher::SignCoseVoucherRequest(request, pledge.key, {}).value();
  Write(out / "cose_voucher" / "pvr.cose", ToString(pvr));
  voucher::VoucherRequest rvr = request;
  rvr.proximity_registrar_pubk.clear();
  rvr.created_on = FromUnixSeconds(1'800'000'000);
  rvr.idevid_issuer = pledge.idevid.AuthorityKeyIdExtnValue();
  rvr.prior_signed_voucher_request = pvr;
  Write(out / "voucher_cbor" / "rvr.cbor",
        ToString(voucher::EncodeVoucherRequestCbor(rvr).value()));
  Bytes rvr_cose = voucher::SignCoseVoucherRequest(
                       rvr, registrar.registrar_key,
                       {registrar.registrar_cert, registrar.domain_ca, pledge.idevid})
                       .value();
  Write(out / "cose_voucher" / "rvr.cose", ToString(rvr_cose));
  voucher::Voucher v;
  v.assertion = voucher::Assertion::kProximity;
  v.created_on = FromUnixSeconds(1'800'000'000);
  v.serial_number = request.serial_number;
  v.nonce = request.nonce;
  v.pinned_domain_cert = registrar.domain_ca.Der();
  Write(out / "voucher_cbor" / "voucher.cbor", ToString(voucher::EncodeVoucherCbor(v).value()));
  Bytes signed_voucher = voucher::SignCoseVoucher(v, masa.signer_key, {masa.signer}).value();
  Write(out / "cose_voucher" / "voucher.cose", ToString(signed_voucher));
  Write(out / "cose_voucher" / "forwarded-voucher.cose",
        ToString(voucher::ForwardableVoucher(signed_voucher).value()));
}

// CoapDatagram encodes a CoAP-over-UDP request (RFC 7252 §3) with options given in
// ascending number order, as the server's socket would receive it.
std::string CoapDatagram(uint8_t code, const std::vector<std::pair<uint16_t, std::string>>& options,
                         std::string_view payload) {
  std::string out = {static_cast<char>(0x41), static_cast<char>(code), 0x12, 0x34, 0x7a};
  uint16_t last = 0;
  for (const auto& [number, value] : options) {
    auto nibble = [&out](size_t field, uint8_t& head_nibble) {
      if (field < 13) {
        head_nibble = static_cast<uint8_t>(field);
        return std::string();
      }
      if (field < 269) {
        head_nibble = 13;
        return std::string(1, static_cast<char>(field - 13));
      }
      head_nibble = 14;
      return std::string{static_cast<char>((field - 269) >> 8), static_cast<char>(field - 269)};
    };
    uint8_t delta_nibble = 0;
    uint8_t length_nibble = 0;
    std::string delta_ext = nibble(number - last, delta_nibble);
    std::string length_ext = nibble(value.size(), length_nibble);
    out += static_cast<char>((delta_nibble << 4) | length_nibble);
    out += delta_ext + length_ext + value;
    last = number;
  }
  if (!payload.empty()) {
    out += static_cast<char>(0xff);
    out += payload;
  }
  return out;
}

// Requests as pledges and coap-client send them: paths, queries, content-formats, Accept,
// Uri-Path-Abbrev (13), known and unknown.
void WriteCoapSeeds(const std::filesystem::path& dir, const std::string& pvr) {
  const std::string wk = ".well-known";
  Write(dir / "core.coap", CoapDatagram(1, {{11, wk}, {11, "core"}}, ""));
  Write(dir / "core-query.coap", CoapDatagram(1, {{11, wk}, {11, "core"}, {15, "rt=brski*"}}, ""));
  Write(dir / "crts-accept.coap",
        CoapDatagram(1, {{11, wk}, {11, "est"}, {11, "crts"}, {17, std::string("\x3e", 1)}}, ""));
  Write(dir / "abbrev-crts.coap", CoapDatagram(1, {{13, std::string("\x01\x2d", 2)}}, ""));
  Write(dir / "abbrev-unknown.coap", CoapDatagram(1, {{13, std::string("\x03\xe7", 2)}}, ""));
  Write(dir / "abbrev-and-path.coap",
        CoapDatagram(2, {{11, "x"}, {13, std::string("\x01\x92", 2)}}, ""));
  Write(dir / "rv.coap", CoapDatagram(2,
                                      {{11, wk},
                                       {11, "brski"},
                                       {11, "rv"},
                                       {12, std::string("\x03\x44", 2)},
                                       {17, std::string("\x03\x44", 2)}},
                                      pvr));
}

// A lift sold by its maker, then handed on twice.
void WriteChainSeeds(const std::filesystem::path& dir, const crypto::PrivateKey& maker) {
  auto alice = crypto::PrivateKey::GenerateP256().value();
  auto bob = crypto::PrivateKey::GenerateP256().value();
  ownership::ChainHeader header{"SEED-LIFT", "Seed Maker", maker.PublicKeyDer().value(),
                                crypto::Sha256(ToBytes("SEED-LIFT"))};
  auto chain = ownership::OwnershipChain::Start(header).value();
  ownership::OwnershipChain::Authorities authorities;
  Write(dir / "header-only.cbor", ToString(chain.Encode().value()));
  SystemTime at = FromUnixSeconds(1'800'000'000);
  (void)chain.Extend(maker, alice.PublicKeyDer().value(), ownership::EntryKind::kSale, at,
                     authorities);
  Write(dir / "sold.cbor", ToString(chain.Encode().value()));
  (void)chain.Extend(alice, bob.PublicKeyDer().value(), ownership::EntryKind::kTransfer, at,
                     authorities);
  (void)chain.Extend(bob, alice.PublicKeyDer().value(), ownership::EntryKind::kTransfer, at,
                     authorities);
  Write(dir / "transferred-twice.cbor", ToString(chain.Encode().value()));
}

// Owner statements and tenant requests, as the MASA and the site receive them.
void WriteSignedRequestSeeds(const std::filesystem::path& dir, const crypto::PrivateKey& key) {
  ownership::Statement stolen{
      ownership::Action::kReportStolen, "SEED-LIFT", 1'800'000'000'000, {}, {}, 0};
  Write(dir / "report-stolen.cose", ToString(ownership::SignStatement(key, stolen).value()));
  ownership::Statement escrow{ownership::Action::kSetEscrow,
                              "SEED-LIFT",
                              1'800'000'000'001,
                              {},
                              {key.PublicKeyDer().value(), key.PublicKeyDer().value()},
                              2};
  Write(dir / "set-escrow.cose", ToString(ownership::SignStatement(key, escrow).value()));
  ownership::Statement approve{ownership::Action::kApproveEscrow, "SEED-LIFT", 1'800'000'000'002,
                               key.PublicKeyDer().value(),        {},          0};
  Write(dir / "approve-escrow.cose", ToString(ownership::SignStatement(key, approve).value()));
  ownership::TenantRequest list{ownership::TenantOperation::kList, "", 1'800'000'000'003};
  Write(dir / "tenant-list.cose", ToString(ownership::SignTenantRequest(key, list).value()));
  ownership::TenantRequest status{ownership::TenantOperation::kStatus, "SEED-LIFT",
                                  1'800'000'000'004};
  Write(dir / "tenant-status.cose", ToString(ownership::SignTenantRequest(key, status).value()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    (void)std::fprintf(stderr, "usage: make_seeds FUZZ_CORPUS_DIR\n");
    return 2;
  }
  std::filesystem::path out = argv[1];
  testing::OnboardingWorld world;
  auto& maker = world.AddMaker("Seed Maker");
  auto& site = world.AddSite("Seed Site");
  (void)site.store->AddTrustedMaker("Seed Maker", maker.directory.masa.maker_ca,
                                    registrar::Approval::kAuto);
  auto identity = world.Mint(maker, "SEED-0001");
  auto result = world.MakePledge(identity, site).EnrollAndWait();
  if (!result) {
    (void)std::fprintf(stderr, "onboarding failed: %s\n", result.error().ToString().c_str());
    return 1;
  }
  int index = 0;
  for (const auto& request : site.connector->requests) {
    std::string name = std::to_string(index++);
    Write(out / "http_message" / (name + ".txt"), http::SerializeRequest(request, "registrar"));
    if (request.target.ends_with("requestvoucher")) {
      Write(out / "cms_voucher_request" / "pvr.cms", request.body);
      auto pvr = voucher::OpenVoucherRequest(ToBytes(request.body), voucher::RequestFrom::kPledge);
      Write(out / "voucher_json" / "pvr.json", voucher::EncodeVoucherRequestJson(pvr->value));
      WriteCoseVoucherSeeds(out, pvr->value, identity, site.directory.identity,
                            maker.directory.masa);
      WriteCoapSeeds(out / "coap_message", request.body);
    }
    if (request.target.ends_with("simpleenroll")) {
      Write(out / "csr_pem" / "csr.der", ToString(Base64DecodeLenient(request.body).value()));
    }
  }
  Write(out / "cms_voucher_request" / "voucher.cms", ToString(result->voucher_cms));
  auto opened = voucher::OpenVoucher(result->voucher_cms);
  Write(out / "voucher_json" / "voucher.json", voucher::EncodeVoucherJson(opened->value));
  Write(out / "cms_voucher_request" / "cacerts.der",
        ToString(crypto::CertsOnlyDer(result->domain_anchors).value()));
  Write(out / "csr_pem" / "idevid.pem", identity.idevid.Pem());
  Write(out / "csr_pem" / "chain.pem",
        result->ldevid.Pem() + crypto::ChainToPem(result->domain_anchors));
  Write(out / "csr_pem" / "ldevid.der", ToString(result->ldevid.Der()));
  coap::Parts crts;
  for (const auto& anchor : result->domain_anchors) {
    crts.emplace_back(287, anchor.Der());
  }
  Write(out / "est_coaps" / "crts.cbor", ToString(coap::EncodeMultipartCore(crts).value()));
  Write(out / "est_coaps" / "ldevid.der", ToString(result->ldevid.Der()));
  Write(out / "est_coaps" / "status-ok.cbor", ToString(voucher::EncodeStatusCbor({})));
  Write(out / "est_coaps" / "status-failed.cbor",
        ToString(voucher::EncodeStatusCbor({false, "voucher nonce does not match"})));
  std::string lines;
  auto records = store::ReadAuditEvents(site.store->database()).value();
  for (const auto& record : records) {
    lines += store::AuditRecordToJson(record).dump() + "\n";
  }
  Write(out / "audit_record" / "chain.jsonl", lines);
  WriteCoseSeeds(out / "cose_sign1", maker.directory.masa.signer_key);
  WriteChainSeeds(out / "ownership_chain", maker.directory.masa.signer_key);
  WriteSignedRequestSeeds(out / "signed_request", maker.directory.masa.signer_key);
  (void)std::printf("seeds written under %s\n", out.c_str());
  return 0;
}
