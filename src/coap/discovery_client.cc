#include "coap/discovery_client.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <optional>

#include "coap/coap_codes.h"
#include "coap/libcoap_support.h"
#include "coap/request_head.h"
#include "common/fd.h"
#include "common/random.h"

namespace concierge::coap {
namespace {

struct Exchange {
  Bytes token;
  std::optional<int> code;
  Bytes payload;
  Bytes echo;  // a challenge's Echo value, to send back
};

struct ContextDeleter {
  void operator()(coap_context_t* context) const { coap_free_context(context); }
};

coap_response_t OnResponse(coap_session_t* session, const coap_pdu_t* /*sent*/,
                           const coap_pdu_t* received, coap_mid_t /*id*/) {
  auto* exchange = static_cast<Exchange*>(coap_get_app_data(coap_session_get_context(session)));
  coap_bin_const_t token = coap_pdu_get_token(received);
  if (Bytes(token.s, token.s + token.length) != exchange->token) {
    return COAP_RESPONSE_OK;
  }
  coap_pdu_code_t code = coap_pdu_get_code(received);
  exchange->code = (code >> 5) * 100 + (code & 0x1f);
  exchange->payload = WholeBody(received);
  coap_opt_iterator_t iterator;
  if (coap_opt_t* echo = coap_check_option(received, COAP_OPTION_ECHO, &iterator)) {
    exchange->echo.assign(coap_opt_value(echo), coap_opt_value(echo) + coap_opt_length(echo));
  }
  return COAP_RESPONSE_OK;
}

bool Send(coap_session_t* session, Exchange& exchange, std::string_view query) {
  coap_pdu_t* pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET,
                                  coap_new_message_id(session), coap_session_max_pdu_size(session));
  if (pdu == nullptr) {
    return false;
  }
  uint8_t token[8];
  size_t token_length = 0;
  coap_session_new_token(session, &token_length, token);
  coap_add_token(pdu, token_length, token);
  exchange.token.assign(token, token + token_length);
  for (std::string_view segment : {std::string_view(".well-known"), std::string_view("core")}) {
    coap_add_option(pdu, COAP_OPTION_URI_PATH, segment.size(),
                    reinterpret_cast<const uint8_t*>(segment.data()));
  }
  if (!query.empty()) {
    coap_add_option(pdu, COAP_OPTION_URI_QUERY, query.size(),
                    reinterpret_cast<const uint8_t*>(query.data()));
  }
  if (!exchange.echo.empty()) {
    coap_add_option(pdu, COAP_OPTION_ECHO, exchange.echo.size(), exchange.echo.data());
  }
  exchange.code.reset();
  return coap_send(session, pdu) != COAP_INVALID_MID;
}

// SplitZone separates "fe80::1%eth0" (or RFC 6874's "%25eth0") into address and interface.
std::pair<std::string, std::string> SplitZone(std::string host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  size_t percent = host.find('%');
  if (percent == std::string::npos) {
    return {host, ""};
  }
  std::string zone = host.substr(percent + 1);
  if (zone.starts_with("25")) {
    zone = zone.substr(2);
  }
  return {host.substr(0, percent), zone};
}

constexpr uint32_t kPaddingOption = 65000;
constexpr size_t kGroupRequestSize = 160;

// GroupRequest is a NON GET /.well-known/core?query with an 8-byte token, padded to
// kGroupRequestSize bytes.
Bytes GroupRequest(std::string_view query, const Bytes& token, uint16_t message_id) {
  Bytes out;
  out.reserve(4 + token.size() + 18 + 2 + query.size());
  out.push_back(0x58);  // version 1, NON, 8-byte token
  out.push_back(0x01);  // GET
  out.push_back(static_cast<uint8_t>(message_id >> 8));
  out.push_back(static_cast<uint8_t>(message_id));
  for (uint8_t byte : token) {
    out.push_back(byte);
  }
  out.push_back(0xbb);  // Uri-Path (11), 11 bytes
  for (char c : std::string_view(".well-known")) {
    out.push_back(static_cast<uint8_t>(c));
  }
  out.push_back(0x04);  // Uri-Path, 4 bytes
  for (char c : std::string_view("core")) {
    out.push_back(static_cast<uint8_t>(c));
  }
  if (!query.empty()) {  // Uri-Query (15): delta 4
    if (query.size() < 13) {
      out.push_back(static_cast<uint8_t>(0x40 | query.size()));
    } else {
      out.push_back(0x4d);
      out.push_back(static_cast<uint8_t>(query.size() - 13));
    }
    out.insert(out.end(), query.begin(), query.end());
  }
  // Padding, so the answers asked for fit: a server answers a group with no more bytes than the
  // request brought (amplification.h), and a registrar's link carries its whole address. The
  // option is elective and from the experimental range (RFC 7252 §5.4.1, §12.2): servers
  // ignore it.
  if (out.size() + 4 + 13 <= kGroupRequestSize) {
    uint32_t delta = kPaddingOption - (query.empty() ? 11 : 15);
    size_t length = kGroupRequestSize - out.size() - 4;
    out.push_back(0xed);  // delta and length both extended: 2 bytes and 1
    out.push_back(static_cast<uint8_t>((delta - 269) >> 8));
    out.push_back(static_cast<uint8_t>(delta - 269));
    out.push_back(static_cast<uint8_t>(length - 13));
    out.insert(out.end(), length, 0);
  }
  return out;
}

Result<std::vector<DiscoveryAnswer>> DiscoverGroup(const HostPort& where, std::string_view query,
                                                   std::chrono::milliseconds wait) {
  auto [address, zone] = SplitZone(where.host);
  unsigned ifindex = zone.empty() ? 0 : if_nametoindex(zone.c_str());
  if (!zone.empty() && ifindex == 0) {
    return MakeError(ErrorCode::kInvalidArgument, "no interface \"" + zone + "\"");
  }
  if (query.size() > 255 + 13) {
    return MakeError(ErrorCode::kInvalidArgument, "discovery query too long");
  }
  sockaddr_storage group{};
  socklen_t group_length = 0;
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&group);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&group);
  int family = AF_INET6;
  if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(where.port);
    v6->sin6_scope_id = ifindex;
    group_length = sizeof(sockaddr_in6);
  } else if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    family = AF_INET;
    v4->sin_family = AF_INET;
    v4->sin_port = htons(where.port);
    group_length = sizeof(sockaddr_in);
  } else {
    return MakeError(ErrorCode::kInvalidArgument, "not a multicast address: " + where.host);
  }
  Fd fd(socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return MakeError(ErrorCode::kUnavailable, "UDP socket: " + ErrnoText(errno));
  }
  if (family == AF_INET6 && ifindex != 0) {
    (void)setsockopt(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof(ifindex));
  } else if (family == AF_INET && ifindex != 0) {
    ip_mreqn request{};
    request.imr_ifindex = static_cast<int>(ifindex);
    (void)setsockopt(fd.get(), IPPROTO_IP, IP_MULTICAST_IF, &request, sizeof(request));
  }
  CryptoRandom random;
  Bytes token = random.Generate(8);
  Bytes id = random.Generate(2);
  Bytes request = GroupRequest(query, token, static_cast<uint16_t>((id[0] << 8) | id[1]));
  if (sendto(fd.get(), request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&group),
             group_length) < 0) {
    return MakeError(ErrorCode::kUnavailable,
                     "cannot send to " + where.host + ": " + ErrnoText(errno));
  }
  std::vector<DiscoveryAnswer> answers;
  Bytes buffer(kMaxLinkFormatBytes + 512);
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd ready = {fd.get(), POLLIN, 0};
    if (left.count() <= 0 || poll(&ready, 1, static_cast<int>(left.count())) != 1) {
      break;
    }
    sockaddr_storage from{};
    socklen_t from_length = sizeof(from);
    ssize_t got = recvfrom(fd.get(), buffer.data(), buffer.size(), 0,
                           reinterpret_cast<sockaddr*>(&from), &from_length);
    if (got <= 0) {
      continue;
    }
    auto answer = ParseResponse(ByteSpan(buffer.data(), static_cast<size_t>(got)));
    if (!answer || answer->token != token || answer->code != code::kContent) {
      continue;
    }
    auto links = ParseLinkFormat(ToString(answer->payload));
    if (!links) {
      continue;
    }
    char text[INET6_ADDRSTRLEN] = {};
    std::string responder;
    if (from.ss_family == AF_INET6) {
      const auto* source = reinterpret_cast<const sockaddr_in6*>(&from);
      inet_ntop(AF_INET6, &source->sin6_addr, text, sizeof(text));
      responder = std::string("[") + text;
      char name[IF_NAMESIZE] = {};
      if (IN6_IS_ADDR_LINKLOCAL(&source->sin6_addr) &&
          if_indextoname(source->sin6_scope_id, name) != nullptr) {
        responder += std::string("%") + name;
      }
      responder += "]";
    } else {
      inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&from)->sin_addr, text,
                sizeof(text));
      responder = text;
    }
    answers.push_back({responder, std::move(*links)});
  }
  if (answers.empty()) {
    return MakeError(ErrorCode::kUnavailable, "no discovery answer from " + where.host +
                                                  " within " + std::to_string(wait.count()) +
                                                  " ms");
  }
  return answers;
}

bool IsMulticast(const std::string& host) {
  std::string address = SplitZone(host).first;
  in6_addr v6{};
  in_addr v4{};
  if (inet_pton(AF_INET6, address.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_MULTICAST(&v6);
  }
  return inet_pton(AF_INET, address.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 28) == 0xe;
}

Result<std::vector<Link>> DiscoverUnicast(const HostPort& where, std::string_view query,
                                          std::chrono::milliseconds wait) {
  StartLibcoap();
  std::unique_ptr<coap_context_t, ContextDeleter> context(coap_new_context(nullptr));
  if (!context) {
    return MakeError(ErrorCode::kInternal, "libcoap: no context");
  }
  Exchange exchange;
  coap_set_app_data(context.get(), &exchange);
  coap_register_response_handler(context.get(), OnResponse);
  ASSIGN_OR_RETURN(coap_address_t address, ToCoapAddress(where));
  coap_session_t* session =
      coap_new_client_session(context.get(), nullptr, &address, COAP_PROTO_UDP);
  std::string asked = where.host + ":" + std::to_string(where.port);
  if (session == nullptr || !Send(session, exchange, query)) {
    return MakeError(ErrorCode::kUnavailable, "cannot ask " + asked + " for /.well-known/core");
  }
  auto deadline = std::chrono::steady_clock::now() + wait;
  bool answered_echo = false;
  while (std::chrono::steady_clock::now() < deadline) {
    coap_io_process(context.get(), 50);
    if (!exchange.code) {
      continue;
    }
    if (*exchange.code == code::kUnauthorized && !exchange.echo.empty() && !answered_echo) {
      answered_echo = true;  // once: a second challenge means the value was not taken
      if (!Send(session, exchange, query)) {
        break;
      }
      continue;
    }
    if (*exchange.code != code::kContent) {
      return MakeError(ErrorCode::kUnavailable, asked + " answered /.well-known/core with " +
                                                    std::to_string(*exchange.code / 100) + "." +
                                                    std::to_string(*exchange.code % 100 / 10) +
                                                    std::to_string(*exchange.code % 10));
    }
    return ParseLinkFormat(ToString(exchange.payload));
  }
  return MakeError(ErrorCode::kUnavailable, "no discovery answer from " + asked + " within " +
                                                std::to_string(wait.count()) + " ms");
}

}  // namespace

Result<HostPort> ParseCoapUrl(std::string_view url) {
  constexpr std::string_view kScheme = "coap://";
  if (!url.starts_with(kScheme)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "\"" + std::string(url) + "\": expected coap://HOST[:PORT]");
  }
  std::string authority(url.substr(kScheme.size()));
  authority = authority.substr(0, authority.find('/'));
  size_t close = authority.rfind(']');
  bool has_port = authority.find(':', close == std::string::npos ? 0 : close) != std::string::npos;
  if (close == std::string::npos && std::count(authority.begin(), authority.end(), ':') > 1) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "\"" + std::string(url) + "\": an IPv6 address goes in brackets");
  }
  ASSIGN_OR_RETURN(HostPort where, ParseHostPort(has_port ? authority : authority + ":5683"));
  if (where.port == 0) {
    return MakeError(ErrorCode::kInvalidArgument, "\"" + std::string(url) + "\": port 0");
  }
  auto [address, zone] = SplitZone(where.host);
  where.host = zone.empty() ? address : address + "%" + zone;
  return where;
}

Result<std::vector<DiscoveryAnswer>> Discover(const HostPort& where, std::string_view query,
                                              std::chrono::milliseconds wait) {
  if (IsMulticast(where.host)) {
    return DiscoverGroup(where, query, wait);
  }
  ASSIGN_OR_RETURN(auto links, DiscoverUnicast(where, query, wait));
  std::string responder =
      where.host.find(':') != std::string::npos ? "[" + where.host + "]" : where.host;
  return std::vector<DiscoveryAnswer>{{responder, std::move(links)}};
}

}  // namespace concierge::coap
