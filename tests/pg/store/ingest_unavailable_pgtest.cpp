// When the database cannot take a request in time the writer says so at
// once (Unavailable, answered 503) and stores nothing.
#include <future>
#include <thread>
#include <typeinfo>

#include "pg_fixture.hpp"

namespace sb::pgtest {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kClosedPortUrl = "postgresql://postgres@127.0.0.1:1/postgres";

TestChannel SomeChannel() { return TestChannel{ChannelRef{"phone-1", false}, ChannelKey{1, 1}}; }

// Needs no database: nothing listens on port 1.
TEST(IngestUnreachableTest, ClosedPortThrowsUnavailablePromptly) {
  store::GroupCommitWriter::Options options;
  options.database_url = kClosedPortUrl;
  store::GroupCommitWriter writer(options, nullptr);

  for (int attempt = 0; attempt < 2; ++attempt) {
    auto start = Clock::now();
    EXPECT_THROW(writer.SubmitSync(OneMessage(SomeChannel(), "15550000", "wamid.lost")), store::Unavailable)
        << "attempt " << attempt << ": expected Unavailable when the database refuses connections";
    EXPECT_LT(Clock::now() - start, 5s) << "attempt " << attempt << ": expected the answer within 5 s";
  }
  auto start = Clock::now();
  EXPECT_THROW(Blocking(writer.Submit(OneMessage(SomeChannel(), "15550000", "wamid.lost"))), store::Unavailable)
      << "expected the awaitable Submit to throw Unavailable too";
  EXPECT_LT(Clock::now() - start, 5s) << "expected the awaitable Submit to answer within 5 s";
  writer.Stop();
}

TEST(IngestUnreachableTest, MigrateOnClosedPortThrowsUnavailable) {
  EXPECT_THROW(store::Migrate(kClosedPortUrl), store::Unavailable)
      << "expected Migrate to report an unreachable database as Unavailable";
}

class IngestUnavailableTest : public StoreDb {
 protected:
  std::int64_t RowsOfBusiness(const std::string& table) {
    return Count("SELECT count(*) FROM " + table + " WHERE business_id = " + std::to_string(business_));
  }

  void ExpectNothingStored() {
    for (const char* table : {"messages", "contacts", "conversations", "webhook_archive", "pending_statuses"}) {
      EXPECT_EQ(RowsOfBusiness(table), 0) << "expected no row in " << table << " for a request that was refused";
    }
  }
};

TEST_F(IngestUnavailableTest, PassedDeadlineThrowsUnavailableAndStoresNothing) {
  IngestRequest r = OneMessage(whatsapp_, "15555001", "wamid.late");
  r.parsed.statuses.push_back(Status(whatsapp_, "wamid.late-status", "read"));
  r.deadline = Clock::now() - 1s;
  auto start = Clock::now();
  EXPECT_THROW(writer_->SubmitSync(std::move(r)), store::Unavailable)
      << "expected Unavailable for a request whose deadline already passed";
  EXPECT_LT(Clock::now() - start, 2s) << "expected the refusal at once";
  ExpectNothingStored();

  // The writer is still fine for the next, timely request.
  EXPECT_EQ(writer_->SubmitSync(OneMessage(whatsapp_, "15555001", "wamid.timely")).messages, 1)
      << "expected a timely request after a late one to be stored";
}

TEST_F(IngestUnavailableTest, DeadlinePassingWhileQueuedThrowsUnavailable) {
  // The first batch waits on a lock; the second request's deadline passes
  // while it is queued behind it. (Admission allows any deadline here: the
  // queue may be as old as the whole statement timeout.)
  writer_ = MakeWriter(1, 4000ms);
  ArchiveLock lock(url_);
  auto blocker = std::async(std::launch::async,
                            [&] { return writer_->SubmitSync(OneMessage(whatsapp_, "15555002", "wamid.first")); });
  ASSERT_TRUE(WaitForBlockedSession()) << "expected the first batch to wait for the archive lock";
  IngestRequest late = OneMessage(whatsapp_, "15555003", "wamid.expires");
  late.deadline = Clock::now() + 200ms;
  auto queued =
      std::async(std::launch::async, [&, r = std::move(late)]() mutable { return writer_->SubmitSync(std::move(r)); });
  std::this_thread::sleep_for(400ms);
  lock.Release();

  EXPECT_EQ(blocker.get().messages, 1) << "expected the blocked request to commit";
  EXPECT_THROW(queued.get(), store::Unavailable) << "expected Unavailable once the deadline passed in the queue";
  EXPECT_EQ(Count("SELECT count(*) FROM messages WHERE provider_message_id = 'wamid.expires'"), 0)
      << "expected the expired request not stored";
}

TEST_F(IngestUnavailableTest, LockHeldTooLongThrowsUnavailable) {
  // Housekeeping (attaching an archive partition) or a long transaction can
  // hold a lock the batch needs; that is "cannot commit in time" (503), not
  // a body the database rejects.
  ArchiveLock lock(url_);
  auto start = Clock::now();
  auto submitted = std::async(std::launch::async,
                              [&] { return writer_->SubmitSync(OneMessage(whatsapp_, "15555005", "wamid.locked")); });
  bool answered = submitted.wait_for(8s) == std::future_status::ready;
  auto elapsed = Clock::now() - start;
  lock.Release();
  EXPECT_TRUE(answered) << "expected an answer while the lock is still held";
  EXPECT_LT(elapsed, 5s) << "expected the answer within Meta's 5 s";
  try {
    submitted.get();
    ADD_FAILURE() << "expected Unavailable while the archive is locked; the request was stored";
  } catch (const store::Unavailable&) {
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected store::Unavailable (503, retry) while a lock is held past the lock timeout; got "
                  << typeid(e).name() << ": " << e.what();
  }
}

/// Makes inserting a message whose provider id starts with "slow." take
/// `seconds` (a trigger in the throw-away database), until destroyed.
class SlowInsert {
 public:
  SlowInsert(pqxx::connection& conn, double seconds) : conn_(conn) {
    pqxx::work tx(conn_);
    tx.exec0("CREATE FUNCTION pgtest_slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(" +
             std::to_string(seconds) + "); RETURN NEW; END $$");
    tx.exec0(
        "CREATE TRIGGER pgtest_slow_insert BEFORE INSERT ON messages FOR EACH ROW "
        "WHEN (NEW.provider_message_id LIKE 'slow.%') EXECUTE FUNCTION pgtest_slow_insert()");
    tx.commit();
  }
  ~SlowInsert() {
    pqxx::work tx(conn_);
    tx.exec0("DROP TRIGGER pgtest_slow_insert ON messages");
    tx.exec0("DROP FUNCTION pgtest_slow_insert()");
    tx.commit();
  }

 private:
  pqxx::connection& conn_;
};

TEST_F(IngestUnavailableTest, SlowBatchIsCutAtTheStatementTimeout) {
  SlowInsert slow(*conn_, 2.5);
  store::GroupCommitWriter::Options options;
  options.database_url = url_;
  options.statement_timeout = 500ms;
  store::GroupCommitWriter writer(options, nullptr);

  // A body with a status too: the batch runs as a transaction.
  IngestRequest mixed = OneMessage(whatsapp_, "15555006", "slow.mixed");
  mixed.parsed.statuses.push_back(Status(whatsapp_, "wamid.any", "read"));
  auto start = Clock::now();
  EXPECT_THROW(writer.SubmitSync(std::move(mixed)), store::Unavailable)
      << "expected Unavailable when a batch with statuses outlives statement_timeout (500 ms)";
  EXPECT_LT(Clock::now() - start, 2s) << "expected the batch with statuses cut at statement_timeout (500 ms)";

  // Messages only: the common path, one statement.
  start = Clock::now();
  try {
    writer.SubmitSync(OneMessage(whatsapp_, "15555006", "slow.only"));
    ADD_FAILURE() << "expected Unavailable when a messages-only batch outlives statement_timeout (500 ms); it "
                     "committed after "
                  << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count() << " ms";
  } catch (const store::Unavailable&) {
    EXPECT_LT(Clock::now() - start, 2s) << "expected the messages-only batch cut at statement_timeout (500 ms)";
  }
  writer.Stop();
}

TEST_F(IngestUnavailableTest, OneRejectedBodyDoesNotFailItsBatch) {
  writer_ = MakeWriter(1);
  ArchiveLock lock(url_);
  auto blocker = std::async(std::launch::async,
                            [&] { return writer_->SubmitSync(OneMessage(whatsapp_, "15555007", "wamid.head")); });
  ASSERT_TRUE(WaitForBlockedSession()) << "expected the first batch to wait for the archive lock";

  // A channel id that is not registered breaks a foreign key: the database
  // rejects this one body.
  TestChannel unregistered{whatsapp_.ref, ChannelKey{business_, whatsapp_.key.channel_id + 100000}};
  std::vector<IngestRequest> requests;
  requests.push_back(OneMessage(whatsapp_, "15555008", "wamid.good1"));
  requests.push_back(OneMessage(unregistered, "15555009", "wamid.bad"));
  requests.push_back(OneMessage(whatsapp_, "15555010", "wamid.good2"));
  std::size_t backlog = writer_->BacklogBytes();
  std::vector<std::future<store::IngestOutcome>> outs;
  for (auto& r : requests) {
    backlog += BacklogBytesOf(r);
    outs.push_back(
        std::async(std::launch::async, [&, r = std::move(r)]() mutable { return writer_->SubmitSync(std::move(r)); }));
  }
  ASSERT_TRUE(WaitForBacklog(backlog)) << "expected the three requests queued behind the blocked batch";
  lock.Release();

  EXPECT_EQ(blocker.get().messages, 1);
  EXPECT_EQ(outs[0].get().messages, 1) << "expected the good body before the bad one stored";
  EXPECT_ANY_THROW(outs[1].get()) << "expected the body the database rejects to fail";
  EXPECT_EQ(outs[2].get().messages, 1) << "expected the good body after the bad one stored";
  EXPECT_EQ(Count("SELECT count(*) FROM messages WHERE business_id = " + std::to_string(business_)), 3)
      << "expected the three good messages stored and the bad one not";
}

TEST_F(IngestUnavailableTest, QueueOlderThanMaxQueueDelayShedsNewRequestsAtOnce) {
  writer_ = MakeWriter(1, 300ms);
  ArchiveLock lock(url_);
  auto blocker = std::async(std::launch::async,
                            [&] { return writer_->SubmitSync(OneMessage(whatsapp_, "15555011", "wamid.blocker")); });
  ASSERT_TRUE(WaitForBlockedSession()) << "expected the first batch to wait for the archive lock";
  IngestRequest waiting = OneMessage(whatsapp_, "15555012", "wamid.waiting");
  const std::size_t backlog = writer_->BacklogBytes() + BacklogBytesOf(waiting);
  auto queued = std::async(std::launch::async,
                           [&, r = std::move(waiting)]() mutable { return writer_->SubmitSync(std::move(r)); });
  ASSERT_TRUE(WaitForBacklog(backlog)) << "expected the second request queued behind the blocked batch";
  std::this_thread::sleep_for(500ms);  // the queue is now older than 300 ms

  auto start = Clock::now();
  EXPECT_THROW(writer_->SubmitSync(OneMessage(whatsapp_, "15555013", "wamid.shed")), store::Overloaded)
      << "expected Overloaded for a request arriving behind a queue older than max_queue_delay";
  EXPECT_LT(Clock::now() - start, 1s) << "expected the refusal at once, not after a wait in the queue";
  lock.Release();

  EXPECT_EQ(blocker.get().messages, 1) << "expected the blocked request to commit";
  EXPECT_EQ(queued.get().messages, 1) << "expected the queued request (admitted before the queue aged) to commit";
  EXPECT_EQ(Count("SELECT count(*) FROM messages WHERE provider_message_id = 'wamid.shed'"), 0)
      << "expected the shed request not stored";
  EXPECT_EQ(writer_->SubmitSync(OneMessage(whatsapp_, "15555013", "wamid.after")).messages, 1)
      << "expected requests admitted again once the queue drained";
}

TEST_F(IngestUnavailableTest, RequestWithLessThanACommitsTimeLeftIsShed) {
  // Statement timeout 4 s, max queue delay 1 s: a request must have 3 s left.
  IngestRequest late = OneMessage(whatsapp_, "15555014", "wamid.too-late");
  late.deadline = Clock::now() + 2s;
  EXPECT_THROW(writer_->SubmitSync(std::move(late)), store::Overloaded)
      << "expected Overloaded for a request with 2 s left when a commit may take 3 s";
  IngestRequest timely = OneMessage(whatsapp_, "15555014", "wamid.in-time");
  timely.deadline = Clock::now() + 3500ms;
  EXPECT_EQ(writer_->SubmitSync(std::move(timely)).messages, 1) << "expected a request with 3.5 s left stored";
}

TEST_F(IngestUnavailableTest, BatchStatementsEndAtTheEarliestDeadline) {
  // Inserting this message takes 4 s and the statement timeout is 8 s, but
  // the request's deadline is 1.5 s away: the batch must give up then (503)
  // instead of committing long after its answer was due.
  SlowInsert slow(*conn_, 4.0);
  store::GroupCommitWriter::Options options;
  options.database_url = url_;
  options.writers = 1;
  options.statement_timeout = 8s;
  options.max_queue_delay = 8s;  // admit whatever the deadline
  store::GroupCommitWriter writer(options, nullptr);
  IngestRequest r = OneMessage(whatsapp_, "15555015", "slow.bounded");
  r.deadline = Clock::now() + 1500ms;
  EXPECT_THROW(writer.SubmitSync(std::move(r)), store::Unavailable)
      << "expected Unavailable: the batch outlives its request's deadline (1.5 s), though not the 8 s timeout";
  writer.Stop();
  ExpectNothingStored();
}

TEST_F(IngestUnavailableTest, FullBacklogThrowsOverloaded) {
  store::GroupCommitWriter::Options options;
  options.database_url = url_;
  options.max_backlog_bytes = 1024;
  store::GroupCommitWriter small(options, nullptr);
  IngestRequest big = OneMessage(whatsapp_, "15555004", "wamid.big");
  big.body.append(4096, ' ');
  EXPECT_THROW(small.SubmitSync(std::move(big)), store::Overloaded)
      << "expected Overloaded for a body larger than the whole backlog";
  small.Stop();
  ExpectNothingStored();
}

}  // namespace
}  // namespace sb::pgtest
