#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <optional>

#include "mud/network.h"

namespace concierge::mud {
namespace {

constexpr uint32_t kMinimumTtl = 1;

class DnsResolver final : public Resolver {
 public:
  DnsResolver(std::vector<std::string> servers, std::chrono::seconds negative_ttl)
      : servers_(std::move(servers)), negative_ttl_(negative_ttl) {}

  Result<DnsAnswer> Resolve(const std::string& name) override {
    // Each call has its own resolver state: res_n* calls are then safe on any thread.
    struct __res_state state {};

    if (res_ninit(&state) != 0) {
      return MakeError(ErrorCode::kUnavailable, "dns: cannot initialise the resolver");
    }

    struct Closer {
      res_state s;

      ~Closer() { res_nclose(s); }
    } closer{&state};

    RETURN_IF_ERROR(UseServers(state));
    DnsAnswer answer;
    uint32_t ttl = UINT32_MAX;
    bool missing = true;
    std::optional<Error> failure;
    // One family's failure (a forwarder refusing AAAA, say) does not hide the other's answer.
    for (int type : {ns_t_a, ns_t_aaaa}) {
      auto found = Query(state, name, type, answer.addresses, ttl);
      if (!found) {
        failure = found.error();
        continue;
      }
      missing = missing && !*found;
    }
    if (failure && answer.addresses.empty()) {
      return std::unexpected(*failure);
    }
    answer.ttl = missing || answer.addresses.empty()
                     ? negative_ttl_
                     : std::chrono::seconds(std::max(ttl, kMinimumTtl));
    std::ranges::sort(answer.addresses);
    return answer;
  }

 private:
  Status UseServers(struct __res_state& state) {
    if (servers_.empty()) {
      return OkStatus();
    }
    int count = 0;
    for (const std::string& server : servers_) {
      if (count == MAXNS) {
        break;
      }
      std::string host = server;
      uint16_t port = NS_DEFAULTPORT;
      if (size_t colon = server.find(':'); colon != std::string::npos) {
        host = server.substr(0, colon);
        std::string_view digits(server);
        digits.remove_prefix(colon + 1);
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
        if (ec != std::errc() || end != digits.data() + digits.size() || port == 0) {
          return MakeError(ErrorCode::kInvalidArgument, "dns server \"" + server + "\": bad port");
        }
      }
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_port = htons(port);
      if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "dns server \"" + server + "\" is not an IPv4 address[:port]");
      }
      state.nsaddr_list[count++] = address;
    }
    state.nscount = count;
    return OkStatus();
  }

  // Query adds the answer's addresses of one type; false when the name does not exist.
  static Result<bool> Query(struct __res_state& state, const std::string& name, int type,
                            std::vector<std::string>& addresses, uint32_t& ttl) {
    std::array<unsigned char, 65536> buffer{};
    int length = res_nquery(&state, name.c_str(), ns_c_in, type, buffer.data(),
                            static_cast<int>(buffer.size()));
    if (length < 0) {
      if (state.res_h_errno == HOST_NOT_FOUND || state.res_h_errno == NO_DATA) {
        return false;
      }
      return MakeError(ErrorCode::kUnavailable,
                       "dns: no answer for " + name + " (" + hstrerror(state.res_h_errno) + ")");
    }
    ns_msg message{};
    if (ns_initparse(buffer.data(), length, &message) != 0) {
      return MakeError(ErrorCode::kBadFormat, "dns: malformed answer for " + name);
    }
    for (int i = 0; i < ns_msg_count(message, ns_s_an); ++i) {
      ns_rr record{};
      if (ns_parserr(&message, ns_s_an, i, &record) != 0) {
        return MakeError(ErrorCode::kBadFormat, "dns: malformed record in the answer for " + name);
      }
      int family = ns_rr_type(record) == ns_t_a ? AF_INET : AF_INET6;
      size_t expected = family == AF_INET ? 4 : 16;
      if (ns_rr_type(record) != type || ns_rr_rdlen(record) != expected) {
        continue;  // CNAMEs on the way, and anything unexpected
      }
      std::array<char, INET6_ADDRSTRLEN> text{};
      inet_ntop(family, ns_rr_rdata(record), text.data(), text.size());
      addresses.emplace_back(text.data());
      ttl = std::min(ttl, ns_rr_ttl(record));
    }
    return true;
  }

  std::vector<std::string> servers_;
  std::chrono::seconds negative_ttl_;
};

}  // namespace

std::unique_ptr<Resolver> MakeDnsResolver(std::vector<std::string> servers,
                                          std::chrono::seconds negative_ttl) {
  return std::make_unique<DnsResolver>(std::move(servers), negative_ttl);
}

}  // namespace concierge::mud
