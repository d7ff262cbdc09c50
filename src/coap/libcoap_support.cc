#include "coap/libcoap_support.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>

#include <cstdlib>
#include <memory>
#include <mutex>

#include <openssl/ssl.h>

namespace concierge::coap {
namespace {

int AcceptAnyCertificate(int /*preverified*/, X509_STORE_CTX* /*store*/) {
  return 1;
}

int AcceptCommonName(const char* /*cn*/, const uint8_t* /*der*/, size_t /*length*/,
                     coap_session_t* /*session*/, unsigned /*depth*/, int /*validated*/,
                     void* /*arg*/) {
  return 1;
}

// Replaces libcoap's verification for this connection: the certificate is checked by whoever
// reads the peer identity, against anchors libcoap does not have. The DTLS 1.2 suites are
// cBRSKI's (CCM_8 first, as RFC 7925 and RFC 9148 require), then GCM for general clients.
int ConfigureSsl(void* tls_session, coap_dtls_pki_t* /*setup*/) {
  auto* ssl = static_cast<SSL*>(tls_session);
  SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, AcceptAnyCertificate);
  // No session tickets: a pledge does not resume, and a ticket costs its link a large record.
  SSL_set_options(ssl, SSL_OP_NO_TICKET);
  return SSL_set_cipher_list(
             ssl, "ECDHE-ECDSA-AES128-CCM8:ECDHE-ECDSA-AES128-CCM:ECDHE-ECDSA-AES128-GCM-SHA256") ==
         1;
}

// cBRSKI: a DTLS 1.2 pledge asks for records of at most 1024 bytes (RFC 6066
// max_fragment_length), which OpenSSL servers honour.
int ConfigureClientSsl(void* tls_session, coap_dtls_pki_t* /*setup*/) {
  return SSL_set_tlsext_max_fragment_length(static_cast<SSL*>(tls_session),
                                            TLSEXT_max_fragment_length_1024) == 1;
}

coap_dtls_pki_t Pki(const std::string& certificate_pem, const std::string& key_pem) {
  coap_dtls_pki_t pki{};
  pki.version = COAP_DTLS_PKI_SETUP_VERSION;
  pki.verify_peer_cert = 1;
  pki.allow_self_signed = 1;
  pki.allow_expired_certs = 1;
  pki.validate_cn_call_back = AcceptCommonName;
  pki.pki_key.key_type = COAP_PKI_KEY_PEM_BUF;
  pki.pki_key.key.pem_buf.public_cert = reinterpret_cast<const uint8_t*>(certificate_pem.data());
  pki.pki_key.key.pem_buf.public_cert_len = certificate_pem.size();
  pki.pki_key.key.pem_buf.private_key = reinterpret_cast<const uint8_t*>(key_pem.data());
  pki.pki_key.key.pem_buf.private_key_len = key_pem.size();
  return pki;
}

}  // namespace

void StartLibcoap() {
  static std::once_flag once;
  std::call_once(once, [] {
    coap_startup();
    // CONCIERGE_COAP_DEBUG=1 shows libcoap's own trace of every datagram and handshake step.
    bool debug = std::getenv("CONCIERGE_COAP_DEBUG") != nullptr;
    coap_set_log_level(debug ? LOG_DEBUG : LOG_ERR);
    coap_dtls_set_log_level(debug ? LOG_DEBUG : LOG_ERR);
  });
}

Result<std::string> CredentialPem(const crypto::Credential& credential) {
  std::string pem = credential.certificate.Pem();
  for (const auto& cert : credential.chain) {
    pem += cert.Pem();
  }
  return pem;
}

coap_dtls_pki_t ServerPki(const std::string& certificate_pem, const std::string& key_pem) {
  coap_dtls_pki_t pki = Pki(certificate_pem, key_pem);
  pki.additional_tls_setup_call_back = ConfigureSsl;
  return pki;
}

coap_dtls_pki_t ClientPki(const std::string& certificate_pem, const std::string& key_pem) {
  coap_dtls_pki_t pki = Pki(certificate_pem, key_pem);
  // The server's certificate is still received (and read by the caller); libcoap just does
  // not judge it.
  pki.verify_peer_cert = 0;
  pki.additional_tls_setup_call_back = ConfigureClientSsl;
  return pki;
}

Result<coap_address_t> ToCoapAddress(const HostPort& host_port) {
  coap_address_t address;
  coap_address_init(&address);
  std::string host = host_port.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (inet_pton(AF_INET, host.c_str(), &address.addr.sin.sin_addr) == 1) {
    address.addr.sin.sin_family = AF_INET;
    address.addr.sin.sin_port = htons(host_port.port);
    address.size = sizeof(address.addr.sin);
    return address;
  }
  // A link-local or multicast address names its interface: fe80::1%eth0 (or RFC 6874's %25).
  std::string zone;
  if (size_t percent = host.find('%'); percent != std::string::npos) {
    zone = host.substr(percent + 1);
    zone = zone.starts_with("25") ? zone.substr(2) : zone;
    host.resize(percent);
  }
  if (inet_pton(AF_INET6, host.c_str(), &address.addr.sin6.sin6_addr) == 1) {
    address.addr.sin6.sin6_family = AF_INET6;
    address.addr.sin6.sin6_port = htons(host_port.port);
    if (!zone.empty()) {
      address.addr.sin6.sin6_scope_id = if_nametoindex(zone.c_str());
      if (address.addr.sin6.sin6_scope_id == 0) {
        return MakeError(ErrorCode::kInvalidArgument, "no interface \"" + zone + "\"");
      }
    }
    address.size = sizeof(address.addr.sin6);
    return address;
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "CoAP addresses must be IP literals, not \"" + host_port.host + "\"");
}

Result<uint16_t> EndpointPort(const coap_endpoint_t* endpoint) {
  // libcoap 4.3.1 shows the bound address only as text: "127.0.0.1:5684" or "[::1]:5684".
  std::string text = coap_endpoint_str(endpoint);
  text = text.substr(0, text.find(' '));
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) {
    return MakeError(ErrorCode::kInternal, "libcoap endpoint \"" + text + "\" has no port");
  }
  int port = std::atoi(text.c_str() + colon + 1);
  if (port <= 0 || port > 65535) {
    return MakeError(ErrorCode::kInternal, "libcoap endpoint \"" + text + "\" has no port");
  }
  return static_cast<uint16_t>(port);
}

crypto::PeerIdentity PeerOf(const coap_session_t* session) {
  crypto::PeerIdentity peer;
  coap_tls_library_t library = COAP_TLS_LIBRARY_NOTLS;
  auto* ssl = static_cast<SSL*>(coap_session_get_tls(session, &library));
  if (ssl != nullptr && library == COAP_TLS_LIBRARY_OPENSSL) {
    if (X509* leaf = SSL_get0_peer_certificate(ssl)) {
      peer.certificate = crypto::Certificate::Share(leaf);
    }
    if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {
      for (int i = 0; i < sk_X509_num(chain); ++i) {
        X509* cert = sk_X509_value(chain, i);
        if (!peer.certificate || X509_cmp(cert, SSL_get0_peer_certificate(ssl)) != 0) {
          peer.chain.push_back(crypto::Certificate::Share(cert));
        }
      }
    }
  }
  peer.address = HostText(coap_session_get_addr_remote(session));
  return peer;
}

std::string HostText(const coap_address_t* address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address != nullptr && address->addr.sa.sa_family == AF_INET) {
    inet_ntop(AF_INET, &address->addr.sin.sin_addr, text, sizeof(text));
  } else if (address != nullptr && address->addr.sa.sa_family == AF_INET6) {
    const in6_addr& ip = address->addr.sin6.sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&ip)) {
      inet_ntop(AF_INET, &ip.s6_addr[12], text, sizeof(text));
    } else {
      inet_ntop(AF_INET6, &ip, text, sizeof(text));
    }
  }
  return text;
}

std::string AddressText(const coap_address_t* address) {
  std::string host = HostText(address);
  uint16_t port = address == nullptr ? 0 : coap_address_get_port(address);
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

namespace {

bool IsLinkLocal(const sockaddr* address) {
  if (address->sa_family == AF_INET6) {
    const auto& ip = reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr;
    return IN6_IS_ADDR_LINKLOCAL(&ip);
  }
  const auto& ip = reinterpret_cast<const sockaddr_in*>(address)->sin_addr;
  return (ntohl(ip.s_addr) >> 16) == 0xa9fe;  // 169.254.0.0/16
}

// InterfaceUriHost is an address of the interface in URI form, of the family asked for, not
// link-local (a zone means nothing to the asker), if it has one.
std::optional<std::string> InterfaceUriHost(int ifindex, int family) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) {
    return std::nullopt;
  }
  std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> owned(list, freeifaddrs);
  for (ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != family ||
        static_cast<int>(if_nametoindex(entry->ifa_name)) != ifindex ||
        IsLinkLocal(entry->ifa_addr)) {
      continue;
    }
    char text[INET6_ADDRSTRLEN] = {};
    if (family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(entry->ifa_addr)->sin6_addr, text,
                sizeof(text));
      return "[" + std::string(text) + "]";
    }
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(entry->ifa_addr)->sin_addr, text,
              sizeof(text));
    return std::string(text);
  }
  return std::nullopt;
}

}  // namespace

bool ReachedByMulticast(const coap_session_t* session) {
  const coap_address_t* local = coap_session_get_addr_local(session);
  if (local == nullptr) {
    return false;
  }
  if (local->addr.sa.sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&local->addr.sin6.sin6_addr)) {
    return local->addr.sin6.sin6_addr.s6_addr[12] >= 224 &&
           local->addr.sin6.sin6_addr.s6_addr[12] <= 239;
  }
  return coap_is_mcast(local) != 0;
}

std::optional<std::string> LocalUriHost(const coap_session_t* session) {
  const coap_address_t* local = coap_session_get_addr_local(session);
  if (local == nullptr) {
    return std::nullopt;
  }
  std::string host = HostText(local);
  bool v4 = host.find(':') == std::string::npos;
  if (ReachedByMulticast(session)) {
    return InterfaceUriHost(coap_session_get_ifindex(session), v4 ? AF_INET : AF_INET6);
  }
  if (host.empty() || host == "::" || host == "0.0.0.0" ||
      (!v4 && IN6_IS_ADDR_LINKLOCAL(&local->addr.sin6.sin6_addr))) {
    return std::nullopt;
  }
  return v4 ? host : "[" + host + "]";
}

size_t MessageSize(const coap_pdu_t* pdu) {
  size_t size = 4 + coap_pdu_get_token(pdu).length;
  coap_opt_iterator_t iterator;
  coap_option_iterator_init(pdu, &iterator, COAP_OPT_ALL);
  while (coap_opt_t* option = coap_option_next(&iterator)) {
    size += coap_opt_size(option);
  }
  size_t length = 0;
  const uint8_t* data = nullptr;
  if (coap_get_data(pdu, &length, &data) == 1 && length > 0) {
    size += 1 + length;
  }
  return size;
}

std::optional<uint32_t> UintOption(const coap_pdu_t* pdu, uint16_t number) {
  coap_opt_iterator_t iterator;
  coap_opt_t* option = coap_check_option(pdu, number, &iterator);
  if (option == nullptr) {
    return std::nullopt;
  }
  return coap_decode_var_bytes(coap_opt_value(option), coap_opt_length(option));
}

Bytes WholeBody(const coap_pdu_t* pdu) {
  size_t length = 0;
  size_t offset = 0;
  size_t total = 0;
  const uint8_t* data = nullptr;
  if (coap_get_data_large(pdu, &length, &data, &offset, &total) != 1) {
    return {};
  }
  return Bytes(data, data + length);
}

coap_request_t MethodCode(const std::string& method) {
  if (method == "POST") {
    return COAP_REQUEST_POST;
  }
  if (method == "PUT") {
    return COAP_REQUEST_PUT;
  }
  if (method == "DELETE") {
    return COAP_REQUEST_DELETE;
  }
  return COAP_REQUEST_GET;
}

}  // namespace concierge::coap
