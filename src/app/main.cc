#include <signal.h>

#include <iostream>

#include "app/cli.h"
#include "common/files.h"

namespace concierge::app {

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
    std::string who =
        connection.certificate ? connection.certificate->SubjectText() : "(no client certificate)";
    std::string what = request.method + " " + request.target.substr(0, 256);
    handler(request, connection,
            [role, who, what, respond = std::move(respond)](http::HttpResponse response) {
              if (response.status >= 400) {
                std::cerr << role << ": " << what << " from " << who << " -> " << response.status
                          << " " << response.body;
              }
              respond(std::move(response));
            });
  };
  ASSIGN_OR_RETURN(auto server,
                   http::HttpsServer::StartAsync(address, std::move(ctx), logged, options));
  bool v6 = address.host.find(':') != std::string::npos;
  std::string authority =
      (v6 ? "[" + address.host + "]" : address.host) + ":" + std::to_string(server->port());
  RETURN_IF_ERROR(WriteFileAtomic(std::filesystem::path(dir) / address_file, authority + "\n"));
  return StartedServer{std::move(server), "https://" + authority};
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
                            http::AsyncHandler handler) {
  ASSIGN_OR_RETURN(auto ctx, http::MakeServerContext(identity, /*request_client_cert=*/true));
  ASSIGN_OR_RETURN(auto started, StartLoggedServer(dir, listen, options, std::move(ctx), role,
                                                   "listen.addr", std::move(handler)));
  std::cout << banner << started.url << std::endl;
  WaitForTermination();
  started.server->Stop();
  std::cout << role << " stopped" << std::endl;
  return OkStatus();
}

void AddServerOptions(CLI::App& command, http::ServerOptions& options) {
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

  CLI::App app{"Concierge: the trust manager for a site's IoT devices"};
  app.set_version_flag("--version", "concierge " CONCIERGE_VERSION);
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  Action action;
  concierge::app::Output output;
  concierge::app::AddMakerCommands(app, action, output);
  concierge::app::AddSiteCommands(app, action, output);
  concierge::app::AddDeviceCommands(app, action, output);
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
