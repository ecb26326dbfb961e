// A customer message is stored once, whatever the re-deliveries: twice in a
// row, twice in one body, several copies in one group-commit batch, copies
// racing through concurrent batches.
#include <future>
#include <latch>
#include <thread>

#include "pg_fixture.hpp"

namespace sb::pgtest {
namespace {

using namespace std::chrono_literals;
using store::IngestOutcome;

class IngestDedupTest : public StoreDb {
 protected:
  std::int64_t Rows(const std::string& provider_id) {
    return Count("SELECT count(*) FROM messages WHERE business_id = " + std::to_string(business_) +
                 " AND provider_message_id = " + conn_->quote(provider_id));
  }
};

TEST_F(IngestDedupTest, SameRequestTwiceIsStoredOnce) {
  IngestOutcome first = writer_->SubmitSync(OneMessage(whatsapp_, "15550001", "wamid.twice"));
  EXPECT_EQ(first.messages, 1) << "expected the first delivery to store its message";
  EXPECT_EQ(first.duplicates, 0) << "expected no duplicate on the first delivery";

  IngestOutcome second = writer_->SubmitSync(OneMessage(whatsapp_, "15550001", "wamid.twice"));
  EXPECT_EQ(second.messages, 0) << "expected the re-delivery to store nothing new";
  EXPECT_EQ(second.duplicates, 1) << "expected the re-delivery to count as one duplicate";
  EXPECT_EQ(Rows("wamid.twice"), 1) << "expected exactly one row for the provider id after two deliveries";
}

TEST_F(IngestDedupTest, SameProviderIdTwiceInOneRequestIsStoredOnce) {
  IngestRequest r = OneMessage(whatsapp_, "15550002", "wamid.inbody", "first copy");
  r.parsed.messages.push_back(Text(whatsapp_, "15550002", "wamid.inbody", "second copy"));
  r.parsed.messages.push_back(Text(whatsapp_, "15550002", "wamid.other", "another message"));

  IngestOutcome out = writer_->SubmitSync(std::move(r));
  EXPECT_EQ(out.messages, 2) << "expected wamid.inbody and wamid.other stored once each";
  EXPECT_EQ(out.duplicates, 1) << "expected the second copy of wamid.inbody counted as a duplicate";
  EXPECT_EQ(Rows("wamid.inbody"), 1) << "expected one row for a provider id carried twice in one body";
  EXPECT_EQ(Value("SELECT text FROM messages WHERE business_id = " + std::to_string(business_) +
                  " AND provider_message_id = 'wamid.inbody'"),
            "first copy")
      << "expected the first copy in body order to be the one stored";
  EXPECT_EQ(Rows("wamid.other"), 1);
}

TEST_F(IngestDedupTest, CopiesInOneBatchAreStoredOnce) {
  // One writer thread: the first request blocks on the archive lock while
  // the copies queue, so the copies are committed together in one batch.
  writer_ = MakeWriter(1);
  ArchiveLock lock(url_);
  auto blocker = std::async(std::launch::async,
                            [&] { return writer_->SubmitSync(OneMessage(whatsapp_, "15550003", "wamid.blocker")); });
  ASSERT_TRUE(WaitForBlockedSession()) << "expected the first batch to wait for the archive lock";

  constexpr int kCopies = 6;
  std::size_t expected_backlog = writer_->BacklogBytes();
  std::vector<std::future<IngestOutcome>> copies;
  for (int i = 0; i < kCopies; ++i) {
    IngestRequest r = OneMessage(whatsapp_, "15550003", "wamid.batched", "copy " + std::to_string(i));
    expected_backlog += BacklogBytesOf(r);
    copies.push_back(
        std::async(std::launch::async, [&, r = std::move(r)]() mutable { return writer_->SubmitSync(std::move(r)); }));
  }
  ASSERT_TRUE(WaitForBacklog(expected_backlog)) << "expected all copies queued behind the blocked batch";
  lock.Release();

  EXPECT_EQ(blocker.get().messages, 1) << "expected the blocked request to commit once the lock is released";
  int messages = 0;
  int duplicates = 0;
  for (auto& f : copies) {
    IngestOutcome out = f.get();
    messages += out.messages;
    duplicates += out.duplicates;
  }
  EXPECT_EQ(messages, 1) << "expected exactly one copy in the batch to count as stored";
  EXPECT_EQ(duplicates, kCopies - 1) << "expected every other copy in the batch to count as a duplicate";
  EXPECT_EQ(Rows("wamid.batched"), 1) << "expected one row for a provider id carried by several requests of a batch";
  EXPECT_EQ(Count("SELECT count(*) FROM conversations WHERE business_id = " + std::to_string(business_)), 1)
      << "expected the contact's messages to share one conversation";
}

TEST_F(IngestDedupTest, ConcurrentCopiesAcrossWritersAreStoredOnce) {
  writer_ = MakeWriter(4);
  constexpr int kThreads = 8;
  constexpr int kRounds = 5;
  for (int round = 0; round < kRounds; ++round) {
    std::string id = "wamid.race" + std::to_string(round);
    std::latch start(kThreads);
    std::vector<std::future<IngestOutcome>> outs;
    for (int t = 0; t < kThreads; ++t) {
      outs.push_back(std::async(std::launch::async, [&, t] {
        IngestRequest r = OneMessage(whatsapp_, "1555000" + std::to_string(round), id, "thread " + std::to_string(t));
        start.arrive_and_wait();
        return writer_->SubmitSync(std::move(r));
      }));
    }
    int messages = 0;
    int duplicates = 0;
    for (auto& f : outs) {
      IngestOutcome out = f.get();
      messages += out.messages;
      duplicates += out.duplicates;
    }
    EXPECT_EQ(messages, 1) << "round " << round << ": expected exactly one of " << kThreads
                           << " concurrent deliveries to count as stored";
    EXPECT_EQ(duplicates, kThreads - 1) << "round " << round << ": expected the other deliveries to be duplicates";
    EXPECT_EQ(Rows(id), 1) << "round " << round << ": expected one row for the provider id";
  }
  EXPECT_EQ(Count("SELECT count(*) FROM conversations WHERE business_id = " + std::to_string(business_)), kRounds)
      << "expected one conversation per contact, however the deliveries raced";
}

TEST_F(IngestDedupTest, SameProviderIdOnTwoChannelsIsTwoMessages) {
  // Uniqueness is per channel: two phone numbers may see equal ids.
  TestChannel second = CreateChannel(business_, "whatsapp");
  EXPECT_EQ(writer_->SubmitSync(OneMessage(whatsapp_, "15550009", "wamid.shared")).messages, 1);
  EXPECT_EQ(writer_->SubmitSync(OneMessage(second, "15550009", "wamid.shared")).messages, 1)
      << "expected the same provider id on another channel to be a new message";
  EXPECT_EQ(Rows("wamid.shared"), 2) << "expected one row per channel";
}

}  // namespace
}  // namespace sb::pgtest
