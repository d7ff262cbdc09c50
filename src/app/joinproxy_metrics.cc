#include "app/joinproxy_metrics.h"

#include <utility>
#include <vector>

#include "metrics/metrics.h"

namespace concierge::app {
namespace {

using Values = std::vector<std::pair<metrics::Labels, double>>;

constexpr char kFrontDatagrams[] = "concierge_jpy_datagrams_total";
constexpr char kFrontSessionEvents[] = "concierge_jpy_sessions_total";
constexpr char kFrontSessions[] = "concierge_jpy_sessions";
constexpr char kProxyDatagrams[] = "concierge_joinproxy_datagrams_total";
constexpr char kProxyFlows[] = "concierge_joinproxy_flows_total";

metrics::Labels Result(const char* result) {
  return {{"result", result}};
}

metrics::Labels Event(const char* event) {
  return {{"event", event}};
}

double Number(uint64_t count) {
  return static_cast<double>(count);
}

}  // namespace

FrontMetrics::FrontMetrics(const joinproxy::RegistrarFront& front) {
  metrics::Global().ReadCounter(
      kFrontDatagrams, "JPY datagrams at the registrar's front, by what became of them", [&front] {
        joinproxy::FrontCounters counts = front.counters();
        return Values{{Result("from_proxy"), Number(counts.from_proxies)},
                      {Result("to_proxy"), Number(counts.to_proxies)},
                      {Result("malformed"), Number(counts.malformed)},
                      {Result("not_allowed"), Number(counts.not_allowed)},
                      {Result("session_refused"), Number(counts.sessions_refused)}};
      });
  metrics::Global().ReadCounter(
      kFrontSessionEvents, "Pledge sessions the JPY front opened, and pushed out when full",
      [&front] {
        joinproxy::FrontCounters counts = front.counters();
        return Values{{Event("opened"), Number(counts.sessions_opened)},
                      {Event("evicted"), Number(counts.sessions_evicted)}};
      });
  metrics::Global().Gauge(kFrontSessions, "Pledge sessions the JPY front holds", [&front] {
    return Values{{{}, Number(front.sessions())}};
  });
}

FrontMetrics::~FrontMetrics() {
  metrics::Global().RemoveGauge(kFrontDatagrams);
  metrics::Global().RemoveGauge(kFrontSessionEvents);
  metrics::Global().RemoveGauge(kFrontSessions);
}

ProxyMetrics::ProxyMetrics(const joinproxy::ProxyServer& proxy) {
  metrics::Global().ReadCounter(
      kProxyDatagrams, "Datagrams at the join proxy, by where they went or why they were dropped",
      [&proxy] {
        joinproxy::ProxyCounters counts = proxy.counters();
        return Values{{Result("to_registrar"), Number(counts.to_registrar)},
                      {Result("to_pledge"), Number(counts.to_pledges)},
                      {Result("rate_limited"), Number(counts.rate_limited)},
                      {Result("oversize"), Number(counts.oversize)},
                      {Result("unauthentic"), Number(counts.unauthentic)},
                      {Result("malformed"), Number(counts.malformed)},
                      {Result("table_full"), Number(counts.table_full)}};
      });
  metrics::Global().ReadCounter(kProxyFlows, "Stateful mode: pledge flows opened, and ended idle",
                                [&proxy] {
                                  joinproxy::ProxyCounters counts = proxy.counters();
                                  return Values{{Event("opened"), Number(counts.flows_opened)},
                                                {Event("expired"), Number(counts.flows_expired)}};
                                });
}

ProxyMetrics::~ProxyMetrics() {
  metrics::Global().RemoveGauge(kProxyDatagrams);
  metrics::Global().RemoveGauge(kProxyFlows);
}

}  // namespace concierge::app
