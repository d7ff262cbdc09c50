#include "metrics/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace concierge::metrics {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, RendersCountersHistogramsAndGaugesInThePrometheusTextFormat) {
  Registry registry;
  registry.Count("demo_requests_total", "Requests \\ seen\nhere", {{"result", "ok"}});
  registry.Count("demo_requests_total", "ignored", {{"result", "ok"}}, 2);
  registry.Count("demo_requests_total", "ignored", {{"result", "say \"no\""}});
  registry.Observe("demo_duration_seconds", "How long", {{"endpoint", "/x"}}, 0.003);
  registry.Observe("demo_duration_seconds", "How long", {{"endpoint", "/x"}}, 20);
  registry.Gauge("demo_queue", "Waiting", [] {
    return std::vector<std::pair<Labels, double>>{{{}, 4}};
  });
  std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("# HELP demo_requests_total Requests \\\\ seen\\nhere\n"
                              "# TYPE demo_requests_total counter\n"
                              "demo_requests_total{result=\"ok\"} 3\n"
                              "demo_requests_total{result=\"say \\\"no\\\"\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE demo_duration_seconds histogram\n"
                              "demo_duration_seconds_bucket{endpoint=\"/x\",le=\"0.001\"} 0\n"
                              "demo_duration_seconds_bucket{endpoint=\"/x\",le=\"0.0025\"} 0\n"
                              "demo_duration_seconds_bucket{endpoint=\"/x\",le=\"0.005\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("demo_duration_seconds_bucket{endpoint=\"/x\",le=\"10\"} 1\n"
                              "demo_duration_seconds_bucket{endpoint=\"/x\",le=\"+Inf\"} 2\n"
                              "demo_duration_seconds_sum{endpoint=\"/x\"} 20.003\n"
                              "demo_duration_seconds_count{endpoint=\"/x\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE demo_queue gauge\ndemo_queue 4\n"));
  EXPECT_EQ(registry.Value("demo_requests_total", {{"result", "ok"}}), 3);
  EXPECT_EQ(registry.Value("demo_duration_seconds", {{"endpoint", "/x"}}), 2);
  registry.RemoveGauge("demo_queue");
  EXPECT_THAT(registry.Render(), ::testing::Not(HasSubstr("demo_queue")));
}

TEST(MetricsTest, ACounterKeptElsewhereIsReadWhenScraped) {
  Registry registry;
  double relayed = 0;
  registry.ReadCounter("demo_relayed_total", "Relayed", [&relayed] {
    return std::vector<std::pair<Labels, double>>{{{{"way", "up"}}, relayed}};
  });
  relayed = 7;
  EXPECT_THAT(registry.Render(), HasSubstr("# HELP demo_relayed_total Relayed\n"
                                           "# TYPE demo_relayed_total counter\n"
                                           "demo_relayed_total{way=\"up\"} 7\n"));
  registry.RemoveGauge("demo_relayed_total");
  EXPECT_THAT(registry.Render(), ::testing::Not(HasSubstr("demo_relayed_total")));
}

}  // namespace
}  // namespace concierge::metrics
