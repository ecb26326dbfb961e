// A writer that gathers: requests that arrive within the gather delay of the
// oldest queued one commit together, a lone request still commits once the
// delay has passed, and stopping commits what is being gathered.
#include <future>

#include "pg_fixture.hpp"

namespace sb::pgtest {
namespace {

using namespace std::chrono_literals;
using store::IngestOutcome;

class IngestGatherTest : public StoreDb {
 protected:
  std::unique_ptr<store::GroupCommitWriter> GatheringWriter(std::chrono::microseconds delay, std::size_t batch) {
    store::GroupCommitWriter::Options options;
    options.database_url = url_;
    options.writers = 1;
    options.gather_delay = delay;
    options.gather_batch = batch;
    return std::make_unique<store::GroupCommitWriter>(options, nullptr);
  }

  std::future<IngestOutcome> SubmitLater(store::GroupCommitWriter& writer, const std::string& contact,
                                         const std::string& provider_id) {
    return std::async(std::launch::async, [&writer, r = OneMessage(whatsapp_, contact, provider_id)]() mutable {
      return writer.SubmitSync(std::move(r));
    });
  }

  /// Waits (up to 5 s) until `writer` holds a request.
  static bool WaitUntilQueued(const store::GroupCommitWriter& writer) {
    for (int i = 0; i < 500 && writer.BacklogBytes() == 0; ++i) std::this_thread::sleep_for(10ms);
    return writer.BacklogBytes() > 0;
  }

  /// The transaction that stored `provider_id` (its row's xmin).
  std::string StoredBy(const std::string& provider_id) {
    return Value("SELECT xmin::text FROM messages WHERE business_id = " + std::to_string(business_) +
                 " AND provider_message_id = " + conn_->quote(provider_id));
  }
};

TEST_F(IngestGatherTest, RequestsArrivingWithinTheDelayCommitTogether) {
  auto writer = GatheringWriter(std::chrono::seconds(30), 2);
  auto first = SubmitLater(*writer, "15550101", "wamid.gather.1");
  ASSERT_TRUE(WaitUntilQueued(*writer)) << "expected the first request queued";
  // Without gathering it would commit alone now; it waits for a second.
  EXPECT_EQ(first.wait_for(300ms), std::future_status::timeout) << "expected the first request to wait for company";
  auto second = SubmitLater(*writer, "15550102", "wamid.gather.2");
  ASSERT_EQ(first.wait_for(10s), std::future_status::ready);
  ASSERT_EQ(second.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(first.get().messages, 1);
  EXPECT_EQ(second.get().messages, 1);
  EXPECT_EQ(StoredBy("wamid.gather.1"), StoredBy("wamid.gather.2"))
      << "expected both requests committed in one transaction";
  writer->Stop();
}

TEST_F(IngestGatherTest, ALoneRequestCommitsOnceTheDelayPassed) {
  auto writer = GatheringWriter(200ms, 16);
  auto only = SubmitLater(*writer, "15550103", "wamid.gather.alone");
  ASSERT_EQ(only.wait_for(10s), std::future_status::ready) << "expected the request committed after the delay";
  EXPECT_EQ(only.get().messages, 1);
  EXPECT_NE(StoredBy("wamid.gather.alone"), "<null>");
  writer->Stop();
}

TEST_F(IngestGatherTest, StoppingCommitsWhatIsBeingGathered) {
  auto writer = GatheringWriter(std::chrono::seconds(60), 16);
  auto pending = SubmitLater(*writer, "15550104", "wamid.gather.stop");
  ASSERT_TRUE(WaitUntilQueued(*writer)) << "expected the request queued";
  writer->Stop();
  ASSERT_EQ(pending.wait_for(10s), std::future_status::ready) << "expected Stop to commit the gathered request";
  EXPECT_EQ(pending.get().messages, 1);
  EXPECT_NE(StoredBy("wamid.gather.stop"), "<null>");
}

}  // namespace
}  // namespace sb::pgtest
