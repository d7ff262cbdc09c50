#include <regex>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/files.h"
#include "common/simulated_clock.h"
#include "common/temp_dir.h"
#include "operators/operator_desk.h"
#include "tests/support/test_database.h"

namespace concierge::operators {
namespace {

using ::testing::HasSubstr;

class OperatorDeskTest : public ::testing::Test {
 protected:
  std::unique_ptr<OperatorDesk> Open(DeskPolicy policy = {}) {
    return OperatorDesk::Open(database_.Open(), clock_, random_, policy).value();
  }

  void SetUp() override { CONCIERGE_SKIP_UNLESS_READY(database_); }

  std::filesystem::path Path() const { return database_.Location(); }

  std::vector<std::string> Events() {
    auto db = database_.Open();
    std::vector<std::string> events;
    auto records = store::ReadAuditEvents(*db).value();
    for (const auto& record : records) {
      events.push_back(record.kind + " " + record.subject + " " + record.detail);
    }
    return events;
  }

  SimulatedClock clock_{FromUnixSeconds(1'790'000'000)};
  CryptoRandom random_;
  testing::TestDatabase database_;
};

TEST(RoleTest, EachRoleMayDoWhatItsDescriptionSaysAndNoMore) {
  for (Permission permission :
       {Permission::kRead, Permission::kReadSite, Permission::kOperate, Permission::kOnboard,
        Permission::kPolicy, Permission::kOwnership, Permission::kOperators}) {
    SCOPED_TRACE(PermissionName(permission));
    EXPECT_TRUE(Allows(Role::kOwner, permission));
    EXPECT_EQ(Allows(Role::kInstaller, permission),
              permission != Permission::kOwnership && permission != Permission::kOperators);
    EXPECT_EQ(Allows(Role::kTenant, permission),
              permission == Permission::kRead || permission == Permission::kOperate);
    EXPECT_EQ(Allows(Role::kAuditor, permission),
              permission == Permission::kRead || permission == Permission::kReadSite);
  }
  EXPECT_TRUE(ScopedToDelegations(Role::kTenant));
  EXPECT_FALSE(ScopedToDelegations(Role::kInstaller));
  EXPECT_EQ(ParseRole("installer").value(), Role::kInstaller);
  auto bad = ParseRole("admin");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(bad.error().message(), HasSubstr("owner, installer, tenant, auditor"));
}

TEST_F(OperatorDeskTest, AOneTimeCodeSignsInOnceAndTheSessionAuthenticates) {
  auto desk = Open();
  auto invitation = desk->Add("alice", Role::kOwner, "", "local:root").value();
  EXPECT_TRUE(std::regex_match(invitation.code, std::regex("([A-Z2-7]{5}-){4}[A-Z2-7]{5}")))
      << invitation.code;
  EXPECT_EQ(invitation.expires_at, clock_.Now() + std::chrono::hours(24));
  auto listed = desk->List().value();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].State(clock_.Now()), "invited");

  // Typed in lower case without the dashes, it still signs in.
  std::string typed = invitation.code;
  std::erase(typed, '-');
  for (char& c : typed) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  auto signed_in = desk->SignIn(typed, "192.0.2.1");
  ASSERT_TRUE(signed_in) << signed_in.error().ToString();
  auto session = *signed_in;
  EXPECT_EQ(session.holder.name, "alice");
  EXPECT_EQ(session.holder.role, Role::kOwner);
  EXPECT_EQ(session.holder.sessions, 1);
  EXPECT_EQ(session.expires_at, clock_.Now() + std::chrono::hours(8));
  auto authenticated = desk->Authenticate(session.token);
  ASSERT_TRUE(authenticated) << authenticated.error().ToString();
  EXPECT_EQ(authenticated->holder.name, "alice");
  EXPECT_EQ(desk->List().value()[0].State(clock_.Now()), "active");

  // The code is spent.
  auto again = desk->SignIn(invitation.code, "192.0.2.1");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_THAT(again.error().message(), HasSubstr("already used"));

  EXPECT_THAT(Events(), ::testing::ElementsAre(
                            HasSubstr("operator.added operator:alice {\"by\":\"local:root\""),
                            HasSubstr("operator.signed_in operator:alice "
                                      "{\"source\":\"192.0.2.1\"")));
}

TEST_F(OperatorDeskTest, TheDatabaseHoldsNeitherCodesNorSessionTokens) {
  auto desk = Open();
  auto invitation = desk->Add("bob", Role::kInstaller, "", "local:root").value();
  auto session = desk->SignIn(invitation.code, "192.0.2.1").value();
  desk.reset();
  std::string file = database_.Contents();
  std::string bare = invitation.code;
  std::erase(bare, '-');
  EXPECT_EQ(file.find(bare), std::string::npos);
  EXPECT_EQ(file.find(session.token), std::string::npos);
  EXPECT_EQ(file.find(CsrfToken(session.token)), std::string::npos);
  // ... yet a desk opened anew still knows the session.
  EXPECT_EQ(Open()->Authenticate(session.token).value().holder.name, "bob");
}

TEST_F(OperatorDeskTest, ExpiredAndReplacedCodesAreRefusedWithWhatToDo) {
  auto desk = Open();
  auto first = desk->Add("carol", Role::kAuditor, "", "local:root").value();
  clock_.Advance(std::chrono::hours(25));
  EXPECT_EQ(desk->List().value()[0].State(clock_.Now()), "invitation expired");
  auto expired = desk->SignIn(first.code, "192.0.2.1");
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_THAT(expired.error().message(),
              HasSubstr("expired at 2026-09-22T14:13:20Z; ask an owner for a new one "
                        "(concierge operator reissue carol)"));

  auto second = desk->Reissue("carol", "operator:alice").value();
  EXPECT_NE(second.code, first.code);
  auto replaced = desk->SignIn(first.code, "192.0.2.1");
  ASSERT_FALSE(replaced);
  EXPECT_THAT(replaced.error().message(), HasSubstr("unknown one-time code"));
  EXPECT_EQ(desk->SignIn(second.code, "192.0.2.1").value().holder.role, Role::kAuditor);
  EXPECT_THAT(Events()[1], HasSubstr("operator.code_reissued operator:carol "
                                     "{\"by\":\"operator:alice\""));
}

TEST_F(OperatorDeskTest, SessionsEndWhenIdleWhenOldAtSignOutAndWhenTheOperatorIsRevoked) {
  auto desk = Open();
  auto code = [&] { return desk->Reissue("dave", "local:root").value().code; };
  ASSERT_TRUE(desk->Add("dave", Role::kInstaller, "", "local:root"));

  auto idle = desk->SignIn(code(), "192.0.2.1").value();
  clock_.Advance(std::chrono::minutes(29));
  ASSERT_TRUE(desk->Authenticate(idle.token));  // use keeps it alive ...
  clock_.Advance(std::chrono::minutes(29));
  ASSERT_TRUE(desk->Authenticate(idle.token));
  clock_.Advance(std::chrono::minutes(31));  // ... and idleness ends it
  auto ended = desk->Authenticate(idle.token);
  ASSERT_FALSE(ended);
  EXPECT_EQ(ended.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_THAT(ended.error().message(), HasSubstr("idle for more than 30 minutes"));

  auto old = desk->SignIn(code(), "192.0.2.1").value();
  for (int i = 0; i < 47; ++i) {
    clock_.Advance(std::chrono::minutes(10));
    ASSERT_TRUE(desk->Authenticate(old.token)) << i;
  }
  clock_.Advance(std::chrono::minutes(10));
  EXPECT_THAT(desk->Authenticate(old.token).error().message(), HasSubstr("session expired at"));

  auto leaving = desk->SignIn(code(), "192.0.2.1").value();
  ASSERT_TRUE(desk->SignOut(leaving.token));
  EXPECT_FALSE(desk->Authenticate(leaving.token));

  auto revoked = desk->SignIn(code(), "192.0.2.1").value();
  auto pending = desk->Reissue("dave", "local:root").value();
  ASSERT_TRUE(desk->Revoke("dave", "operator:alice"));
  EXPECT_FALSE(desk->Authenticate(revoked.token));
  EXPECT_FALSE(desk->SignIn(pending.code, "192.0.2.1"));
  EXPECT_EQ(desk->List().value()[0].State(clock_.Now()), "revoked");
  EXPECT_EQ(desk->Reissue("dave", "local:root").error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(desk->Authenticate("not a token").error().code(), ErrorCode::kUnauthenticated);
}

TEST_F(OperatorDeskTest, OnlyTheOperatorsNewestUnexpiredCertificateSignsAScriptIn) {
  auto desk = Open();
  ASSERT_TRUE(desk->Add("backup-job", Role::kAuditor, "", "local:root"));
  EXPECT_EQ(desk->AuthenticateCertificate("backup-job", "").error().code(),
            ErrorCode::kUnauthenticated)
      << "an operator without a certificate";
  SystemTime until = clock_.Now() + std::chrono::hours(24);
  ASSERT_TRUE(desk->BindCertificate("backup-job", "0a1b", until, "local:root"));
  auto session = desk->AuthenticateCertificate("backup-job", "0a1b");
  ASSERT_TRUE(session) << session.error().ToString();
  EXPECT_EQ(session->holder.role, Role::kAuditor);
  EXPECT_TRUE(session->token.empty());
  EXPECT_FALSE(desk->AuthenticateCertificate("backup-job", "0a1c")) << "another serial";
  EXPECT_FALSE(desk->AuthenticateCertificate("someone", "0a1b")) << "another name";

  ASSERT_TRUE(desk->BindCertificate("backup-job", "0c0d", until, "local:root"));
  EXPECT_FALSE(desk->AuthenticateCertificate("backup-job", "0a1b")) << "the replaced one";
  ASSERT_TRUE(desk->AuthenticateCertificate("backup-job", "0c0d"));
  clock_.Advance(std::chrono::hours(25));
  EXPECT_THAT(desk->AuthenticateCertificate("backup-job", "0c0d").error().message(),
              HasSubstr("expired"));
  ASSERT_TRUE(desk->BindCertificate("backup-job", "0e0f", clock_.Now() + std::chrono::hours(1),
                                    "local:root"));
  ASSERT_TRUE(desk->Revoke("backup-job", "local:root"));
  EXPECT_THAT(desk->AuthenticateCertificate("backup-job", "0e0f").error().message(),
              HasSubstr("revoked"));
  EXPECT_EQ(desk->BindCertificate("backup-job", "1111", until, "local:root").error().code(),
            ErrorCode::kFailedPrecondition);
  auto events = Events();
  EXPECT_THAT(events[1], HasSubstr("operator.certificate_issued operator:backup-job"));
  EXPECT_THAT(events[2], HasSubstr("\"replaces\":\"0a1b\""));
}

TEST_F(OperatorDeskTest, AnOperatorKeepsAtMostItsCapOfSessionsDroppingTheOldest) {
  DeskPolicy policy;
  policy.max_sessions_per_operator = 3;
  auto desk = Open(policy);
  ASSERT_TRUE(desk->Add("erin", Role::kOwner, "", "local:root"));
  std::vector<Session> sessions;
  for (int i = 0; i < 4; ++i) {
    clock_.Advance(std::chrono::seconds(1));
    sessions.push_back(
        desk->SignIn(desk->Reissue("erin", "local:root").value().code, "192.0.2.1").value());
  }
  EXPECT_FALSE(desk->Authenticate(sessions[0].token));
  for (int i = 1; i < 4; ++i) {
    EXPECT_TRUE(desk->Authenticate(sessions[i].token)) << i;
  }
  EXPECT_EQ(desk->List().value()[0].sessions, 3);
}

TEST_F(OperatorDeskTest, FailedSignInsAreLimitedPerSourceAndForTheSite) {
  DeskPolicy policy;
  policy.sign_in.burst_total = 8;
  policy.sign_in.refill_total = std::chrono::seconds(600);
  auto desk = Open(policy);
  auto invitation = desk->Add("frank", Role::kOwner, "", "local:root").value();
  for (int i = 0; i < 5; ++i) {
    auto wrong = desk->SignIn("AAAAA-AAAAA-AAAAA-AAAAA-AAAAA", "198.51.100.7");
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code(), ErrorCode::kUnauthenticated);
  }
  // Even the right code is refused from that source now, unlooked at.
  auto limited = desk->SignIn(invitation.code, "198.51.100.7");
  ASSERT_FALSE(limited);
  EXPECT_EQ(limited.error().code(), ErrorCode::kRateLimited);
  EXPECT_THAT(limited.error().message(),
              HasSubstr("too many failed sign-ins from 198.51.100.7 (at most 5, then one per 60 "
                        "s); try again in 60 s"));
  clock_.Advance(std::chrono::seconds(60));
  EXPECT_EQ(desk->SignIn("garbage", "198.51.100.7").error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(desk->SignIn("garbage", "198.51.100.7").error().code(), ErrorCode::kRateLimited);

  // Other sources guessing together meet the site's limit (8 here, 6 spent above).
  EXPECT_EQ(desk->SignIn("garbage", "198.51.100.8").error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(desk->SignIn("garbage", "198.51.100.9").error().code(), ErrorCode::kUnauthenticated);
  auto site_wide = desk->SignIn(invitation.code, "198.51.100.10");
  ASSERT_FALSE(site_wide);
  EXPECT_THAT(site_wide.error().message(), HasSubstr("too many failed sign-ins on this site"));
  clock_.Advance(std::chrono::seconds(600));
  EXPECT_EQ(desk->SignIn(invitation.code, "198.51.100.10").value().holder.name, "frank");
}

TEST_F(OperatorDeskTest, NamesRolesAndTenantsAreChecked) {
  auto desk = Open();
  EXPECT_EQ(desk->Add("", Role::kOwner, "", "x").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(desk->Add("-lead", Role::kOwner, "", "x").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(desk->Add(std::string(65, 'a'), Role::kOwner, "", "x").error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_THAT(desk->Add("gina", Role::kTenant, "", "x").error().message(),
              HasSubstr("a tenant operator names its tenant"));
  EXPECT_THAT(desk->Add("gina", Role::kAuditor, "flat-3", "x").error().message(),
              HasSubstr("only a tenant operator names a tenant"));
  auto tenant = desk->Add("gina@flat-3", Role::kTenant, "Flat 3", "x").value();
  EXPECT_EQ(tenant.holder.tenant, "Flat 3");
  EXPECT_EQ(desk->Add("gina@flat-3", Role::kOwner, "", "x").error().code(),
            ErrorCode::kAlreadyExists);
  EXPECT_EQ(desk->Revoke("nobody", "x").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(desk->List().value().size(), 1u);
}

TEST(CsrfTokenTest, FollowsTheSessionToken) {
  EXPECT_EQ(CsrfToken("abc"), CsrfToken("abc"));
  EXPECT_NE(CsrfToken("abc"), CsrfToken("abd"));
  EXPECT_EQ(CsrfToken("abc").size(), 43u);
}

}  // namespace
}  // namespace concierge::operators
