#include "operators/operator_desk.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "crypto/key.h"

namespace concierge::operators {
namespace {

constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE operators (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  tenant TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  code_hash BLOB UNIQUE,
  code_expires_at INTEGER NOT NULL DEFAULT 0,
  code_used_at INTEGER NOT NULL DEFAULT 0,
  signed_in_at INTEGER NOT NULL DEFAULT 0,
  revoked_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE operator_sessions (
  token_hash BLOB PRIMARY KEY,
  operator TEXT NOT NULL REFERENCES operators(name),
  created_at INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX operator_sessions_operator ON operator_sessions(operator);
)sql";

// An operator's client certificate for scripts: only the newest one issued signs in.
constexpr std::string_view kSchemaV2 = R"sql(
ALTER TABLE operators ADD COLUMN certificate_serial TEXT NOT NULL DEFAULT '';
ALTER TABLE operators ADD COLUMN certificate_expires_at INTEGER NOT NULL DEFAULT 0;
)sql";

constexpr std::array<std::string_view, 3> kMigrations = {store::kAuditSchema, kSchemaV1, kSchemaV2};

constexpr std::string_view kColumns =
    "operators.name, operators.role, operators.tenant, operators.created_at,"
    " operators.code_expires_at, operators.code_used_at, operators.signed_in_at,"
    " operators.revoked_at,"
    " (SELECT COUNT(*) FROM operator_sessions open WHERE open.operator = operators.name),"
    " operators.certificate_serial, operators.certificate_expires_at";
// Where the columns after kColumns start.
constexpr int kAfterColumns = 11;

constexpr std::string_view kBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr size_t kCodeGroups = 5;
constexpr size_t kCodeGroupLength = 5;
constexpr size_t kTokenBytes = 32;
constexpr size_t kMaxNameLength = 64;
// A session's last use is written at most this often, so reading pages costs no write each.
constexpr int64_t kLastSeenResolution = 60;

std::string Base64Url(ByteSpan bytes) {
  std::string text = Base64Encode(bytes);
  std::erase(text, '=');
  std::ranges::replace(text, '+', '-');
  std::ranges::replace(text, '/', '_');
  return text;
}

Status CheckName(std::string_view what, const std::string& name) {
  auto allowed = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-' ||
           c == '@';
  };
  if (name.empty() || name.size() > kMaxNameLength || !std::ranges::all_of(name, allowed) ||
      std::isalnum(static_cast<unsigned char>(name[0])) == 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(what) + " \"" + name.substr(0, kMaxNameLength) +
                         "\" is not 1 to 64 letters, digits, '.', '_', '-' or '@' starting with "
                         "a letter or digit");
  }
  return OkStatus();
}

// A tenant is named as its delegations name it (`concierge tenant grant --tenant`): any
// printable text.
Status CheckTenant(const std::string& tenant) {
  if (tenant.empty() || tenant.size() > kMaxNameLength ||
      std::ranges::any_of(tenant, [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "a tenant operator names its tenant: 1 to 64 printable characters, as its "
                     "delegations name it");
  }
  return OkStatus();
}

std::string Subject(std::string_view name) {
  return "operator:" + std::string(name);
}

// NormalizeCode takes a code as a person types it (any case, with or without the dashes and
// spaces) to its 25 base32 characters; "" if it cannot be one.
std::string NormalizeCode(std::string_view typed) {
  std::string code;
  for (char c : typed) {
    if (c == '-' || c == ' ') {
      continue;
    }
    char upper = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (kBase32.find(upper) == std::string_view::npos || code.size() >= 64) {
      return "";
    }
    code += upper;
  }
  return code.size() == kCodeGroups * kCodeGroupLength ? code : "";
}

bool IsToken(std::string_view token) {
  return token.size() == (kTokenBytes * 4 + 2) / 3 && std::ranges::all_of(token, [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
         });
}

Operator ReadOperator(store::Statement& query, int first = 0) {
  Operator holder;
  holder.name = query.Text(first);
  holder.role = ParseRole(query.Text(first + 1)).value_or(Role::kAuditor);
  holder.tenant = query.Text(first + 2);
  holder.created_at = query.Int(first + 3);
  holder.code_expires_at = query.Int(first + 5) != 0 ? 0 : query.Int(first + 4);
  holder.signed_in_at = query.Int(first + 6);
  holder.revoked_at = query.Int(first + 7);
  holder.sessions = static_cast<int>(query.Int(first + 8));
  holder.certificate_serial = query.Text(first + 9);
  holder.certificate_expires_at = query.Int(first + 10);
  return holder;
}

Json OperatorJson(const Operator& holder) {
  Json detail = {{"role", RoleName(holder.role)}};
  if (!holder.tenant.empty()) {
    detail["tenant"] = holder.tenant;
  }
  return detail;
}

}  // namespace

std::string Operator::State(SystemTime now) const {
  if (revoked_at != 0) {
    return "revoked";
  }
  if (signed_in_at != 0) {
    return "active";
  }
  return code_expires_at > ToUnixSeconds(now) ? "invited" : "invitation expired";
}

std::string CsrfToken(std::string_view session_token) {
  std::string input = "concierge csrf token for ";
  input += session_token;
  return Base64Url(crypto::Sha256(AsBytes(input)));
}

Result<std::unique_ptr<OperatorDesk>> OperatorDesk::Open(std::unique_ptr<store::Database> db,
                                                         const Clock& clock, Random& random,
                                                         DeskPolicy policy) {
  RETURN_IF_ERROR(store::MigrateComponent(*db, "operators", kMigrations));
  return std::unique_ptr<OperatorDesk>(
      new OperatorDesk(std::move(db), clock, random, std::move(policy)));
}

Result<std::optional<Operator>> OperatorDesk::Find(const std::string& name) {
  ASSIGN_OR_RETURN(auto query, db_->Prepare("SELECT " + std::string(kColumns) +
                                            " FROM operators WHERE name = ?"));
  query.BindAll(name);
  ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) {
    return std::optional<Operator>();
  }
  return ReadOperator(query);
}

Result<Operator> OperatorDesk::FindUnrevoked(const std::string& name,
                                             std::string_view when_revoked) {
  ASSIGN_OR_RETURN(auto holder, Find(name));
  if (!holder) {
    return MakeError(ErrorCode::kNotFound, "no operator named " + name);
  }
  if (holder->revoked_at != 0) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "operator " + name + " " + std::string(when_revoked));
  }
  return std::move(*holder);
}

Result<Invitation> OperatorDesk::NewCode(Operator holder) {
  Bytes random = random_.Generate(16);
  std::string code;
  // 25 characters of 5 bits each from the 128 random bits.
  for (size_t i = 0; i < kCodeGroups * kCodeGroupLength; ++i) {
    size_t bit = i * 5;
    unsigned window = (static_cast<unsigned>(random[bit / 8]) << 8) |
                      (bit / 8 + 1 < random.size() ? random[bit / 8 + 1] : 0);
    code += kBase32[(window >> (11 - bit % 8)) & 0x1f];
  }
  SystemTime expires = clock_.Now() + policy_.code_lifetime;
  ASSIGN_OR_RETURN(auto update,
                   db_->Prepare("UPDATE operators SET code_hash = ?, code_expires_at = ?,"
                                " code_used_at = 0 WHERE name = ?"));
  RETURN_IF_ERROR(
      update.BindAll(crypto::Sha256(AsBytes(code)), ToUnixSeconds(expires), holder.name).Run());
  std::string shown;
  for (size_t group = 0; group < kCodeGroups; ++group) {
    shown += (group == 0 ? "" : "-") + code.substr(group * kCodeGroupLength, kCodeGroupLength);
  }
  holder.code_expires_at = ToUnixSeconds(expires);
  return Invitation{std::move(holder), std::move(shown), expires};
}

Result<Invitation> OperatorDesk::Add(const std::string& name, Role role, const std::string& tenant,
                                     const std::string& actor) {
  RETURN_IF_ERROR(CheckName("operator name", name));
  if (role == Role::kTenant) {
    RETURN_IF_ERROR(CheckTenant(tenant));
  } else if (!tenant.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "only a tenant operator names a tenant; " + name +
                                                      " is to be " + std::string(RoleName(role)));
  }
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto transaction, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto existing, Find(name));
  if (existing) {
    return MakeError(ErrorCode::kAlreadyExists, "operator " + name + " already exists (" +
                                                    existing->State(clock_.Now()) +
                                                    "); reissue its code or revoke it");
  }
  Operator holder;
  holder.name = name;
  holder.role = role;
  holder.tenant = tenant;
  holder.created_at = ToUnixSeconds(clock_.Now());
  ASSIGN_OR_RETURN(auto insert, db_->Prepare("INSERT INTO operators(name, role, tenant, created_at)"
                                             " VALUES (?,?,?,?)"));
  RETURN_IF_ERROR(insert.BindAll(name, RoleName(role), tenant, holder.created_at).Run());
  ASSIGN_OR_RETURN(Invitation invitation, NewCode(std::move(holder)));
  Json detail = OperatorJson(invitation.holder);
  detail["by"] = actor;
  detail["code_expires"] = FormatRfc3339(invitation.expires_at);
  RETURN_IF_ERROR(audit_.Append("operator.added", Subject(name), detail));
  RETURN_IF_ERROR(transaction.Commit());
  return invitation;
}

Result<Invitation> OperatorDesk::Reissue(const std::string& name, const std::string& actor) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto transaction, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(Operator holder, FindUnrevoked(name, "is revoked; add a new operator instead"));
  ASSIGN_OR_RETURN(Invitation invitation, NewCode(std::move(holder)));
  RETURN_IF_ERROR(
      audit_.Append("operator.code_reissued", Subject(name),
                    {{"by", actor}, {"code_expires", FormatRfc3339(invitation.expires_at)}}));
  RETURN_IF_ERROR(transaction.Commit());
  return invitation;
}

Status OperatorDesk::Revoke(const std::string& name, const std::string& actor) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto transaction, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(Operator holder, FindUnrevoked(name, "is already revoked"));
  ASSIGN_OR_RETURN(auto end, db_->Prepare("DELETE FROM operator_sessions WHERE operator = ?"));
  RETURN_IF_ERROR(end.BindAll(name).Run());
  ASSIGN_OR_RETURN(auto revoke, db_->Prepare("UPDATE operators SET revoked_at = ?,"
                                             " code_hash = NULL WHERE name = ?"));
  RETURN_IF_ERROR(revoke.BindAll(ToUnixSeconds(clock_.Now()), name).Run());
  RETURN_IF_ERROR(audit_.Append("operator.revoked", Subject(name),
                                {{"by", actor}, {"sessions_ended", holder.sessions}}));
  return transaction.Commit();
}

Result<std::vector<Operator>> OperatorDesk::List() {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto query, db_->Prepare("SELECT " + std::string(kColumns) +
                                            " FROM operators ORDER BY name"));
  std::vector<Operator> operators;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) {
      return operators;
    }
    operators.push_back(ReadOperator(query));
  }
}

Result<Session> OperatorDesk::SignIn(std::string_view code, const std::string& source) {
  std::lock_guard lock(mutex_);
  RETURN_IF_ERROR(limiter_.Check(source));
  auto session = SignInLocked(code, source);
  if (!session && session.error().code() == ErrorCode::kUnauthenticated) {
    limiter_.Failed(source);
  }
  return session;
}

Result<Session> OperatorDesk::SignInLocked(std::string_view typed, const std::string& source) {
  std::string code = NormalizeCode(typed);
  if (code.empty()) {
    return MakeError(ErrorCode::kUnauthenticated,
                     "not a one-time code: 25 letters and digits in five groups, as "
                     "`concierge operator add` printed it");
  }
  ASSIGN_OR_RETURN(auto transaction, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto query, db_->Prepare("SELECT " + std::string(kColumns) +
                                            ", code_used_at FROM operators WHERE code_hash = ?"));
  query.BindAll(crypto::Sha256(AsBytes(code)));
  ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) {
    return MakeError(ErrorCode::kUnauthenticated, "unknown one-time code");
  }
  Operator holder = ReadOperator(query);
  int64_t used_at = query.Int(kAfterColumns);
  int64_t expires_at = query.Int(4);
  int64_t now = ToUnixSeconds(clock_.Now());
  if (used_at != 0) {
    return MakeError(
        ErrorCode::kUnauthenticated,
        "this one-time code was already used (" + FormatRfc3339(FromUnixSeconds(used_at)) +
            "); ask an owner for a new one (concierge operator reissue " + holder.name + ")");
  }
  if (expires_at <= now) {
    return MakeError(ErrorCode::kUnauthenticated,
                     "this one-time code expired at " + FormatRfc3339(FromUnixSeconds(expires_at)) +
                         "; ask an owner for a new one (concierge operator reissue " + holder.name +
                         ")");
  }
  // Ended sessions go first, then this operator's oldest beyond the cap.
  ASSIGN_OR_RETURN(auto prune, db_->Prepare("DELETE FROM operator_sessions WHERE expires_at <= ?"
                                            " OR last_seen <= ?"));
  RETURN_IF_ERROR(prune.BindAll(now, now - policy_.idle_timeout.count()).Run());
  ASSIGN_OR_RETURN(auto cap, db_->Prepare("DELETE FROM operator_sessions WHERE token_hash IN"
                                          " (SELECT token_hash FROM operator_sessions"
                                          " WHERE operator = ? ORDER BY created_at DESC"
                                          " LIMIT -1 OFFSET ?)"));
  RETURN_IF_ERROR(cap.BindAll(holder.name, policy_.max_sessions_per_operator - 1).Run());
  Session session;
  session.token = Base64Url(random_.Generate(kTokenBytes));
  session.expires_at = clock_.Now() + policy_.session_lifetime;
  ASSIGN_OR_RETURN(auto insert, db_->Prepare("INSERT INTO operator_sessions(token_hash, operator,"
                                             " created_at, last_seen, expires_at)"
                                             " VALUES (?,?,?,?,?)"));
  RETURN_IF_ERROR(insert
                      .BindAll(crypto::Sha256(AsBytes(session.token)), holder.name, now, now,
                               ToUnixSeconds(session.expires_at))
                      .Run());
  ASSIGN_OR_RETURN(auto spend, db_->Prepare("UPDATE operators SET code_used_at = ?,"
                                            " signed_in_at = ? WHERE name = ?"));
  RETURN_IF_ERROR(spend.BindAll(now, now, holder.name).Run());
  RETURN_IF_ERROR(audit_.Append("operator.signed_in", Subject(holder.name),
                                {{"source", source}, {"with", "one-time code"}}));
  RETURN_IF_ERROR(transaction.Commit());
  holder.code_expires_at = 0;
  holder.signed_in_at = now;
  ASSIGN_OR_RETURN(auto fresh, Find(holder.name));
  session.holder = fresh.value_or(holder);
  return session;
}

Result<Session> OperatorDesk::Authenticate(std::string_view token) {
  if (!IsToken(token)) {
    return MakeError(ErrorCode::kUnauthenticated, "no session: sign in first");
  }
  std::lock_guard lock(mutex_);
  Bytes token_hash = crypto::Sha256(AsBytes(token));
  ASSIGN_OR_RETURN(auto query, db_->Prepare("SELECT " + std::string(kColumns) +
                                            ", s.last_seen, s.expires_at FROM operator_sessions s"
                                            " JOIN operators ON operators.name = s.operator"
                                            " WHERE s.token_hash = ?"));
  query.BindAll(token_hash);
  ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) {
    return MakeError(ErrorCode::kUnauthenticated, "the session ended or never was: sign in again");
  }
  Session session;
  session.token = std::string(token);
  session.holder = ReadOperator(query);
  int64_t last_seen = query.Int(kAfterColumns);
  int64_t expires_at = query.Int(kAfterColumns + 1);
  session.expires_at = FromUnixSeconds(expires_at);
  int64_t now = ToUnixSeconds(clock_.Now());
  std::string ended;
  if (expires_at <= now) {
    ended = "the session expired at " + FormatRfc3339(session.expires_at);
  } else if (last_seen + policy_.idle_timeout.count() <= now) {
    ended = "the session was idle for more than " +
            std::to_string(policy_.idle_timeout.count() / 60) + " minutes";
  } else if (session.holder.revoked_at != 0) {
    ended = "operator " + session.holder.name + " is revoked";
  }
  if (!ended.empty()) {
    ASSIGN_OR_RETURN(auto end, db_->Prepare("DELETE FROM operator_sessions WHERE token_hash = ?"));
    RETURN_IF_ERROR(end.BindAll(token_hash).Run());
  } else if (now - last_seen >= kLastSeenResolution) {
    ASSIGN_OR_RETURN(auto touch, db_->Prepare("UPDATE operator_sessions SET last_seen = ?"
                                              " WHERE token_hash = ?"));
    RETURN_IF_ERROR(touch.BindAll(now, token_hash).Run());
  }
  if (!ended.empty()) {
    return MakeError(ErrorCode::kUnauthenticated, ended + ": sign in again");
  }
  return session;
}

Status OperatorDesk::BindCertificate(const std::string& name, const std::string& serial_hex,
                                     SystemTime not_after, const std::string& actor) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto transaction, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(Operator holder, FindUnrevoked(name, "is revoked: it gets no certificate"));
  ASSIGN_OR_RETURN(auto bind, db_->Prepare("UPDATE operators SET certificate_serial = ?,"
                                           " certificate_expires_at = ? WHERE name = ?"));
  RETURN_IF_ERROR(bind.BindAll(serial_hex, ToUnixSeconds(not_after), name).Run());
  Json detail{{"by", actor}, {"serial", serial_hex}, {"not_after", FormatRfc3339(not_after)}};
  if (!holder.certificate_serial.empty()) {
    detail["replaces"] = holder.certificate_serial;
  }
  RETURN_IF_ERROR(audit_.Append("operator.certificate_issued", Subject(name), detail));
  return transaction.Commit();
}

Result<Session> OperatorDesk::AuthenticateCertificate(const std::string& name,
                                                      const std::string& serial_hex) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto holder, Find(name));
  std::string refused;
  if (!holder || holder->certificate_serial.empty() || holder->certificate_serial != serial_hex) {
    refused = "this client certificate is not an operator's current one";
  } else if (holder->revoked_at != 0) {
    refused = "operator " + name + " is revoked";
  } else if (holder->certificate_expires_at <= ToUnixSeconds(clock_.Now())) {
    refused = "operator " + name + "'s certificate expired";
  }
  if (!refused.empty()) {
    return MakeError(ErrorCode::kUnauthenticated, refused);
  }
  Session session;
  session.holder = *holder;
  session.expires_at = FromUnixSeconds(holder->certificate_expires_at);
  return session;
}

Status OperatorDesk::SignOut(std::string_view token) {
  ASSIGN_OR_RETURN(Session session, Authenticate(token));
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto transaction, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto end, db_->Prepare("DELETE FROM operator_sessions WHERE token_hash = ?"));
  RETURN_IF_ERROR(end.BindAll(crypto::Sha256(AsBytes(token))).Run());
  RETURN_IF_ERROR(
      audit_.Append("operator.signed_out", Subject(session.holder.name), Json::object()));
  return transaction.Commit();
}

}  // namespace concierge::operators
