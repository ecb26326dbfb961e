// OutboundRepository: claiming due replies (lease, SKIP LOCKED, one per
// conversation at a time) and the marks, scoped by business; statuses that
// arrived before the send are applied when it records the provider id.
#include "outbound_fixture.hpp"

namespace sb::pgtest {
namespace {

class OutboundRepositoryTest : public OutboundDb {
 protected:
  std::vector<store::OutboundClaim> Claim(int limit = 10, std::chrono::milliseconds lease = 60s) {
    return Blocking(repo_->ClaimDue(limit, lease));
  }

  static std::vector<std::int64_t> Ids(const std::vector<store::OutboundClaim>& claims) {
    std::vector<std::int64_t> ids;
    for (const auto& c : claims) ids.push_back(c.id);
    return ids;
  }

  std::string B() { return std::to_string(business_); }

  void Pending(const TestChannel& channel, const std::string& provider_id, const std::string& status,
               const std::string& received_at = "now()") {
    Sql("INSERT INTO pending_statuses (business_id, channel_id, provider_message_id, status, received_at) VALUES (" +
        B() + ", " + std::to_string(channel.id) + ", " + conn_->quote(provider_id) + ", " + conn_->quote(status) +
        ", " + received_at + ")");
  }

  std::int64_t PendingCount() {
    return std::stoll(Value("SELECT count(*) FROM pending_statuses WHERE business_id = " + B()));
  }
};

TEST_F(OutboundRepositoryTest, ClaimReturnsWhatASendNeeds) {
  auto id = Queue(whatsapp_, "15551230001", "Your order shipped", ", tag", ", 'HUMAN_AGENT'");
  Sql("UPDATE messages SET created_at = now() - interval '5 minutes' WHERE id = " + std::to_string(id));
  auto claims = Claim(10, 60s);
  ASSERT_EQ(claims.size(), 1u) << "expected the queued reply claimed";
  const auto& c = claims[0];
  EXPECT_EQ(c.business_id, business_);
  EXPECT_EQ(c.id, id);
  EXPECT_EQ(std::to_string(c.conversation_id), Column(id, "conversation_id"));
  EXPECT_EQ(c.channel_id, whatsapp_.id);
  EXPECT_EQ(c.channel_kind, "whatsapp");
  EXPECT_EQ(c.channel_external_id, whatsapp_.external_id);
  EXPECT_TRUE(c.channel_active);
  ASSERT_TRUE(c.access_token_enc_hex.has_value()) << "expected the sealed access token";
  auto sealed = crypto::HexDecode(*c.access_token_enc_hex);
  ASSERT_TRUE(sealed.has_value());
  EXPECT_EQ(secrets_.Open(*sealed), std::optional<std::string>(whatsapp_.access_token));
  EXPECT_EQ(c.contact_external_id, "15551230001");
  EXPECT_EQ(c.text, "Your order shipped");
  EXPECT_EQ(c.tag, std::optional<std::string>("HUMAN_AGENT"));
  EXPECT_EQ(c.attempts, 1) << "expected the claim to count the attempt";
  EXPECT_GE(c.age, 300s - 1s);
  EXPECT_LT(c.age, 300s + 30s);

  EXPECT_EQ(Column(id, "attempts"), "1");
  EXPECT_EQ(Column(id, "status"), "queued") << "expected a claim to leave the reply queued";
  EXPECT_EQ(Column(id, "next_attempt_at BETWEEN now() + interval '50 seconds' AND now() + interval '61 seconds'"), "t")
      << "expected next_attempt_at pushed out by the lease";
  EXPECT_TRUE(Claim().empty()) << "expected a leased reply not claimed again";
}

TEST_F(OutboundRepositoryTest, OnlyDueQueuedOutboundRepliesAreClaimed) {
  auto no_time = Queue(whatsapp_, "1555000101", "a");
  auto past = Queue(whatsapp_, "1555000102", "b", ", next_attempt_at", ", now() - interval '1 second'");
  auto future = Queue(whatsapp_, "1555000103", "c", ", next_attempt_at", ", now() + interval '1 hour'");
  auto sent = Queue(whatsapp_, "1555000104", "d");
  Sql("UPDATE messages SET status = 'sent' WHERE id = " + std::to_string(sent));
  auto failed = Queue(whatsapp_, "1555000105", "e");
  Sql("UPDATE messages SET status = 'failed' WHERE id = " + std::to_string(failed));
  auto inbound = Queue(whatsapp_, "1555000106", "f");
  Sql("UPDATE messages SET direction = 'in', sender = 'customer', status = 'queued' WHERE id = " +
      std::to_string(inbound));

  auto claims = Claim();
  EXPECT_EQ(Ids(claims), (std::vector<std::int64_t>{no_time, past}))
      << "expected exactly the due queued outbound replies (NULL next_attempt_at counts as due)";
  EXPECT_EQ(Column(future, "attempts"), "0");
}

TEST_F(OutboundRepositoryTest, ClaimTakesTheMostOverdueFirst) {
  auto later = Queue(whatsapp_, "1555000201", "a", ", next_attempt_at", ", now() - interval '1 second'");
  auto earlier = Queue(whatsapp_, "1555000202", "b", ", next_attempt_at", ", now() - interval '1 minute'");
  auto fresh = Queue(whatsapp_, "1555000203", "c");
  EXPECT_EQ(Ids(Claim(1)), std::vector<std::int64_t>{earlier}) << "expected the most overdue first";
  EXPECT_EQ(Ids(Claim(1)), std::vector<std::int64_t>{later});
  EXPECT_EQ(Ids(Claim(1)), std::vector<std::int64_t>{fresh}) << "expected an undated reply due all the same";
}

TEST_F(OutboundRepositoryTest, ClaimSkipsRowsAnotherSenderHolds) {
  auto held = Queue(whatsapp_, "1555000301", "held");
  auto free = Queue(whatsapp_, "1555000302", "free");
  pqxx::connection other(url_);
  pqxx::work lock(other);
  lock.exec("SELECT 1 FROM messages WHERE id = " + std::to_string(held) + " FOR UPDATE");

  auto start = std::chrono::steady_clock::now();
  auto claims = Claim();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s) << "expected SKIP LOCKED, not a wait";
  EXPECT_EQ(Ids(claims), std::vector<std::int64_t>{free}) << "expected the locked reply skipped";
  lock.abort();
  EXPECT_EQ(Ids(Claim()), std::vector<std::int64_t>{held}) << "expected it claimable once released";
}

TEST_F(OutboundRepositoryTest, OneReplyPerConversationAtATime) {
  auto first = Queue(messenger_, "psid-order", "first");
  auto second = Queue(messenger_, "psid-order", "second");
  auto other = Queue(messenger_, "psid-other", "other");
  ASSERT_EQ(Column(first, "conversation_id"), Column(second, "conversation_id"));

  EXPECT_EQ(Ids(Claim()), (std::vector<std::int64_t>{first, other}))
      << "expected the second reply held back behind the first";
  EXPECT_TRUE(Blocking(repo_->MarkRetry(business_, first, 0ms, "HTTP 500")));
  EXPECT_EQ(Ids(Claim()), std::vector<std::int64_t>{first}) << "expected the first retried before the second goes";
  EXPECT_EQ(Blocking(repo_->MarkSent(business_, first, "m_first")), std::optional<std::string>("sent"));
  EXPECT_EQ(Ids(Claim()), std::vector<std::int64_t>{second}) << "expected the second once the first is sent";
}

TEST_F(OutboundRepositoryTest, RepliesBehindARetryWaitAsLong) {
  auto first = Queue(messenger_, "psid-behind", "first");
  auto second = Queue(messenger_, "psid-behind", "second", ", next_attempt_at", ", now()");
  auto later = Queue(messenger_, "psid-behind", "later", ", next_attempt_at", ", now() + interval '1 day'");
  auto elsewhere = Queue(messenger_, "psid-elsewhere", "elsewhere");
  Claim();
  EXPECT_TRUE(Blocking(repo_->MarkRetry(business_, first, 60s, "HTTP 503")));
  EXPECT_EQ(Column(second,
                   "next_attempt_at = (SELECT next_attempt_at FROM messages WHERE id = " + std::to_string(first) + ")"),
            "t")
      << "expected the reply behind the retry dated with it";
  EXPECT_EQ(Column(later, "next_attempt_at > now() + interval '23 hours'"), "t") << "expected no reply moved earlier";
  EXPECT_EQ(Column(elsewhere, "next_attempt_at > now() + interval '50 seconds'"), "t")
      << "expected another conversation's reply to keep its own lease";
}

TEST_F(OutboundRepositoryTest, FailedReplyReleasesTheNextOne) {
  auto first = Queue(messenger_, "psid-fail", "first");
  auto second = Queue(messenger_, "psid-fail", "second");
  EXPECT_EQ(Ids(Claim()), std::vector<std::int64_t>{first});
  EXPECT_TRUE(Blocking(repo_->MarkFailed(business_, first, "(#100) Invalid parameter")));
  EXPECT_EQ(Ids(Claim()), std::vector<std::int64_t>{second});
}

TEST_F(OutboundRepositoryTest, MarkSentRecordsTheProviderId) {
  auto id = Queue(whatsapp_, "1555000401", "hi", ", error", ", 'HTTP 503'");
  Claim();
  auto status = Blocking(repo_->MarkSent(business_, id, "wamid.sent1"));
  EXPECT_EQ(status, std::optional<std::string>("sent"));
  EXPECT_EQ(Column(id, "status"), "sent");
  EXPECT_EQ(Column(id, "provider_message_id"), "wamid.sent1");
  EXPECT_EQ(Column(id, "sent_at > now() - interval '1 minute'"), "t");
  EXPECT_EQ(Column(id, "next_attempt_at"), "<null>");
  EXPECT_EQ(Column(id, "error"), "<null>") << "expected an earlier attempt's error cleared";
  EXPECT_EQ(Blocking(repo_->MarkSent(business_, id, "wamid.sent1")), std::nullopt)
      << "expected a second mark of a sent reply to change nothing";
}

TEST_F(OutboundRepositoryTest, MarkSentAppliesAStatusThatArrivedFirst) {
  auto delivered = Queue(whatsapp_, "1555000501", "a");
  auto read = Queue(whatsapp_, "1555000502", "b");
  auto stale = Queue(whatsapp_, "1555000503", "c");
  Pending(whatsapp_, "wamid.d", "delivered");
  Pending(whatsapp_, "wamid.r", "read");
  Pending(whatsapp_, "wamid.s", "sent");
  Pending(messenger_, "wamid.other-channel", "read");

  EXPECT_EQ(Blocking(repo_->MarkSent(business_, delivered, "wamid.d")), std::optional<std::string>("delivered"));
  EXPECT_EQ(Blocking(repo_->MarkSent(business_, read, "wamid.r")), std::optional<std::string>("read"));
  EXPECT_EQ(Blocking(repo_->MarkSent(business_, stale, "wamid.s")), std::optional<std::string>("sent"));
  EXPECT_EQ(Column(delivered, "status"), "delivered");
  EXPECT_EQ(Column(delivered, "provider_message_id"), "wamid.d");
  EXPECT_EQ(Column(read, "status"), "read");
  EXPECT_EQ(PendingCount(), 1) << "expected the applied statuses consumed, the other channel's kept";
}

TEST_F(OutboundRepositoryTest, PendingFailureIsAppliedWithItsError) {
  auto id = Queue(whatsapp_, "1555000601", "a");
  Sql("INSERT INTO pending_statuses (business_id, channel_id, provider_message_id, status, error) VALUES (" + B() +
      ", " + std::to_string(whatsapp_.id) + ", 'wamid.f', 'failed', '(#131026) Message undeliverable')");
  EXPECT_EQ(Blocking(repo_->MarkSent(business_, id, "wamid.f")), std::optional<std::string>("failed"));
  EXPECT_EQ(Column(id, "error"), "(#131026) Message undeliverable");
}

TEST_F(OutboundRepositoryTest, MarkRetryAndRelease) {
  auto id = Queue(whatsapp_, "1555000701", "a");
  Claim();
  EXPECT_TRUE(Blocking(repo_->MarkRetry(business_, id, 30s, "HTTP 503")));
  EXPECT_EQ(Column(id, "status"), "queued");
  EXPECT_EQ(Column(id, "error"), "HTTP 503");
  EXPECT_EQ(Column(id, "next_attempt_at BETWEEN now() + interval '25 seconds' AND now() + interval '31 seconds'"), "t");
  EXPECT_TRUE(Claim().empty());

  EXPECT_TRUE(Blocking(repo_->Release(business_, id)));
  EXPECT_EQ(Column(id, "attempts"), "0") << "expected the released attempt uncounted";
  EXPECT_EQ(Ids(Claim()), std::vector<std::int64_t>{id}) << "expected a released reply due at once";
}

TEST_F(OutboundRepositoryTest, MarkFailed) {
  auto id = Queue(whatsapp_, "1555000801", "a");
  Claim();
  EXPECT_TRUE(Blocking(repo_->MarkFailed(business_, id, "(#100) Invalid parameter")));
  EXPECT_EQ(Column(id, "status"), "failed");
  EXPECT_EQ(Column(id, "error"), "(#100) Invalid parameter");
  EXPECT_EQ(Column(id, "next_attempt_at"), "<null>");
  EXPECT_FALSE(Blocking(repo_->MarkRetry(business_, id, 1s, "x"))) << "expected a failed reply to stay failed";
  EXPECT_FALSE(Blocking(repo_->MarkFailed(business_, id, "x")));
  EXPECT_EQ(Column(id, "error"), "(#100) Invalid parameter");
}

TEST_F(OutboundRepositoryTest, MarksAreScopedByBusiness) {
  auto other_business = Id("INSERT INTO businesses (name) VALUES ('other') RETURNING business_id");
  auto id = Queue(whatsapp_, "1555000901", "a");
  EXPECT_EQ(Blocking(repo_->MarkSent(other_business, id, "wamid.x")), std::nullopt);
  EXPECT_FALSE(Blocking(repo_->MarkRetry(other_business, id, 1s, "x")));
  EXPECT_FALSE(Blocking(repo_->MarkFailed(other_business, id, "x")));
  EXPECT_FALSE(Blocking(repo_->Release(other_business, id)));
  EXPECT_EQ(Column(id, "status"), "queued");
  EXPECT_EQ(Column(id, "provider_message_id"), "<null>");
  EXPECT_EQ(Column(id, "error"), "<null>") << "expected another business's id to touch nothing";
}

TEST_F(OutboundRepositoryTest, DuplicateProviderIdIsAConflict) {
  auto first = Queue(whatsapp_, "1555001001", "a");
  auto second = Queue(whatsapp_, "1555001002", "b");
  Blocking(repo_->MarkSent(business_, first, "wamid.same"));
  EXPECT_THROW(Blocking(repo_->MarkSent(business_, second, "wamid.same")), store::Conflict);
  EXPECT_EQ(Column(second, "status"), "queued");
}

TEST_F(OutboundRepositoryTest, LateStatusesAreApplied) {
  auto id = Queue(whatsapp_, "1555001101", "a");
  Blocking(repo_->MarkSent(business_, id, "wamid.late"));
  // The race: the status was parked after MarkSent looked, before it committed.
  Pending(whatsapp_, "wamid.late", "delivered");
  Pending(whatsapp_, "wamid.unknown", "read");
  auto old = Queue(whatsapp_, "1555001102", "b");
  Blocking(repo_->MarkSent(business_, old, "wamid.old"));
  Pending(whatsapp_, "wamid.old", "read", "now() - interval '10 minutes'");

  EXPECT_EQ(Blocking(repo_->ApplyLateStatuses(2min)), 1);
  EXPECT_EQ(Column(id, "status"), "delivered");
  EXPECT_EQ(Column(old, "status"), "sent") << "expected only recent statuses looked at";
  EXPECT_EQ(PendingCount(), 2) << "expected the unknown id and the old one left to pruning";
}

TEST_F(OutboundRepositoryTest, ProfileLookupsNeverNameAnErasedContact) {
  auto contact = [&](const std::string& external_id, const std::string& erased_at) {
    return Id("INSERT INTO contacts (business_id, channel_id, external_id, erased_at) VALUES (" + B() + ", " +
              std::to_string(messenger_.id) + ", " + conn_->quote(external_id) + ", " + erased_at + ") RETURNING id");
  };
  auto kept = contact("psid-kept", "NULL");
  auto erased_during_lookup = contact("psid-later", "NULL");
  auto erased = contact("psid-erased", "now()");
  std::vector<std::int64_t> claimed;
  for (const auto& c : Blocking(repo_->ClaimProfiles(100))) {
    if (c.business_id == business_) claimed.push_back(c.contact_id);
  }
  EXPECT_EQ(claimed, (std::vector<std::int64_t>{kept, erased_during_lookup})) << "expected no erased contact claimed";

  // Erasure commits while the lookup is at Meta: its answer must not bring the name back.
  Sql("UPDATE contacts SET erased_at = now() WHERE id = " + std::to_string(erased_during_lookup));
  Blocking(repo_->SetContactName(business_, kept, "Ana"));
  Blocking(repo_->SetContactName(business_, erased_during_lookup, "Bea"));
  Blocking(repo_->SetContactName(business_, erased, "Carla"));
  auto name = [&](std::int64_t id) {
    return Value("SELECT name FROM contacts WHERE business_id = " + B() + " AND id = " + std::to_string(id));
  };
  EXPECT_EQ(name(kept), "Ana");
  EXPECT_EQ(name(erased_during_lookup), "<null>");
  EXPECT_EQ(name(erased), "<null>");
}

}  // namespace
}  // namespace sb::pgtest
