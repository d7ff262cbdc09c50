// The memory a CoAPS listener holds per DTLS session: opens N sessions to a running
// `concierge serve --coaps-listen` (each completes its handshake and one request) and reads the
// server's resident memory from /proc before and after.
// Usage: coaps_sessions HOST:PORT SERVER_PID N CERT.pem KEY.pem
#include <cstdio>
#include <fstream>
#include <string>

#include "coap/coaps_client.h"
#include "common/files.h"

using namespace concierge;  // NOLINT(google-build-using-namespace): tool entry point

namespace {

long ResidentKb(const std::string& pid) {
  std::ifstream status("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stol(line.substr(6));
    }
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    (void)std::fprintf(stderr, "usage: coaps_sessions HOST:PORT SERVER_PID N CERT.pem KEY.pem\n");
    return 2;
  }
  auto where = ParseHostPort(argv[1]);
  int sessions = std::atoi(argv[3]);
  auto cert = crypto::Certificate::FromPem(ReadFile(argv[4]).value_or(""));
  auto key = crypto::PrivateKey::FromPem(ReadFile(argv[5]).value_or(""));
  if (!where || sessions < 1 || !cert || !key) {
    (void)std::fprintf(stderr, "bad arguments\n");
    return 2;
  }
  crypto::Credential credential{*cert, *key, {}};
  long before = ResidentKb(argv[2]);
  std::vector<std::unique_ptr<coap::CoapsClient>> held;
  for (int i = 0; i < sessions; ++i) {
    auto client = coap::CoapsClient::Connect(*where, credential, std::chrono::seconds(10));
    if (!client) {
      (void)std::fprintf(stderr, "session %d: %s\n", i, client.error().ToString().c_str());
      return 1;
    }
    auto answer = (*client)->Send({"GET", "/.well-known/core"});
    if (!answer || answer->code != 205) {
      (void)std::fprintf(stderr, "session %d: no answer\n", i);
      return 1;
    }
    held.push_back(std::move(*client));
  }
  long after = ResidentKb(argv[2]);
  (void)std::printf(
      "{\"sessions\": %d, \"server_rss_before_kb\": %ld, \"server_rss_after_kb\": %ld, "
      "\"kb_per_session\": %.1f}\n",
      sessions, before, after, static_cast<double>(after - before) / sessions);
  return 0;
}
