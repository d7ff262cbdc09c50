#include "dnssd/mdns_message.h"

#include <cstdlib>
#include <memory>

#include "dnssd/ldns_include.h"

namespace concierge::dnssd {
namespace {

struct PacketFree {
  void operator()(ldns_pkt* packet) const { ldns_pkt_free(packet); }
};

struct RdfFree {
  void operator()(ldns_rdf* rdf) const { ldns_rdf_deep_free(rdf); }
};

struct MallocFree {
  void operator()(void* memory) const { std::free(memory); }
};

using Packet = std::unique_ptr<ldns_pkt, PacketFree>;
using Name = std::unique_ptr<ldns_rdf, RdfFree>;

// RFC 6762 §10: 120 s for records naming a host (SRV, A, AAAA), 75 minutes for the others.
constexpr uint32_t kHostTtl = 120;
constexpr uint32_t kOtherTtl = 4500;
constexpr uint32_t kLegacyTtl = 10;

Name MakeName(const std::string& text) {
  return Name(ldns_dname_new_frm_str(text.c_str()));
}

std::string Fqdn(const std::string& name) {
  return name + ".local.";
}

std::string InstanceName(const Service& service) {
  return Label(service.instance) + "." + Fqdn(service.type);
}

std::string HostName(const Service& service) {
  return Fqdn(Label(service.host));
}

std::string Text(const ldns_rdf* rdf) {
  std::unique_ptr<char, MallocFree> text(ldns_rdf2str(rdf));
  return text ? std::string(text.get()) : std::string();
}

bool SameName(const ldns_rdf* a, const std::string& b) {
  Name other = MakeName(b);
  return a != nullptr && other && ldns_dname_compare(a, other.get()) == 0;
}

// Record is a resource record of the answer being built, or nothing if a name or an address
// did not convert (then it is left out).
ldns_rr* Record(const std::string& owner, ldns_rr_type type, uint32_t ttl,
                const std::vector<ldns_rdf*>& data) {
  Name name = MakeName(owner);
  bool complete = name != nullptr;
  for (ldns_rdf* rdf : data) {
    complete = complete && rdf != nullptr;
  }
  if (!complete) {
    for (ldns_rdf* rdf : data) {
      ldns_rdf_deep_free(rdf);
    }
    return nullptr;
  }
  ldns_rr* rr = ldns_rr_new();
  ldns_rr_set_owner(rr, name.release());
  ldns_rr_set_type(rr, type);
  ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
  ldns_rr_set_ttl(rr, ttl);
  for (ldns_rdf* rdf : data) {
    ldns_rr_push_rdf(rr, rdf);
  }
  return rr;
}

class AnswerBuilder {
 public:
  AnswerBuilder(ldns_pkt* packet, uint32_t host_ttl, uint32_t other_ttl)
      : packet_(packet), host_ttl_(host_ttl), other_ttl_(other_ttl) {}

  void Pointer(const Service& service, ldns_pkt_section section) {
    Push(section, Record(Fqdn(service.type), LDNS_RR_TYPE_PTR, other_ttl_,
                         {ldns_dname_new_frm_str(InstanceName(service).c_str())}));
  }

  // TypePointer enumerates the service's type (RFC 6763 §9).
  void TypePointer(const Service& service) {
    Push(LDNS_SECTION_ANSWER, Record("_services._dns-sd._udp.local.", LDNS_RR_TYPE_PTR, other_ttl_,
                                     {ldns_dname_new_frm_str(Fqdn(service.type).c_str())}));
  }

  void ServiceRecords(const Service& service, ldns_pkt_section section) {
    Push(section, Record(InstanceName(service), LDNS_RR_TYPE_SRV, host_ttl_,
                         {ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 0),
                          ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 0),
                          ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, service.port),
                          ldns_dname_new_frm_str(HostName(service).c_str())}));
    // RFC 6763 §6: a TXT record even when there is nothing to say, as one empty string.
    uint8_t empty = 0;
    Push(section, Record(InstanceName(service), LDNS_RR_TYPE_TXT, other_ttl_,
                         {ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, 1, &empty)}));
  }

  void Addresses(const Service& service, ldns_pkt_section section, bool want_a, bool want_aaaa) {
    for (const std::string& address : service.addresses) {
      bool v6 = address.find(':') != std::string::npos;
      if (v6 ? !want_aaaa : !want_a) {
        continue;
      }
      // A link-local address is given with its zone; the record holds the address alone.
      std::string bare = address.substr(0, address.find('%'));
      Push(section,
           Record(HostName(service), v6 ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A, host_ttl_,
                  {ldns_rdf_new_frm_str(v6 ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, bare.c_str())}));
    }
  }

  size_t answers() const { return ldns_pkt_ancount(packet_); }

 private:
  void Push(ldns_pkt_section section, ldns_rr* rr) {
    if (rr == nullptr) {
      return;
    }
    ldns_rr_list* already = ldns_pkt_get_section_clone(packet_, section);
    bool present = ldns_rr_list_contains_rr(already, rr);
    ldns_rr_list_deep_free(already);
    if (present) {
      ldns_rr_free(rr);
      return;
    }
    ldns_pkt_push_rr(packet_, section, rr);
  }

  ldns_pkt* packet_;
  uint32_t host_ttl_;
  uint32_t other_ttl_;
};

Result<Bytes> Wire(const ldns_pkt* packet) {
  uint8_t* wire = nullptr;
  size_t size = 0;
  if (ldns_pkt2wire(&wire, packet, &size) != LDNS_STATUS_OK) {
    return MakeError(ErrorCode::kInternal, "mDNS: could not encode a message");
  }
  std::unique_ptr<uint8_t, MallocFree> owned(wire);
  return Bytes(wire, wire + size);
}

Result<Packet> Read(ByteSpan message) {
  if (message.size() > kMaxMdnsMessage) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "mDNS: a message of " + std::to_string(message.size()) +
                         " bytes, over the limit of " + std::to_string(kMaxMdnsMessage));
  }
  ldns_pkt* packet = nullptr;
  ldns_status status = ldns_wire2pkt(&packet, message.data(), message.size());
  if (status != LDNS_STATUS_OK) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string("mDNS: not a DNS message: ") + ldns_get_errorstr_by_id(status));
  }
  return Packet(packet);
}

}  // namespace

std::string Label(const std::string& text) {
  std::string label;
  for (char c : text) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    label += plain ? c : '-';
    if (label.size() == 63) {
      break;
    }
  }
  return label.empty() ? "concierge" : label;
}

Bytes BrowseQuery(const std::string& type) {
  Packet query(ldns_pkt_query_new(ldns_dname_new_frm_str(Fqdn(type).c_str()), LDNS_RR_TYPE_PTR,
                                  LDNS_RR_CLASS_IN, 0));
  ldns_pkt_set_id(query.get(), 0);
  return Wire(query.get()).value_or(Bytes());
}

std::optional<Bytes> AnswerQuery(ByteSpan query, const std::vector<Service>& services,
                                 bool legacy_unicast) {
  auto asked = Read(query);
  if (!asked || ldns_pkt_qr(asked->get()) ||
      ldns_pkt_get_opcode(asked->get()) != LDNS_PACKET_QUERY) {
    return std::nullopt;
  }
  Packet answer(ldns_pkt_new());
  ldns_pkt_set_qr(answer.get(), true);
  ldns_pkt_set_aa(answer.get(), true);
  uint32_t host_ttl = legacy_unicast ? kLegacyTtl : kHostTtl;
  uint32_t other_ttl = legacy_unicast ? kLegacyTtl : kOtherTtl;
  AnswerBuilder builder(answer.get(), host_ttl, other_ttl);
  ldns_rr_list* questions = ldns_pkt_question(asked->get());
  for (size_t i = 0; i < ldns_rr_list_rr_count(questions); ++i) {
    const ldns_rr* question = ldns_rr_list_rr(questions, i);
    const ldns_rdf* name = ldns_rr_owner(question);
    ldns_rr_type type = ldns_rr_get_type(question);
    bool any = type == LDNS_RR_TYPE_ANY;
    for (const Service& service : services) {
      if (SameName(name, Fqdn(service.type)) && (any || type == LDNS_RR_TYPE_PTR)) {
        builder.Pointer(service, LDNS_SECTION_ANSWER);
        builder.ServiceRecords(service, LDNS_SECTION_ADDITIONAL);
        builder.Addresses(service, LDNS_SECTION_ADDITIONAL, true, true);
      } else if (SameName(name, "_services._dns-sd._udp.local.") &&
                 (any || type == LDNS_RR_TYPE_PTR)) {
        builder.TypePointer(service);
      } else if (SameName(name, InstanceName(service)) &&
                 (any || type == LDNS_RR_TYPE_SRV || type == LDNS_RR_TYPE_TXT)) {
        builder.ServiceRecords(service, LDNS_SECTION_ANSWER);
        builder.Addresses(service, LDNS_SECTION_ADDITIONAL, true, true);
      } else if (SameName(name, HostName(service)) &&
                 (any || type == LDNS_RR_TYPE_A || type == LDNS_RR_TYPE_AAAA)) {
        builder.Addresses(service, LDNS_SECTION_ANSWER, any || type == LDNS_RR_TYPE_A,
                          any || type == LDNS_RR_TYPE_AAAA);
      }
    }
  }
  if (builder.answers() == 0) {
    return std::nullopt;
  }
  if (legacy_unicast) {
    ldns_pkt_set_id(answer.get(), ldns_pkt_id(asked->get()));
    for (size_t i = 0; i < ldns_rr_list_rr_count(questions); ++i) {
      ldns_pkt_push_rr(answer.get(), LDNS_SECTION_QUESTION,
                       ldns_rr_clone(ldns_rr_list_rr(questions, i)));
    }
  }
  auto wire = Wire(answer.get());
  if (!wire || wire->size() > kMaxMdnsMessage) {
    return std::nullopt;
  }
  return *wire;
}

Result<std::vector<Offer>> ParseAnswer(ByteSpan response, const std::string& type) {
  ASSIGN_OR_RETURN(Packet packet, Read(response));
  if (!ldns_pkt_qr(packet.get())) {
    return MakeError(ErrorCode::kInvalidArgument, "mDNS: a query, not a response");
  }
  std::vector<const ldns_rr*> records;
  for (ldns_rr_list* section : {ldns_pkt_answer(packet.get()), ldns_pkt_additional(packet.get())}) {
    for (size_t i = 0; i < ldns_rr_list_rr_count(section); ++i) {
      records.push_back(ldns_rr_list_rr(section, i));
    }
  }
  std::vector<Offer> offers;
  for (const ldns_rr* pointer : records) {
    if (ldns_rr_get_type(pointer) != LDNS_RR_TYPE_PTR || ldns_rr_rd_count(pointer) != 1 ||
        !SameName(ldns_rr_owner(pointer), Fqdn(type))) {
      continue;
    }
    const ldns_rdf* instance = ldns_rr_rdf(pointer, 0);
    Offer offer{.instance = Text(instance)};
    for (const ldns_rr* service : records) {
      if (ldns_rr_get_type(service) == LDNS_RR_TYPE_SRV && ldns_rr_rd_count(service) == 4 &&
          ldns_dname_compare(ldns_rr_owner(service), instance) == 0 &&
          ldns_rdf_get_type(ldns_rr_rdf(service, 2)) == LDNS_RDF_TYPE_INT16) {
        offer.port = ldns_rdf2native_int16(ldns_rr_rdf(service, 2));
        offer.host = Text(ldns_rr_rdf(service, 3));
      }
    }
    if (offer.port == 0) {
      continue;  // no SRV with it: nothing to connect to
    }
    Name host = MakeName(offer.host);
    for (const ldns_rr* address : records) {
      ldns_rr_type kind = ldns_rr_get_type(address);
      if ((kind == LDNS_RR_TYPE_A || kind == LDNS_RR_TYPE_AAAA) && ldns_rr_rd_count(address) == 1 &&
          host && ldns_dname_compare(ldns_rr_owner(address), host.get()) == 0) {
        offer.addresses.push_back(Text(ldns_rr_rdf(address, 0)));
      }
    }
    offers.push_back(std::move(offer));
  }
  return offers;
}

}  // namespace concierge::dnssd
