// A site controller with one worker thread, and a MASA that answers no voucher request until
// several wait at once: real pledges over real TLS on loopback, as the lab wires them. The
// registrar must not hold its worker while it waits for the MASA, or only one request would
// ever reach the MASA and every pledge would wait until its deadline.
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "common/temp_dir.h"
#include "lab/lab_world.h"
#include "loop/event_loop.h"
#include "masa/masa_http.h"
#include "pledge/https_connector.h"
#include "pledge/pledge.h"

namespace concierge::lab {
namespace {

constexpr int kTogether = 4;

TEST(MasaWaitTest, VoucherRequestsWaitForTheirMasaWithoutHoldingTheRegistrarsWorker) {
  SystemClock clock;
  CryptoRandom random;
  TempDir dir("concierge-masa-wait");
  auto maker = StartLabMaker(dir.path() / "maker", "Waiting Maker", 4, clock, random);
  ASSERT_TRUE(maker) << maker.error().ToString();
  // The same MASA, now holding its answers until kTogether requests wait. It listens on a new
  // port the kernel picks (taking the old one back races with anything else binding one), and
  // the devices minted below name it.
  (*maker)->server->Stop();
  std::mutex mutex;

  struct Held {
    http::HttpRequest request;
    http::ConnectionInfo peer;
    http::Respond respond;
  };

  std::vector<Held> held;
  int most_waiting = 0;
  masa::MasaService& service = *(*maker)->service;
  auto ctx = http::MakeServerContext((*maker)->directory.tls, true);
  ASSERT_TRUE(ctx) << ctx.error().ToString();
  auto masa = http::HttpsServer::StartAsync(
      {"127.0.0.1", 0}, std::move(*ctx),
      [&](const http::HttpRequest& request, const http::ConnectionInfo& peer,
          http::Respond respond) {
        std::lock_guard lock(mutex);
        if (request.target != "/.well-known/brski/requestvoucher") {
          respond(masa::HandleMasaRequest(service, request, peer));
          return;
        }
        held.push_back({request, peer, std::move(respond)});
        most_waiting = std::max(most_waiting, static_cast<int>(held.size()));
        if (held.size() == kTogether) {
          for (auto& waiting : held) {
            waiting.respond(masa::HandleMasaRequest(service, waiting.request, waiting.peer));
          }
          held.clear();
        }
      },
      {});
  ASSERT_TRUE(masa) << masa.error().ToString();
  (*maker)->directory.masa_url = "127.0.0.1:" + std::to_string((*masa)->port());

  auto site =
      StartLabSite(dir.path() / "site", "One Worker Site", **maker, /*workers=*/1, clock, random);
  ASSERT_TRUE(site) << site.error().ToString();
  std::vector<pledge::PledgeIdentity> identities;
  for (int i = 0; i < kTogether; ++i) {
    auto minted = masa::MintIdevid((*maker)->directory, *(*maker)->store,
                                   {"WAIT-" + std::to_string(i), "", std::nullopt}, clock, random);
    ASSERT_TRUE(minted) << minted.error().ToString();
    identities.push_back({minted->idevid, minted->key, {}, {(*maker)->directory.masa.maker_ca}});
  }

  pledge::HttpsConnector connector({"127.0.0.1", (*site)->server->port()},
                                   std::chrono::seconds(30));
  std::vector<Result<pledge::EnrollResult>> results(kTogether,
                                                    MakeError(ErrorCode::kInternal, "did not run"));
  std::vector<std::thread> pledges;
  for (int i = 0; i < kTogether; ++i) {
    pledges.emplace_back([&, i] {
      CryptoRandom pledge_random;
      loop::EventLoop events;
      pledge::Pledge device(identities[i], connector, clock, events, pledge_random);
      results[i] = device.EnrollAndWait();
    });
  }
  for (auto& thread : pledges) {
    thread.join();
  }
  for (int i = 0; i < kTogether; ++i) {
    EXPECT_TRUE(results[i]) << "pledge " << i << ": " << results[i].error().ToString();
  }
  EXPECT_EQ(most_waiting, kTogether);
  (*site)->server->Stop();
  (*masa)->Stop();
}

}  // namespace
}  // namespace concierge::lab
