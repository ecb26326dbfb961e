// When the database cannot take a request in time the writer says so at
// once (Unavailable, answered 503) and stores nothing.
#include <future>

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
  // while it is queued behind it.
  writer_ = MakeWriter(1);
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
