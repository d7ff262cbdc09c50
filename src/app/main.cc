#include <signal.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include "app/cli.h"
#include "common/config_file.h"
#include "common/files.h"
#include "common/log.h"
#include "metrics/metrics.h"

namespace concierge::app {
namespace {

// EndpointOf names a request's resource for metrics from a fixed set: the path for the
// protocols' resources, the collection for the API's, "other" for anything else, so that no
// caller can grow the number of series.
std::string EndpointOf(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  for (std::string_view prefix :
       {"/.well-known/brski/", "/.well-known/est/", "/api/v1/", "/ownership/", "/site/"}) {
    if (!path.starts_with(prefix)) {
      continue;
    }
    std::string_view rest = path.substr(prefix.size());
    std::string_view segment = rest.substr(0, rest.find('/'));
    bool plain = !segment.empty() && segment.size() <= 32 &&
                 std::all_of(segment.begin(), segment.end(), [](char c) {
                   return (c >= 'a' && c <= 'z') || c == '_' || c == '-' || c == '.';
                 });
    return plain ? std::string(prefix) + std::string(segment) : std::string(prefix) + "other";
  }
  if (path == "/" || path == "/metrics") {
    return std::string(path);
  }
  return "other";
}

}  // namespace

void Output::Print(const Json& document, const std::string& text) const {
  if (json) {
    std::cout << document.dump(2) << "\n";
  } else {
    std::cout << text;
    if (!text.empty() && text.back() != '\n') {
      std::cout << "\n";
    }
  }
  std::cout.flush();
}

Result<StartedServer> StartLoggedServer(const std::string& dir, const std::string& listen,
                                        const http::ServerOptions& options,
                                        crypto::OpenSslPtr<SSL_CTX> ctx, const std::string& role,
                                        const std::string& address_file,
                                        http::AsyncHandler handler) {
  ASSIGN_OR_RETURN(auto address, ParseHostPort(listen));
  auto logged = [role, handler = std::move(handler)](const http::HttpRequest& request,
                                                     const http::ConnectionInfo& connection,
                                                     http::Respond respond) {
    auto timer = std::make_shared<metrics::Timer>(
        "concierge_http_request_duration_seconds",
        "Requests answered, by server and endpoint, from the request read to the answer",
        metrics::Labels{{"server", role}, {"endpoint", EndpointOf(request.target)}});
    // The request and connection may be gone when an asynchronous handler answers.
    std::string who =
        connection.certificate ? connection.certificate->SubjectText() : "(no client certificate)";
    std::string what = request.method + " " + request.target.substr(0, 256);
    handler(request, connection,
            [role, timer, who, what, respond = std::move(respond)](http::HttpResponse response) {
              timer->Stop();
              metrics::Global().Count(
                  "concierge_http_responses_total", "Responses, by server and status class",
                  {{"server", role}, {"class", std::to_string(response.status / 100) + "xx"}});
              if (response.status >= 400) {
                std::string body = response.body.substr(0, 512);
                while (!body.empty() && body.back() == '\n') {
                  body.pop_back();
                }
                Log(response.status >= 500 ? LogLevel::kError : LogLevel::kWarning,
                    role + ": " + what + " from " + who + " -> " + std::to_string(response.status) +
                        " " + body);
              }
              respond(std::move(response));
            });
  };
  ASSIGN_OR_RETURN(auto server,
                   http::HttpsServer::StartAsync(address, std::move(ctx), logged, options));
  bool v6 = address.host.find(':') != std::string::npos;
  std::string authority =
      (v6 ? "[" + address.host + "]" : address.host) + ":" + std::to_string(server->port());
  if (!dir.empty()) {
    RETURN_IF_ERROR(WriteFileAtomic(std::filesystem::path(dir) / address_file, authority + "\n"));
  }
  return StartedServer{std::move(server), "https://" + authority};
}

Result<std::optional<StartedServer>> StartMetricsServer(const std::string& dir,
                                                        const std::string& listen,
                                                        const http::TlsIdentity& identity) {
  if (listen.empty()) {
    return std::nullopt;
  }
  ASSIGN_OR_RETURN(auto ctx, http::MakeServerContext(identity, /*request_client_cert=*/false));
  http::ServerOptions options;
  options.workers = 2;
  options.max_connections = 64;
  ASSIGN_OR_RETURN(
      auto started,
      StartLoggedServer(
          dir, listen, options, std::move(ctx), "metrics", "metrics.addr",
          [](const http::HttpRequest& request, const http::ConnectionInfo&,
             const http::Respond& respond) {
            if (request.target.substr(0, request.target.find('?')) != "/metrics") {
              respond(http::MakeResponse(404, "text/plain; charset=utf-8", "try /metrics\n"));
            } else if (request.method != "GET") {
              respond(http::MakeResponse(405, "text/plain; charset=utf-8", "use GET\n"));
            } else {
              respond(http::MakeResponse(200, "text/plain; version=0.0.4; charset=utf-8",
                                         metrics::Global().Render()));
            }
          }));
  return std::optional<StartedServer>(std::move(started));
}

void WaitForTermination() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int signal_number = 0;
  sigwait(&set, &signal_number);
}

Status ServeUntilTerminated(const std::string& dir, const std::string& listen,
                            const http::ServerOptions& options, const http::TlsIdentity& identity,
                            const std::string& role, const std::string& banner,
                            http::AsyncHandler handler, const std::string& metrics_listen) {
  ASSIGN_OR_RETURN(auto ctx, http::MakeServerContext(identity, /*request_client_cert=*/true));
  ASSIGN_OR_RETURN(auto started, StartLoggedServer(dir, listen, options, std::move(ctx), role,
                                                   "listen.addr", std::move(handler)));
  ASSIGN_OR_RETURN(auto metrics_server, StartMetricsServer(dir, metrics_listen, identity));
  std::string text = banner + started.url + "\n";
  if (metrics_server) {
    text += "metrics on " + metrics_server->url + "/metrics\n";
  }
  std::cout << text << std::flush;
  WaitForTermination();
  if (metrics_server) {
    metrics_server->server->Stop();
  }
  started.server->Stop();
  std::cout << role << " stopped" << std::endl;
  return OkStatus();
}

namespace {

CLI::Option* AddDir(CLI::App& command, std::string& dir, const std::string& what,
                    const std::string& configured) {
  CLI::Option* option = command.add_option("--dir", dir, what + " state directory");
  if (configured.empty()) {
    return option->required();
  }
  return option->default_val(configured)
      ->description(what + " state directory (from " + LoadConfigFile()->path + ")");
}

}  // namespace

CLI::Option* AddSiteDir(CLI::App& command, std::string& dir) {
  auto config = LoadConfigFile();
  return AddDir(command, dir, "Site", config ? config->site_dir : "");
}

CLI::Option* AddMakerDir(CLI::App& command, std::string& dir) {
  auto config = LoadConfigFile();
  return AddDir(command, dir, "Maker", config ? config->maker_dir : "");
}

void AddServerOptions(CLI::App& command, http::ServerOptions& options,
                      std::string& metrics_listen) {
  command.add_option("--metrics-listen", metrics_listen,
                     "HOST:PORT for Prometheus: GET /metrics over TLS with this server's "
                     "certificate, no client certificate asked (bind it to localhost or a "
                     "monitoring network); none when not given");
  command
      .add_option("--workers", options.workers,
                  "Threads that run requests (connections wait on the event loop, not on these)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  command
      .add_option("--max-connections", options.max_connections,
                  "Connections held at once; more are closed when accepted")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  command
      .add_option("--max-connections-per-source", options.max_connections_per_source,
                  "Connections held at once from one IP address (a join proxy counts as one)")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
}

}  // namespace concierge::app

namespace {

int Run(int argc, char** argv) {
  using concierge::app::Action;
  // Servers wait for these with sigwait; blocking them first keeps every thread started later
  // from taking them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  if (auto config = concierge::LoadConfigFile(); !config) {
    std::cerr << "concierge: error: " << config.error().message() << "\n";
    return concierge::ExitCodeFor(config.error());
  }
  CLI::App app{"Concierge: the trust manager for a site's IoT devices"};
  app.set_version_flag("--version", "concierge " CONCIERGE_VERSION);
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  Action action;
  concierge::app::Output output;
  concierge::app::AddMakerCommands(app, action, output);
  concierge::app::AddSiteCommands(app, action, output);
  concierge::app::AddDeviceCommands(app, action, output);
  concierge::app::AddJoinProxyCommands(app, action, output);
  concierge::app::AddLabCommands(app, action, output);
  concierge::app::AddPolicyCommands(app, action, output);
  concierge::app::AddExposureCommands(app, action, output);
  concierge::app::AddOwnershipCommands(app, action, output);
  concierge::app::AddTenantCommands(app, action, output);
  concierge::app::AddOperatorCommands(app, action, output);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (!action) {
    std::cerr << "concierge: no command given (see --help)\n";
    return 2;
  }
  try {
    auto status = action();
    if (!status) {
      std::cerr << "concierge: error: " << status.error().message() << "\n";
      return concierge::ExitCodeFor(status.error());
    }
  } catch (const std::exception& e) {
    std::cerr << "concierge: internal error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (...) {
    return 1;  // Run reports what it can; this only keeps an exception from escaping main
  }
}
