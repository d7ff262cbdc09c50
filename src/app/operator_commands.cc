// The site's operators from the command line: who may run the site through the management API
// and dashboard, in which role. Whoever can write the site directory is its owner here.
#include <pwd.h>
#include <unistd.h>

#include <iomanip>
#include <memory>
#include <sstream>

#include "api/operator_json.h"
#include "app/cli.h"
#include "app/open_site.h"
#include "common/files.h"

namespace concierge::app {
namespace {

struct OperatorArgs {
  std::string dir;
  std::string name;
  std::string role;
  std::string tenant;
  std::string out;
  int days = 90;
};

constexpr int kMaxCertificateDays = 397;  // as the CA/Browser Forum caps TLS certificates

std::string InvitationText(const operators::Invitation& invitation) {
  return "one-time code: " + invitation.code + "\nvalid until " +
         FormatRfc3339(invitation.expires_at) +
         "; it signs in once, then the operator holds a session";
}

Status Add(const OperatorArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(operators::Role role, operators::ParseRole(args.role));
  ASSIGN_OR_RETURN(auto site, OpenSite(args.dir));
  ASSIGN_OR_RETURN(operators::OperatorDesk * desk, site->Operators());
  ASSIGN_OR_RETURN(auto invitation, desk->Add(args.name, role, args.tenant, LocalActor()));
  std::string as = std::string(operators::RoleName(role));
  if (!args.tenant.empty()) {
    as += " of " + args.tenant;
  }
  output.Print(api::InvitationJson(invitation),
               "operator " + args.name + " added as " + as + "\n" + InvitationText(invitation));
  return OkStatus();
}

Status Reissue(const OperatorArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto site, OpenSite(args.dir));
  ASSIGN_OR_RETURN(operators::OperatorDesk * desk, site->Operators());
  ASSIGN_OR_RETURN(auto invitation, desk->Reissue(args.name, LocalActor()));
  output.Print(api::InvitationJson(invitation), "new code for operator " + args.name +
                                                    "; the old one no longer works\n" +
                                                    InvitationText(invitation));
  return OkStatus();
}

Status Revoke(const OperatorArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto site, OpenSite(args.dir));
  ASSIGN_OR_RETURN(operators::OperatorDesk * desk, site->Operators());
  RETURN_IF_ERROR(desk->Revoke(args.name, LocalActor()));
  output.Print(Json{{"revoked", args.name}},
               "operator " + args.name + " revoked; its sessions have ended");
  return OkStatus();
}

// Certificate issues the operator's scripts a client certificate: OUT.key (0600) and OUT.pem.
Status Certificate(const OperatorArgs& args, const Output& output) {
  if (args.days < 1 || args.days > kMaxCertificateDays) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--days must be 1 to " + std::to_string(kMaxCertificateDays));
  }
  ASSIGN_OR_RETURN(auto site, OpenSite(args.dir));
  ASSIGN_OR_RETURN(
      crypto::KeyAndCertificate issued,
      site->IssueOperatorCertificate(args.name, std::chrono::hours(24 * args.days), LocalActor()));
  ASSIGN_OR_RETURN(std::string key_pem, issued.key.ToPem());
  RETURN_IF_ERROR(WriteFileAtomic(args.out + ".key", key_pem, 0600));
  RETURN_IF_ERROR(WriteFileAtomic(args.out + ".pem", issued.certificate.Pem(), 0644));
  std::string until = FormatRfc3339(issued.certificate.NotAfter());
  output.Print(Json{{"operator", args.name},
                    {"certificate", args.out + ".pem"},
                    {"key", args.out + ".key"},
                    {"serial", issued.certificate.SerialHex()},
                    {"not_after", until}},
               "client certificate for operator " + args.name + ": " + args.out + ".pem (key " +
                   args.out + ".key), valid until " + until +
                   "\nscripts present it to the management API; a change also sends the "
                   "X-Concierge-Script header");
  return OkStatus();
}

Status List(const OperatorArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto site, OpenSite(args.dir));
  ASSIGN_OR_RETURN(operators::OperatorDesk * desk, site->Operators());
  ASSIGN_OR_RETURN(auto operators, desk->List());
  SystemTime now = site->clock().Now();
  Json list = Json::array();
  std::ostringstream text;
  text << std::left << std::setw(16) << "NAME" << std::setw(11) << "ROLE" << std::setw(12)
       << "TENANT" << std::setw(20) << "STATE" << std::setw(10) << "SESSIONS"
       << "LAST SIGN-IN\n";
  for (const auto& holder : operators) {
    std::string signed_in =
        holder.signed_in_at == 0 ? "never" : FormatRfc3339(FromUnixSeconds(holder.signed_in_at));
    list.push_back(api::OperatorJson(holder, now));
    text << std::setw(16) << holder.name << std::setw(11) << operators::RoleName(holder.role)
         << std::setw(12) << (holder.tenant.empty() ? "-" : holder.tenant) << std::setw(20)
         << holder.State(now) << std::setw(10) << holder.sessions << signed_in << "\n";
  }
  std::string rendered = text.str();
  rendered.pop_back();
  output.Print(list, operators.empty() ? "no operators" : rendered);
  return OkStatus();
}

}  // namespace

std::string LocalActor() {
  struct passwd entry {};
  struct passwd* found = nullptr;
  char buffer[1024];
  if (getpwuid_r(geteuid(), &entry, buffer, sizeof(buffer), &found) == 0 && found != nullptr) {
    return std::string("local:") + found->pw_name;
  }
  return "local:uid " + std::to_string(geteuid());
}

void AddOperatorCommands(CLI::App& app, Action& action, Output& output) {
  auto args = std::make_shared<OperatorArgs>();
  auto bind = [&action, &output, args](CLI::App* command,
                                       Status (*body)(const OperatorArgs&, const Output&)) {
    AddSiteDir(*command, args->dir);
    command->add_flag("--json", output.json, "Print JSON");
    command->callback([&action, &output, args, body] {
      action = [&output, args, body] { return body(*args, output); };
    });
  };

  CLI::App* operators = app.add_subcommand(
      "operator", "The site's operators: roles, one-time sign-in codes, revocation");
  operators->require_subcommand(1);
  CLI::App* add =
      operators->add_subcommand("add", "Add an operator and print its one-time sign-in code");
  add->add_option("--name", args->name, "Operator name")->required();
  add->add_option("--role", args->role, "owner, installer, tenant or auditor")->required();
  add->add_option("--tenant", args->tenant, "For a tenant: the tenant whose devices it sees");
  bind(add, Add);
  CLI::App* list = operators->add_subcommand("list", "List operators and their state");
  bind(list, List);
  CLI::App* reissue =
      operators->add_subcommand("reissue", "Give an operator a new one-time sign-in code");
  reissue->add_option("name", args->name, "Operator name")->required();
  bind(reissue, Reissue);
  CLI::App* revoke = operators->add_subcommand("revoke", "End an operator's access for good");
  revoke->add_option("name", args->name, "Operator name")->required();
  bind(revoke, Revoke);
  CLI::App* cert = operators->add_subcommand(
      "cert", "Issue an operator's scripts a client certificate for the management API");
  cert->add_option("name", args->name, "Operator name")->required();
  cert->add_option("--out", args->out, "Writes OUT.pem and OUT.key")->required();
  cert->add_option("--days", args->days, "Validity in days (1 to 397)")->capture_default_str();
  bind(cert, Certificate);
}

}  // namespace concierge::app
