#include <array>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/simulated_clock.h"
#include "store/audit_log.h"
#include "store/postgres_sql.h"
#include "tests/support/test_database.h"

namespace concierge::store {
namespace {

using ::testing::HasSubstr;

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CONCIERGE_SKIP_UNLESS_READY(database_);
    db_ = database_.Open();
    chain_ = std::make_unique<AuditChain>(*db_, clock_);
    std::array<std::string_view, 1> migrations{kAuditSchema};
    EXPECT_TRUE(Migrate(*db_, migrations));
    for (int i = 0; i < 5; ++i) {
      EXPECT_TRUE(
          chain_->Append("thing.changed", "device:" + std::to_string(i % 2), Json{{"i", i}}));
      clock_.Advance(std::chrono::seconds(1));
    }
  }

  std::vector<AuditRecord> Records() { return ReadAuditEvents(*db_).value(); }

  SimulatedClock clock_;
  testing::TestDatabase database_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<AuditChain> chain_;
};

TEST_F(AuditLogTest, APageComesNewestFirstFilteredInTheDatabase) {
  auto seqs = [](const AuditPage& page) {
    std::vector<int64_t> found;
    for (const AuditRecord& record : page.records) {
      found.push_back(record.seq);
    }
    return found;
  };
  auto all = ReadAuditPage(*db_, "", std::nullopt, 0, 2).value();
  EXPECT_EQ(all.total, 5u);
  EXPECT_EQ(seqs(all), (std::vector<int64_t>{5, 4}));
  auto one = ReadAuditPage(*db_, "device:0", std::nullopt, 1, 1).value();
  EXPECT_EQ(one.total, 3u);
  EXPECT_EQ(seqs(one), (std::vector<int64_t>{3}));
  auto within = ReadAuditPage(*db_, "", std::vector<std::string>{"device:1", "device:9"}, 0, 10);
  ASSERT_TRUE(within);
  EXPECT_EQ(within->total, 2u);
  EXPECT_EQ(seqs(*within), (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(ReadAuditPage(*db_, "", std::vector<std::string>{}, 0, 10).value().total, 0u);
  EXPECT_EQ(
      ReadAuditPage(*db_, "device:0", std::vector<std::string>{"device:1"}, 0, 10).value().total,
      0u);
}

TEST_F(AuditLogTest, ChainVerifies) {
  auto records = Records();
  ASSERT_EQ(records.size(), 5u);
  EXPECT_TRUE(VerifyAuditChain(records));
  EXPECT_EQ(ReadAuditEvents(*db_, "device:1").value().size(), 2u);
}

TEST_F(AuditLogTest, AnyChangeBreaksTheChainWhereItHappened) {
  auto changed = Records();
  changed[2].detail = R"({"i":99})";
  auto status = VerifyAuditChain(changed);
  ASSERT_FALSE(status);
  EXPECT_THAT(status.error().message(), HasSubstr("audit record 3"));

  auto dropped = Records();
  dropped.erase(dropped.begin() + 1);
  EXPECT_THAT(VerifyAuditChain(dropped).error().message(), HasSubstr("missing or reordered"));

  auto rehashed = Records();
  rehashed[1].kind = "forged";
  rehashed[1].hash = ComputeAuditHash(rehashed[1]);  // recomputed, but the next link breaks
  EXPECT_THAT(VerifyAuditChain(rehashed).error().message(), HasSubstr("audit record 3"));
}

TEST_F(AuditLogTest, EditedDatabaseRowIsDetected) {
  ASSERT_TRUE(db_->Exec("UPDATE audit_events SET subject = 'device:9' WHERE seq = 4"));
  EXPECT_FALSE(VerifyAuditChain(Records()));
}

TEST_F(AuditLogTest, JsonFormRoundTrips) {
  for (const auto& record : Records()) {
    auto parsed = AuditRecordFromJson(AuditRecordToJson(record).dump());
    ASSERT_TRUE(parsed) << parsed.error().ToString();
    EXPECT_EQ(parsed->hash, record.hash);
    EXPECT_EQ(ComputeAuditHash(*parsed), record.hash);
  }
  EXPECT_FALSE(AuditRecordFromJson(R"({"seq": 1})"));
}

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CONCIERGE_SKIP_UNLESS_READY(database_);
    db_ = database_.Open();
  }

  testing::TestDatabase database_;
  std::unique_ptr<Database> db_;
};

TEST_F(DatabaseTest, TransactionRollsBackUnlessCommitted) {
  Database& db = *db_;
  ASSERT_TRUE(db.Exec("CREATE TABLE t (x INTEGER PRIMARY KEY)"));
  {
    auto tx = Transaction::Begin(db).value();
    ASSERT_TRUE(db.Exec("INSERT INTO t VALUES (1)"));
  }
  auto count = db.Prepare("SELECT count(*) FROM t").value();
  ASSERT_TRUE(count.Step().value());
  EXPECT_EQ(count.Int(0), 0);
  ASSERT_TRUE(db.Exec("INSERT INTO t VALUES (1)"));
  auto duplicate = db.Exec("INSERT INTO t VALUES (1)");
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code(), ErrorCode::kAlreadyExists);
}

TEST_F(DatabaseTest, AfterCommitRunsOnlyOnceTheChangeIsCommitted) {
  Database& db = *db_;
  std::vector<std::string> told;
  {
    auto tx = Transaction::Begin(db).value();
    db.AfterCommit([&] { told.push_back("rolled back"); });
  }
  {
    auto tx = Transaction::Begin(db).value();
    db.AfterCommit([&] { told.push_back("first"); });
    db.AfterCommit([&] { told.push_back("second"); });
    EXPECT_TRUE(told.empty()) << "nothing is told before the commit";
    ASSERT_TRUE(tx.Commit());
  }
  db.AfterCommit([&] { told.push_back("no transaction"); });
  EXPECT_EQ(told, (std::vector<std::string>{"first", "second", "no transaction"}));
}

TEST_F(AuditLogTest, AListenerHearsCommittedEventsOnly) {
  struct Recorder : AuditListener {
    void Recorded(const AuditRecord& record) override { seqs.push_back(record.seq); }

    std::vector<int64_t> seqs;
  } recorder;

  chain_->Listen(&recorder);
  {
    auto tx = Transaction::Begin(*db_).value();
    ASSERT_TRUE(chain_->Append("thing.dropped", "device:0", Json::object()));
  }
  {
    auto tx = Transaction::Begin(*db_).value();
    ASSERT_TRUE(chain_->Append("thing.kept", "device:0", Json::object()));
    ASSERT_TRUE(chain_->Append("thing.kept", "device:1", Json::object()));
    ASSERT_TRUE(tx.Commit());
  }
  EXPECT_EQ(recorder.seqs, (std::vector<int64_t>{6, 7}));
  EXPECT_TRUE(VerifyAuditChain(Records()));
}

TEST_F(DatabaseTest, AStatementRunsAgainWithNewValues) {
  Database& db = *db_;
  ASSERT_TRUE(db.Exec("CREATE TABLE t (x INTEGER PRIMARY KEY)"));
  auto insert = db.Prepare("INSERT INTO t VALUES (?)").value();
  for (int64_t x : {1, 2, 3}) {
    ASSERT_TRUE(insert.BindAll(x).Run()) << x;
  }
  auto sum = db.Prepare("SELECT sum(x) FROM t").value();
  ASSERT_TRUE(sum.Step().value());
  EXPECT_EQ(sum.Int(0), 6);
}

TEST_F(DatabaseTest, RefusesASchemaNewerThanTheProgram) {
  Database& db = *db_;
  ASSERT_TRUE(db.SetSchemaVersion(7));
  std::array<std::string_view, 1> migrations{kAuditSchema};
  auto status = Migrate(db, migrations);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code(), ErrorCode::kFailedPrecondition);
}

TEST(PostgreSqlFromSqliteTest, RewritesTheDialectOutsideStringLiterals) {
  EXPECT_EQ(PostgreSqlFromSqlite("SELECT a FROM t WHERE b = ? AND c LIKE ? ESCAPE '\\'"),
            "SELECT a FROM t WHERE b = $1 AND c ILIKE $2 ESCAPE '\\'");
  EXPECT_EQ(PostgreSqlFromSqlite("SELECT '?', 'it''s ?', \"?\" FROM t WHERE x = ?"),
            "SELECT '?', 'it''s ?', \"?\" FROM t WHERE x = $1");
  EXPECT_EQ(PostgreSqlFromSqlite("CREATE TABLE t (\n  id INTEGER PRIMARY KEY, -- it's ?\n"
                                 "  data BLOB NOT NULL DEFAULT x'', n integer,"
                                 " CHECK (n IN (1, 2)));\nCREATE INDEX i ON t(n)"),
            "CREATE TABLE t (\n  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
            " -- it's ?\n  data BYTEA NOT NULL DEFAULT '\\x'::bytea, n BIGINT,"
            " CHECK (n IN (1, 2)), rowid BIGINT GENERATED ALWAYS AS IDENTITY);\n"
            "CREATE INDEX i ON t(n)");
  EXPECT_EQ(PostgreSqlFromSqlite("INSERT OR IGNORE INTO m(a, b) VALUES (?, x'0aFF'); "
                                 "INSERT INTO n VALUES (?)"),
            "INSERT INTO m(a, b) VALUES ($1, '\\x0aFF'::bytea) ON CONFLICT DO NOTHING; "
            "INSERT INTO n VALUES ($2)");
  EXPECT_EQ(PostgreSqlFromSqlite("SELECT a FROM t ORDER BY a LIMIT -1 OFFSET ?"),
            "SELECT a FROM t ORDER BY a LIMIT ALL OFFSET $1");
  EXPECT_EQ(PostgreSqlFromSqlite("SELECT max(x), index_xor FROM t"),
            "SELECT max(x), index_xor FROM t")
      << "only whole words change, and x' only after a word boundary";
}

}  // namespace
}  // namespace concierge::store
