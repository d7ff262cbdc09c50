// How many datagrams a stateless join proxy relays per second on loopback, against plain UDP
// echo on the same machine: a client keeps WINDOW datagrams of SIZE bytes in flight for
// SECONDS, first to a UDP echo server directly, then through a ProxyServer to a JPY echo (the
// registrar's side reduced to answering each JPY message with itself, header unchanged).
// Each round trip through the proxy is one JPY message up and one down.
// Usage: jpy_relay [SECONDS [WINDOW [SIZE]]]   (defaults 3, 32, 100)
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "joinproxy/jpy.h"
#include "joinproxy/proxy_server.h"
#include "joinproxy/udp.h"

using namespace concierge;  // NOLINT(google-build-using-namespace): tool entry point

namespace {

// Echo answers every datagram on fd with itself until stop; as_jpy checks it is JPY first.
void Echo(int fd, const std::atomic<bool>& stop, bool as_jpy) {
  Bytes buffer(65536);
  while (!stop) {
    pollfd ready = {fd, POLLIN, 0};
    if (poll(&ready, 1, 100) != 1) {
      continue;
    }
    joinproxy::SocketAddress from;
    from.length = sizeof(from.storage);
    ssize_t got = recvfrom(fd, buffer.data(), buffer.size(), 0, from.get(), &from.length);
    if (got <= 0 || (as_jpy && !joinproxy::DecodeJpy(ByteSpan(buffer.data(), got)))) {
      continue;
    }
    (void)sendto(fd, buffer.data(), static_cast<size_t>(got), 0, from.get(), from.length);
  }
}

// RoundTrips keeps window datagrams in flight to port for seconds; returns round trips a second.
double RoundTrips(uint16_t port, double seconds, int window, size_t size) {
  auto where = joinproxy::ToSocketAddress({"127.0.0.1", port}).value();
  Fd fd = joinproxy::ConnectUdp(where).value();
  Bytes datagram(size, 0x17);
  Bytes buffer(65536);
  for (int i = 0; i < window; ++i) {
    (void)send(fd.get(), datagram.data(), datagram.size(), 0);
  }
  long answered = 0;
  auto start = std::chrono::steady_clock::now();
  auto end = start + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    pollfd ready = {fd.get(), POLLIN, 0};
    if (poll(&ready, 1, 50) != 1) {
      // A datagram lost on the way (a full socket buffer): put one back in flight.
      (void)send(fd.get(), datagram.data(), datagram.size(), 0);
      continue;
    }
    while (recv(fd.get(), buffer.data(), buffer.size(), MSG_DONTWAIT) > 0) {
      ++answered;
      (void)send(fd.get(), datagram.data(), datagram.size(), 0);
    }
  }
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(answered) / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 3;
  int window = argc > 2 ? std::atoi(argv[2]) : 32;
  size_t size = argc > 3 ? static_cast<size_t>(std::atoi(argv[3])) : 100;
  std::atomic<bool> stop{false};

  Fd plain = joinproxy::BindUdp({"127.0.0.1", 0}).value();
  std::thread plain_echo(Echo, plain.get(), std::cref(stop), false);
  double direct = RoundTrips(joinproxy::BoundPort(plain.get()), seconds, window, size);

  Fd registrar = joinproxy::BindUdp({"127.0.0.1", 0}).value();
  std::thread jpy_echo(Echo, registrar.get(), std::cref(stop), true);
  joinproxy::ProxyServerOptions options{
      .listen = {"127.0.0.1", 0},
      .registrar = {"127.0.0.1", joinproxy::BoundPort(registrar.get())}};
  // One client address: its rate is not what is measured.
  options.limits.per_pledge = {1e9, std::chrono::microseconds(1)};
  options.limits.all_pledges = {1e9, std::chrono::microseconds(1)};
  auto proxy = joinproxy::ProxyServer::Start(options).value();
  double relayed = RoundTrips(proxy->port(), seconds, window, size);
  joinproxy::ProxyCounters counters = proxy->counters();
  proxy.reset();

  stop = true;
  plain_echo.join();
  jpy_echo.join();
  std::printf(
      "{\"datagram_bytes\": %zu, \"window\": %d, \"udp_echo_round_trips_per_s\": %.0f, "
      "\"through_proxy_round_trips_per_s\": %.0f, \"jpy_messages_per_s\": %.0f, "
      "\"proxy_to_registrar\": %llu, \"proxy_to_pledges\": %llu}\n",
      size, window, direct, relayed, 2 * relayed,
      static_cast<unsigned long long>(counters.to_registrar),
      static_cast<unsigned long long>(counters.to_pledges));
  return 0;
}
