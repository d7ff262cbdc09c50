#pragma once

#include <functional>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "common/error.h"
#include "common/json.h"
#include "http/https_server.h"
#include "http/tls.h"

namespace concierge::app {

// Output carries the --json choice: human text by default, one JSON document with --json.
struct Output {
  bool json = false;
  void Print(const Json& document, const std::string& text) const;
};

// Every subcommand body returns a Status; main turns it into the exit code and an error line.
using Action = std::function<Status()>;

void AddMakerCommands(CLI::App& app, Action& action, Output& output);
void AddSiteCommands(CLI::App& app, Action& action, Output& output);
void AddDeviceCommands(CLI::App& app, Action& action, Output& output);
void AddLabCommands(CLI::App& app, Action& action, Output& output);
void AddPolicyCommands(CLI::App& app, Action& action, Output& output);
void AddExposureCommands(CLI::App& app, Action& action, Output& output);
void AddOwnershipCommands(CLI::App& app, Action& action, Output& output);
void AddTenantCommands(CLI::App& app, Action& action, Output& output);
void AddOperatorCommands(CLI::App& app, Action& action, Output& output);
// AddJoinProxyCommands adds `joinproxy` and `device joinproxy` (after AddDeviceCommands).
void AddJoinProxyCommands(CLI::App& app, Action& action, Output& output);

// LocalActor names who runs this command in the audit chain: "local:" and the user name.
std::string LocalActor();

// ServeUntilTerminated runs an HTTPS server on listen until SIGINT or SIGTERM (blocked in
// every thread by main). It records the bound address in DIR/listen.addr, so scripts that
// start it on port 0 can find it, and logs every refusal (status >= 400) on stderr under
// role. banner is printed with the URL appended once the server listens.
Status ServeUntilTerminated(const std::string& dir, const std::string& listen,
                            const http::ServerOptions& options, const http::TlsIdentity& identity,
                            const std::string& role, const std::string& banner,
                            http::AsyncHandler handler, const std::string& metrics_listen = "");

// StartedServer is a server StartLoggedServer started, and the URL it answers on.
struct StartedServer {
  std::unique_ptr<http::HttpsServer> server;
  std::string url;
};

// StartLoggedServer is ServeUntilTerminated's start without the wait: the server logs every
// refusal under role and records its bound address in DIR/address_file (when DIR is not "").
Result<StartedServer> StartLoggedServer(const std::string& dir, const std::string& listen,
                                        const http::ServerOptions& options,
                                        crypto::OpenSslPtr<SSL_CTX> ctx, const std::string& role,
                                        const std::string& address_file,
                                        http::AsyncHandler handler);

// StartMetricsServer serves GET /metrics (metrics::Global, Prometheus text format) on listen
// over TLS with identity, recording its address in DIR/metrics.addr; nothing when listen is "".
Result<std::optional<StartedServer>> StartMetricsServer(const std::string& dir,
                                                        const std::string& listen,
                                                        const http::TlsIdentity& identity);

// WaitForTermination returns on SIGINT or SIGTERM (blocked in every thread by main).
void WaitForTermination();

// AddSiteDir and AddMakerDir give a command its --dir: required, unless the configuration
// file (app/config_file.h) names that directory, which is then the default.
CLI::Option* AddSiteDir(CLI::App& command, std::string& dir);
CLI::Option* AddMakerDir(CLI::App& command, std::string& dir);

// AddServerOptions gives a serving command its flags for the server's threads and caps, and
// where its metrics are served.
void AddServerOptions(CLI::App& command, http::ServerOptions& options, std::string& metrics_listen);

}  // namespace concierge::app
