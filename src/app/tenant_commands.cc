#include <iostream>
#include <memory>

#include "app/cli.h"
#include "app/key_files.h"
#include "app/open_site.h"
#include "common/files.h"
#include "crypto/key_store.h"
#include "http/https_client.h"
#include "ownership/delegation.h"

namespace concierge::app {
namespace {

struct TenantArgs {
  std::string dir;
  std::string name;
  std::string key;
  std::vector<std::string> devices;
  int days = 0;
  std::string from;
  std::string until;
  int64_t id = 0;
  std::string out;
  std::string site;
  std::string site_ca;
  std::string operation = "list";
  std::string device;
};

Status Grant(const TenantArgs& args, const Output& output) {
  if ((args.days > 0) == !args.until.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "give the delegation's end: --days or --until");
  }
  ASSIGN_OR_RETURN(PublicKeyFile tenant, ReadPublicKeyFile(args.key));
  ASSIGN_OR_RETURN(auto controller, OpenSite(args.dir));
  SystemTime from = controller->clock().Now();
  if (!args.from.empty()) {
    ASSIGN_OR_RETURN_CTX(from, ParseRfc3339(args.from), "--from");
  }
  SystemTime until = from + std::chrono::hours(24 * args.days);
  if (!args.until.empty()) {
    ASSIGN_OR_RETURN_CTX(until, ParseRfc3339(args.until), "--until");
  }
  ASSIGN_OR_RETURN(int64_t id, controller->GrantTenant(args.name, tenant.key, args.devices, from,
                                                       until, LocalActor()));
  output.Print(Json{{"delegation", id},
                    {"tenant", args.name},
                    {"devices", args.devices},
                    {"from", FormatRfc3339(from)},
                    {"until", FormatRfc3339(until)}},
               "delegation " + std::to_string(id) + ": \"" + args.name + "\" may operate " +
                   std::to_string(args.devices.size()) + " device(s) until " +
                   FormatRfc3339(until));
  return OkStatus();
}

Status Revoke(const TenantArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto controller, OpenSite(args.dir));
  RETURN_IF_ERROR(controller->RevokeTenant(args.id, LocalActor()));
  output.Print(Json{{"revoked", args.id}}, "delegation " + std::to_string(args.id) + " revoked");
  return OkStatus();
}

Status List(const TenantArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto controller, OpenSite(args.dir));
  ASSIGN_OR_RETURN(auto delegations, controller->Delegations());
  Json list = Json::array();
  std::string text;
  for (const auto& [delegation, state] : delegations) {
    std::vector<std::string> devices(delegation.devices.begin(), delegation.devices.end());
    list.push_back({{"id", delegation.id},
                    {"tenant", delegation.tenant},
                    {"devices", devices},
                    {"from", FormatRfc3339(FromUnixSeconds(delegation.not_before))},
                    {"until", FormatRfc3339(FromUnixSeconds(delegation.not_after))},
                    {"state", state}});
    std::string from = state == "scheduled"
                           ? " from " + FormatRfc3339(FromUnixSeconds(delegation.not_before))
                           : "";
    text += std::to_string(delegation.id) + "  " + delegation.tenant + "  " + state + from +
            " until " + FormatRfc3339(FromUnixSeconds(delegation.not_after)) + "  " +
            std::to_string(devices.size()) + " device(s)\n";
  }
  output.Print(list, text.empty() ? "no delegations" : text);
  return OkStatus();
}

Result<ownership::TenantOperation> ParseOperation(const std::string& name) {
  for (auto operation :
       {ownership::TenantOperation::kList, ownership::TenantOperation::kStatus,
        ownership::TenantOperation::kAudit, ownership::TenantOperation::kTransfer,
        ownership::TenantOperation::kDecommission, ownership::TenantOperation::kReportStolen}) {
    if (ownership::TenantOperationName(operation) == name) {
      return operation;
    }
  }
  return MakeError(ErrorCode::kInvalidArgument, "unknown operation " + name);
}

// Request is the tenant's side: a request signed with the tenant key, sent to the site over
// TLS authenticated by the site's domain CA.
Status Request(const TenantArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto operation, ParseOperation(args.operation));
  ASSIGN_OR_RETURN_CTX(auto key, crypto::DefaultKeyStore().Load(args.key), "--key");
  ASSIGN_OR_RETURN(std::string ca_pem, ReadFile(args.site_ca));
  ASSIGN_OR_RETURN_CTX(auto anchors, crypto::Certificate::FromPemChain(ca_pem), args.site_ca);
  ASSIGN_OR_RETURN_CTX(Url url, ParseHttpsUrl(args.site), "--site");
  ownership::TenantRequest request{operation, args.device, ToUnixMillis(SystemClock().Now())};
  ASSIGN_OR_RETURN(Bytes signed_request, ownership::SignTenantRequest(key, request));
  ASSIGN_OR_RETURN(auto ctx, http::MakeClientContext(std::nullopt, anchors));
  http::ClientOptions options;
  options.server_name = url.host;
  ASSIGN_OR_RETURN(auto client,
                   http::HttpsClient::Connect({url.host, url.port}, ctx.get(), options));
  ASSIGN_OR_RETURN(auto response,
                   http::Post(client, "/.well-known/concierge/tenant", "application/cose",
                              ToString(signed_request), "application/json"));
  if (response.status != 200) {
    return std::unexpected(http::ErrorFromPeerStatus("site", response));
  }
  ASSIGN_OR_RETURN(Json answer, ParseJsonObject(response.body, "site answer"));
  output.Print(answer, answer.dump(2));
  return OkStatus();
}

Status Keygen(const TenantArgs& args, const Output& output) {
  return WriteSigningKeyPair(args.out, "tenant", output);
}

}  // namespace

void AddTenantCommands(CLI::App& app, Action& action, Output& output) {
  auto args = std::make_shared<TenantArgs>();
  auto bind = [&action, &output, args](CLI::App* command,
                                       Status (*body)(const TenantArgs&, const Output&)) {
    command->callback([&action, &output, args, body] {
      action = [&output, args, body] { return body(*args, output); };
    });
  };
  CLI::App* tenant = app.add_subcommand("tenant", "Time-bound delegations to tenants");
  tenant->require_subcommand(1);
  CLI::App* grant = tenant->add_subcommand("grant", "Let a tenant key operate devices for a time");
  AddSiteDir(*grant, args->dir);
  grant->add_option("--name", args->name, "Tenant name, e.g. \"Flat 2\"")->required();
  grant->add_option("--key", args->key, "The tenant's public key (PEM)")->required();
  grant->add_option("--devices", args->devices, "Device serials")->delimiter(',')->required();
  grant->add_option("--from", args->from, "Start, RFC 3339 (default: now)");
  grant->add_option("--days", args->days, "Days from the start");
  grant->add_option("--until", args->until, "End, RFC 3339");
  grant->add_flag("--json", output.json, "Print JSON");
  bind(grant, Grant);
  CLI::App* revoke = tenant->add_subcommand("revoke", "End a delegation now");
  AddSiteDir(*revoke, args->dir);
  revoke->add_option("id", args->id, "Delegation id")->required();
  revoke->add_flag("--json", output.json, "Print JSON");
  bind(revoke, Revoke);
  CLI::App* list = tenant->add_subcommand("list", "Delegations and their state");
  AddSiteDir(*list, args->dir);
  list->add_flag("--json", output.json, "Print JSON");
  bind(list, List);
  CLI::App* keygen = tenant->add_subcommand("keygen", "Make a tenant's key pair");
  keygen->add_option("--out", args->out, "Writes OUT.key and OUT.pub.pem")->required();
  keygen->add_flag("--json", output.json, "Print JSON");
  bind(keygen, Keygen);
  CLI::App* request = tenant->add_subcommand("request", "As a tenant, ask the site");
  request
      ->add_option("--key", args->key,
                   "The tenant's private key: a PEM file or a key URI (docs/keys.md)")
      ->required();
  request->add_option("--site", args->site, "The site controller, https://HOST:PORT")->required();
  request->add_option("--site-ca", args->site_ca, "The site's domain CA (PEM)")->required();
  request
      ->add_option("--operation", args->operation,
                   "list, status, audit (tenants); transfer, decommission, report-stolen "
                   "(owner only: refused)")
      ->capture_default_str();
  request->add_option("--device", args->device, "Device serial (all but list)");
  request->add_flag("--json", output.json, "Print JSON");
  bind(request, Request);
}

}  // namespace concierge::app
