#pragma once

#include "joinproxy/proxy_server.h"
#include "joinproxy/registrar_front.h"

namespace concierge::app {

// FrontMetrics exports the registrar's JPY front's counts (metrics::Global, read when
// scraped) for as long as it lives, which must not outlast the front.
class FrontMetrics {
 public:
  explicit FrontMetrics(const joinproxy::RegistrarFront& front);
  ~FrontMetrics();
  FrontMetrics(const FrontMetrics&) = delete;
  FrontMetrics& operator=(const FrontMetrics&) = delete;
};

// ProxyMetrics exports a join proxy's counts the same way.
class ProxyMetrics {
 public:
  explicit ProxyMetrics(const joinproxy::ProxyServer& proxy);
  ~ProxyMetrics();
  ProxyMetrics(const ProxyMetrics&) = delete;
  ProxyMetrics& operator=(const ProxyMetrics&) = delete;
};

}  // namespace concierge::app
