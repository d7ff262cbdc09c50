#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "operators/role.h"
#include "operators/sign_in_limiter.h"
#include "store/audit_log.h"

namespace concierge::operators {

// Operator is a person (or a script) who runs the site, as the desk lists them.
struct Operator {
  std::string name;
  Role role = Role::kAuditor;
  std::string tenant;  // for a tenant: whose delegated devices it sees; "" otherwise
  int64_t created_at = 0;
  int64_t code_expires_at = 0;     // the newest one-time code's expiry; 0 once used
  int64_t signed_in_at = 0;        // the last sign-in; 0 if never
  int64_t revoked_at = 0;          // 0 while not revoked
  int sessions = 0;                // sessions open now
  std::string certificate_serial;  // the client certificate for scripts (hex), "" if none
  int64_t certificate_expires_at = 0;

  // "revoked", "active" (has signed in), "invited" (a code waits) or "invitation expired".
  std::string State(SystemTime now) const;
};

// Invitation is a new operator's (or a reissued) one-time enrolment code: shown once, stored
// only as a hash.
struct Invitation {
  Operator holder;
  std::string code;  // five groups of five base32 characters: 125 random bits
  SystemTime expires_at;
};

// Session is a signed-in operator. The token is the bearer secret (a cookie); the desk keeps
// only its hash, so a copy of the database signs nobody in. A script that proved itself with
// its operator's client certificate holds a session with no token, for that request only.
struct Session {
  std::string token;
  Operator holder;
  SystemTime expires_at;  // absolute; idle sessions end sooner
};

struct DeskPolicy {
  std::chrono::seconds code_lifetime{std::chrono::hours(24)};
  std::chrono::seconds session_lifetime{std::chrono::hours(8)};
  std::chrono::seconds idle_timeout{std::chrono::minutes(30)};
  int max_sessions_per_operator = 16;  // the oldest ends when one more begins
  SignInLimits sign_in;
};

// CsrfToken is the anti-forgery token that goes with a session: derived from the session's
// token, so a page from another origin, which cannot read the cookie, cannot know it.
std::string CsrfToken(std::string_view session_token);

// OperatorDesk keeps the site's operators, their one-time codes and their sessions in the
// site's database (component "operators"). Every change appends an audit event naming who made
// it (actor: "operator:NAME" or "local:USER" for the command line) in its transaction.
// Thread-safe.
class OperatorDesk {
 public:
  static Result<std::unique_ptr<OperatorDesk>> Open(std::unique_ptr<store::Database> db,
                                                    const Clock& clock, Random& random,
                                                    DeskPolicy policy = {});

  // Add creates an operator and its one-time code. A tenant names its tenant; others do not.
  Result<Invitation> Add(const std::string& name, Role role, const std::string& tenant,
                         const std::string& actor);
  // Reissue gives an operator a new one-time code; the old one no longer works.
  Result<Invitation> Reissue(const std::string& name, const std::string& actor);
  // Revoke ends an operator's sessions and refuses its codes from now on.
  Status Revoke(const std::string& name, const std::string& actor);
  Result<std::vector<Operator>> List();

  // SignIn exchanges a one-time code for a new session (the code is then spent). source is
  // the requester's address, for the failed-sign-in limits.
  Result<Session> SignIn(std::string_view code, const std::string& source);
  // Authenticate finds the session a token belongs to, and keeps it alive; kUnauthenticated
  // for an unknown, expired, idle or revoked one.
  Result<Session> Authenticate(std::string_view token);
  Status SignOut(std::string_view token);

  // BindCertificate records the client certificate (its serial, lower-case hex) an operator's
  // scripts present from now on; an earlier one stops working.
  Status BindCertificate(const std::string& name, const std::string& serial_hex,
                         SystemTime not_after, const std::string& actor);
  // AuthenticateCertificate accepts the operator's current, unexpired certificate (the caller
  // has checked that the site's domain CA issued it); kUnauthenticated otherwise.
  Result<Session> AuthenticateCertificate(const std::string& name, const std::string& serial_hex);

  void ListenToAudit(store::AuditListener* listener) { audit_.Listen(listener); }

 private:
  OperatorDesk(std::unique_ptr<store::Database> db, const Clock& clock, Random& random,
               DeskPolicy policy)
      : db_(std::move(db)),
        clock_(clock),
        random_(random),
        policy_(policy),
        limiter_(clock, policy.sign_in),
        audit_(*db_, clock) {}

  Result<std::optional<Operator>> Find(const std::string& name);
  // FindUnrevoked refuses an unknown operator (NotFound) or a revoked one (saying when_revoked).
  Result<Operator> FindUnrevoked(const std::string& name, std::string_view when_revoked);
  // NewCode stores a fresh code for name (inside the caller's transaction).
  Result<Invitation> NewCode(Operator holder);
  Result<Session> SignInLocked(std::string_view code, const std::string& source);

  std::mutex mutex_;
  std::unique_ptr<store::Database> db_;
  const Clock& clock_;
  Random& random_;
  DeskPolicy policy_;
  SignInLimiter limiter_;
  store::AuditChain audit_;
};

}  // namespace concierge::operators
