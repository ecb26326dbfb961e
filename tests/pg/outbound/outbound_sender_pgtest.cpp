// OutboundSender against a real PostgreSQL and the fake Graph API: sends,
// retries (Retry-After, 5xx, timeouts), permanent failures, the wake-up,
// order within a conversation, several senders on one database, and the
// lease of a sender that died.
#include <map>
#include <set>

#include "outbound_fixture.hpp"

namespace sb::pgtest {
namespace {

using nlohmann::json;

class OutboundSenderTest : public OutboundDb {
 protected:
  /// The fake's requests once it has received `n` (waits up to 10 s).
  std::vector<json> WaitForRequests(std::size_t n, std::chrono::milliseconds timeout = 10s) {
    std::vector<json> requests;
    WaitFor(
        [&] {
          requests = fake_->Requests();
          return requests.size() >= n;
        },
        timeout);
    return requests;
  }

  static json GraphError(int code, const std::string& message) {
    return {{"error", {{"message", message}, {"type", "OAuthException"}, {"code", code}, {"fbtrace_id", "Afake"}}}};
  }
};

TEST_F(OutboundSenderTest, SendsAQueuedWhatsAppReply) {
  auto id = Queue(whatsapp_, "15551239999", "Your order #1001 shipped");
  StartSender(FastOptions());
  ASSERT_TRUE(StatusBecomes(id, "sent")) << "expected the reply sent; status " << Column(id, "status") << ", error "
                                         << Column(id, "error");

  auto requests = fake_->Requests();
  ASSERT_EQ(requests.size(), 1u) << "expected exactly one send call";
  const auto& r = requests[0];
  EXPECT_EQ(r["method"], "POST");
  EXPECT_EQ(r["path"], "/v21.0/" + whatsapp_.external_id + "/messages");
  EXPECT_EQ(r["headers"]["Authorization"], "Bearer " + whatsapp_.access_token)
      << "expected the channel's decrypted access token";
  EXPECT_EQ(r["headers"]["Content-Type"], "application/json");
  EXPECT_EQ(r["body"], json::parse(R"({"messaging_product":"whatsapp","recipient_type":"individual",
      "to":"15551239999","type":"text","text":{"body":"Your order #1001 shipped"}})"));

  EXPECT_EQ(Column(id, "provider_message_id"), "wamid.fake.1") << "expected the fake's id recorded";
  EXPECT_EQ(Column(id, "sent_at IS NOT NULL"), "t");
  EXPECT_EQ(Column(id, "attempts"), "1");
  EXPECT_EQ(Column(id, "error"), "<null>");
  EXPECT_EQ(Sends("whatsapp", "sent"), 1);
  EXPECT_NE(registry_.Render().find("switchboard_outbound_sends_total{kind=\"whatsapp\",result=\"sent\"} 1"),
            std::string::npos)
      << registry_.Render();
}

TEST_F(OutboundSenderTest, SendsMessengerRepliesWithAndWithoutTheHumanAgentTag) {
  auto plain = Queue(messenger_, "psid-1", "hello");
  auto tagged = Queue(messenger_, "psid-2", "still on it", ", tag", ", 'HUMAN_AGENT'");
  StartSender(FastOptions());
  ASSERT_TRUE(StatusBecomes(plain, "sent"));
  ASSERT_TRUE(StatusBecomes(tagged, "sent"));

  std::map<std::string, json> by_recipient;
  for (const auto& r : fake_->Requests()) {
    EXPECT_EQ(r["path"], "/v21.0/" + messenger_.external_id + "/messages");
    EXPECT_EQ(r["headers"]["Authorization"], "Bearer " + messenger_.access_token);
    by_recipient[r["body"]["recipient"]["id"]] = r["body"];
  }
  EXPECT_EQ(by_recipient["psid-1"],
            json::parse(R"({"recipient":{"id":"psid-1"},"messaging_type":"RESPONSE","message":{"text":"hello"}})"));
  EXPECT_EQ(by_recipient["psid-2"], json::parse(R"({"recipient":{"id":"psid-2"},"messaging_type":"MESSAGE_TAG",
      "tag":"HUMAN_AGENT","message":{"text":"still on it"}})"));
  EXPECT_EQ(Column(plain, "provider_message_id").rfind("m_fake.", 0), 0u)
      << "expected Messenger's message_id recorded, got " << Column(plain, "provider_message_id");
  EXPECT_EQ(Sends("messenger", "sent"), 2);
}

TEST_F(OutboundSenderTest, StatusThatArrivedBeforeTheSendIsApplied) {
  Sql("INSERT INTO pending_statuses (business_id, channel_id, provider_message_id, status) VALUES (" +
      std::to_string(business_) + ", " + std::to_string(whatsapp_.id) + ", 'wamid.fake.1', 'delivered')");
  auto id = Queue(whatsapp_, "15551230002", "hi");
  StartSender(FastOptions());
  ASSERT_TRUE(StatusBecomes(id, "delivered")) << "status " << Column(id, "status");
  EXPECT_EQ(Column(id, "provider_message_id"), "wamid.fake.1");
  EXPECT_EQ(Value("SELECT count(*) FROM pending_statuses WHERE business_id = " + std::to_string(business_)), "0")
      << "expected the pending status consumed";
}

TEST_F(OutboundSenderTest, RateLimitedSendWaitsForRetryAfter) {
  fake_->Script(json::array(
      {{{"status", 429}, {"headers", {{"Retry-After", "1"}}}, {"body", GraphError(4, "Application request limit")}}}));
  auto id = Queue(whatsapp_, "15551230003", "hi");
  StartSender(FastOptions());
  ASSERT_TRUE(StatusBecomes(id, "sent")) << "status " << Column(id, "status") << ", error " << Column(id, "error");

  auto requests = fake_->Requests();
  ASSERT_EQ(requests.size(), 2u) << "expected one 429 and one success";
  double waited = requests[1]["time"].get<double>() - requests[0]["time"].get<double>();
  EXPECT_GE(waited, 1.0) << "expected the retry no sooner than Retry-After";
  EXPECT_LT(waited, 5.0);
  EXPECT_EQ(Column(id, "attempts"), "2") << "expected it sent on the second attempt";
  EXPECT_EQ(Column(id, "provider_message_id"), "wamid.fake.2");
  EXPECT_EQ(Sends("whatsapp", "retry"), 1);
  EXPECT_EQ(Sends("whatsapp", "sent"), 1);
}

TEST_F(OutboundSenderTest, ServerErrorsAreRetriedUntilSuccess) {
  fake_->Script(json::array({{{"status", 500}, {"body", GraphError(2, "Service temporarily unavailable")}},
                             {{"status", 502}, {"body", "<html>Bad Gateway</html>"}},
                             {{"status", 503}, {"body", json::object()}}}));
  auto id = Queue(whatsapp_, "15551230004", "hi");
  StartSender(FastOptions());
  ASSERT_TRUE(StatusBecomes(id, "sent", 15s)) << "status " << Column(id, "status") << ", error " << Column(id, "error");
  EXPECT_EQ(fake_->Requests().size(), 4u);
  EXPECT_EQ(Column(id, "attempts"), "4");
  EXPECT_EQ(Column(id, "provider_message_id"), "wamid.fake.4");
  EXPECT_EQ(Sends("whatsapp", "retry"), 3);
}

TEST_F(OutboundSenderTest, RetryRecordsTheErrorAndTheNextAttempt) {
  fake_->Script(json::array({{{"status", 503}, {"headers", {{"Retry-After", "60"}}}}}));
  auto id = Queue(whatsapp_, "15551230005", "hi");
  StartSender(FastOptions());
  ASSERT_TRUE(WaitFor([&] { return Column(id, "error") != "<null>"; })) << "expected the failed attempt recorded";
  EXPECT_EQ(Column(id, "status"), "queued");
  EXPECT_EQ(Column(id, "error"), "HTTP 503");
  EXPECT_EQ(Column(id, "next_attempt_at > now() + interval '50 seconds'"), "t")
      << "expected the next attempt after Retry-After";
}

TEST_F(OutboundSenderTest, ClientErrorFailsWithTheProvidersError) {
  fake_->Script(json::array({{{"status", 400}, {"body", GraphError(100, "Invalid parameter")}}}));
  auto id = Queue(messenger_, "psid-bad", "hi");
  StartSender(FastOptions());
  ASSERT_TRUE(StatusBecomes(id, "failed")) << "status " << Column(id, "status");
  EXPECT_EQ(Column(id, "error"), "(#100) Invalid parameter");
  EXPECT_EQ(Column(id, "provider_message_id"), "<null>");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(fake_->Requests().size(), 1u) << "expected a permanent error never retried";
  EXPECT_EQ(Sends("messenger", "failed"), 1);
}

TEST_F(OutboundSenderTest, OutsideTheWindowFailsAtOnce) {
  fake_->Script(json::array({{{"status", 409}, {"body", GraphError(10, "outside_messaging_window")}}}));
  auto id = Queue(messenger_, "psid-late", "hi");
  StartSender(FastOptions());
  ASSERT_TRUE(StatusBecomes(id, "failed"));
  EXPECT_EQ(Column(id, "error"), "(#10) outside_messaging_window");
}

TEST_F(OutboundSenderTest, TimeoutIsRetried) {
  fake_->Script(json::array({{{"status", 200}, {"delay_ms", 1500}}}));
  auto options = FastOptions();
  options.request_timeout = 500ms;
  options.lease = 15s;
  auto id = Queue(whatsapp_, "15551230006", "hi");
  StartSender(options);
  ASSERT_TRUE(StatusBecomes(id, "sent")) << "status " << Column(id, "status") << ", error " << Column(id, "error");
  EXPECT_EQ(Column(id, "attempts"), "2") << "expected the timed-out attempt retried";
  EXPECT_EQ(Sends("whatsapp", "retry"), 1);
}

TEST_F(OutboundSenderTest, UnreachableApiIsRetried) {
  auto options = FastOptions();
  {
    FakeGraph closed;  // a port that was just in use and is now closed
    options.graph_api_base = closed.BaseUrl();
  }
  auto id = Queue(whatsapp_, "15551230007", "hi");
  StartSender(options);
  ASSERT_TRUE(WaitFor([&] { return Column(id, "error") != "<null>"; }));
  EXPECT_EQ(Column(id, "status"), "queued");
  EXPECT_NE(Column(id, "error").find("connecting to the Graph API"), std::string::npos) << Column(id, "error");
}

TEST_F(OutboundSenderTest, ChannelWithoutAccessTokenFailsWithoutACall) {
  auto bare = CreateChannel(business_, "instagram", false);
  auto id = Queue(bare, "igsid-1", "hi");
  StartSender(FastOptions());
  ASSERT_TRUE(StatusBecomes(id, "failed"));
  EXPECT_EQ(Column(id, "error"), "the channel has no access token");
  EXPECT_TRUE(fake_->Requests().empty());
}

TEST_F(OutboundSenderTest, NotifySendsAtOnce) {
  auto options = FastOptions();
  options.poll_interval = 30s;
  auto& sender = StartSender(options);
  std::this_thread::sleep_for(300ms);  // every connection has found nothing and sleeps
  auto id = Queue(whatsapp_, "15551230008", "hi");
  auto start = std::chrono::steady_clock::now();
  sender.Notify();
  ASSERT_TRUE(StatusBecomes(id, "sent", 5s)) << "expected Notify to wake the sender";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(OutboundSenderTest, RepliesOfAConversationGoOutInOrder) {
  fake_->Script(json::array({{{"status", 500}}}));
  auto first = Queue(messenger_, "psid-order", "first");
  auto second = Queue(messenger_, "psid-order", "second");
  StartSender(FastOptions());
  ASSERT_TRUE(StatusBecomes(second, "sent"));
  std::vector<std::string> texts;
  for (const auto& r : fake_->Requests()) texts.push_back(r["body"]["message"]["text"]);
  EXPECT_EQ(texts, (std::vector<std::string>{"first", "first", "second"}))
      << "expected the second reply to wait for the first's retry";
  EXPECT_EQ(Column(first, "status"), "sent");
}

TEST_F(OutboundSenderTest, TwoSendersNeverSendTheSameReplyTwice) {
  constexpr int kReplies = 40;
  std::set<std::string> expected;
  for (int i = 0; i < kReplies; ++i) {
    std::string contact = "1555300" + std::to_string(1000 + i);
    Queue(i % 2 ? whatsapp_ : messenger_, contact, "reply " + std::to_string(i));
    expected.insert(contact);
  }
  auto options = FastOptions();
  options.connections = 3;
  options.batch = 2;
  StartSender(options);
  StartSender(options);
  ASSERT_TRUE(WaitFor([&] {
    return Value("SELECT count(*) FROM messages WHERE business_id = " + std::to_string(business_) +
                 " AND status = 'sent'") == std::to_string(kReplies);
  })) << "expected every reply sent";
  std::this_thread::sleep_for(300ms);
  auto requests = fake_->Requests();
  std::multiset<std::string> recipients;
  for (const auto& r : requests) {
    recipients.insert(r["body"].contains("to") ? r["body"]["to"].get<std::string>()
                                               : r["body"]["recipient"]["id"].get<std::string>());
  }
  EXPECT_EQ(requests.size(), static_cast<std::size_t>(kReplies)) << "expected one call per reply";
  EXPECT_EQ(std::set<std::string>(recipients.begin(), recipients.end()), expected);
  EXPECT_EQ(Value("SELECT max(attempts) FROM messages WHERE business_id = " + std::to_string(business_)), "1");
}

TEST_F(OutboundSenderTest, ReplyOfADeadSenderIsSentAfterTheLease) {
  auto id = Queue(whatsapp_, "15551230009", "hi");
  // A sender claims the reply and dies before it sends or marks anything.
  auto claimed = Blocking(repo_->ClaimDue(10, 2s));
  ASSERT_EQ(claimed.size(), 1u);
  auto claimed_at = std::chrono::steady_clock::now();

  StartSender(FastOptions());
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE(fake_->Requests().empty()) << "expected the reply left alone while the lease holds";
  ASSERT_TRUE(StatusBecomes(id, "sent", 10s)) << "expected the reply sent once the lease ended";
  EXPECT_GE(std::chrono::steady_clock::now() - claimed_at, 1900ms);
  EXPECT_EQ(fake_->Requests().size(), 1u);
  EXPECT_EQ(Column(id, "attempts"), "2") << "expected the dead sender's attempt counted";
}

TEST_F(OutboundSenderTest, StopLetsTheSendInFlightFinish) {
  fake_->Script(json::array({{{"status", 200}, {"delay_ms", 800}}}));
  auto id = Queue(whatsapp_, "15551230010", "hi");
  auto& sender = StartSender(FastOptions());
  ASSERT_EQ(WaitForRequests(1).size(), 1u);
  sender.Stop();
  EXPECT_EQ(Column(id, "status"), "sent") << "expected Stop to wait for the answer and record it";
}

TEST_F(OutboundSenderTest, StopReleasesClaimedRepliesNotYetSent) {
  fake_->Script(json::array({{{"status", 200}, {"delay_ms", 800}}}));
  auto options = FastOptions();
  options.connections = 1;
  options.batch = 3;
  auto first = Queue(whatsapp_, "15551230011", "a");
  auto second = Queue(whatsapp_, "15551230012", "b");
  auto third = Queue(whatsapp_, "15551230013", "c");
  auto& sender = StartSender(options);
  ASSERT_EQ(WaitForRequests(1).size(), 1u);
  sender.Stop();
  EXPECT_EQ(Column(first, "status"), "sent");
  for (auto id : {second, third}) {
    EXPECT_EQ(Column(id, "status"), "queued");
    EXPECT_EQ(Column(id, "attempts"), "0") << "expected the unsent claim given back uncounted";
    EXPECT_EQ(Column(id, "next_attempt_at <= now()"), "t") << "expected it due at once for another sender";
  }
}

}  // namespace
}  // namespace sb::pgtest
