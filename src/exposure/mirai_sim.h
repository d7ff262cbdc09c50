#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "exposure/site_graph.h"

namespace concierge::exposure {

// Credential is one entry of the bot's login dictionary, drawn with probability weight / sum.
struct Credential {
  std::string user;
  std::string password;
  int weight = 1;
};

// ParseCredentials reads {"credentials": [{"user": U, "password": P, "weight": W}, ...]}.
Result<std::vector<Credential>> ParseCredentials(std::string_view json);

// Flood is one DDoS attack the C&C orders: every bot it controls sends `pps` packets a second
// for `seconds` to one target.
struct Flood {
  std::string vector;  // "udp", "syn", ...
  IpNetwork target;
  uint8_t protocol = 17;
  uint16_t port = 0;
  bool needs_connection = false;  // stomp and http open a connection first
};

// MiraiParameters are the published behaviour (the leaked source, and the INXU experiment's
// schedule); the defaults are those.
struct MiraiParameters {
  double minutes = 30;
  double scan_pps = 160;          // SCANNER_RAW_PPS
  double share_2323 = 0.1;        // every tenth probe
  int max_sessions = 128;         // SCANNER_MAX_CONNS
  int max_attempts = 10;          // logins tried per host found
  double attempt_seconds = 2;     // one telnet login exchange
  double cnc_retry_seconds = 10;  // upper bound of the random wait between C&C attempts
  double loader_first_minute = 5;
  double loader_every_minutes = 5;
  int loader_runs = 4;
  double attacks_minute = 20;
  double flood_seconds = 10;
  double flood_gap_seconds = 20;
  // Packets a bot sends per second in a flood. The experiment's bots ran under a 2 % CPU cap;
  // 361 is its no-protection figure (2,831,979.5 packets / 111.9 bots / 70 s).
  double flood_pps = 361;
  std::vector<uint16_t> telnet_listeners = {23};  // the ports the devices' telnetd listens on
};

// MiraiSite is what one run sees: the graph's device classes (those with the weakness
// "factory-credentials" run a telnetd whose login is device_login; the others' logins hold),
// the policy in force, the edge host where C&C, report
// server and loader run, the address space the bots scan, and the floods.
struct MiraiSite {
  const SiteGraph* graph = nullptr;
  const mud::Policy* policy = nullptr;
  IpNetwork edge;
  uint64_t scanned_addresses = 254;  // the LAN the modified bot scans
  std::vector<Flood> floods;
  std::vector<Credential> credentials;
  Credential device_login{"root", "root", 0};
  uint16_t cnc_port = 2030;
  uint16_t report_port = 48101;
  uint16_t loader_port = 80;
};

struct MiraiOutcome {
  size_t bots_with_cnc = 0;
  size_t new_infections = 0;
  size_t hosts_scanned = 0;
  uint64_t ddos_generated = 0;
  uint64_t ddos_transmitted = 0;
  uint64_t events = 0;
};

// SimulateMirai runs the botnet over the site for `parameters.minutes`, every device seeded as
// a bot, and counts as the experiment did: bots that reached C&C, hosts whose cracked login
// reached the report server, hosts the loader installed the bot on, and flood packets sent and
// let through. The same seed gives the same outcome.
Result<MiraiOutcome> SimulateMirai(const MiraiSite& site, const MiraiParameters& parameters,
                                   uint64_t seed);

}  // namespace concierge::exposure
