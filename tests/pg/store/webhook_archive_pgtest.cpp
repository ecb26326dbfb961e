// Every accepted body is archived verbatim, once per business it concerns,
// and a stored message refers to its archived body rather than copying it.
#include <future>

#include "pg_fixture.hpp"

namespace sb::pgtest {
namespace {

// Non-ASCII text, \u escapes (which must stay six characters of text, not
// be decoded), escaped quotes, a backslash, and whitespace outside strings.
constexpr std::string_view kTrickyBody =
    "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\",\"changes\":[{\"value\":"
    "{\"text\":\"Ol\xC3\xA1 \xE2\x80\x94 \xC3\xB1 \xE4\xBD\xA0\xE5\xA5\xBD \xF0\x9F\x98\x80 "
    "\\u00e9 \\ud83d\\ude00 \\\"quoted\\\" back\\\\slash \\n\"}}]}]}  \r\n\t";

class WebhookArchiveTest : public StoreDb {
 protected:
  std::string B() { return std::to_string(business_); }

  std::int64_t Archived(std::int64_t business_id) {
    return Count("SELECT count(*) FROM webhook_archive WHERE business_id = " + std::to_string(business_id));
  }

  /// The only archived body of the business.
  std::string OnlyBody(std::int64_t business_id) {
    return Value("SELECT body FROM webhook_archive WHERE business_id = " + std::to_string(business_id));
  }

  /// The archived body a message refers to ("<no row>" when none).
  std::string BodyOfMessage(const std::string& provider_id) {
    pqxx::result rows =
        Sql("SELECT w.body FROM messages m JOIN webhook_archive w ON w.business_id = m.business_id AND w.id = "
            "m.archive_id AND w.received_at = m.archive_received_at WHERE m.provider_message_id = " +
            conn_->quote(provider_id));
    return rows.size() == 1 ? rows[0][0].as<std::string>() : "<" + std::to_string(rows.size()) + " rows>";
  }
};

TEST_F(WebhookArchiveTest, BodyIsArchivedVerbatimAndMessagesReferToIt) {
  IngestRequest r = Request(ChannelKind::kWhatsapp, std::string(kTrickyBody), {whatsapp_});
  r.parsed.messages.push_back(Text(whatsapp_, "15552001", "wamid.v1"));
  r.parsed.messages.push_back(Text(whatsapp_, "15552002", "wamid.v2"));
  ASSERT_EQ(writer_->SubmitSync(std::move(r)).messages, 2);

  ASSERT_EQ(Archived(business_), 1) << "expected one archive row for one body of one business";
  EXPECT_EQ(OnlyBody(business_), kTrickyBody) << "expected the archived body byte for byte as submitted";
  EXPECT_EQ(Value("SELECT kind FROM webhook_archive WHERE business_id = " + B()), "whatsapp");
  EXPECT_EQ(BodyOfMessage("wamid.v1"), kTrickyBody) << "expected the message to refer to its archived body";
  EXPECT_EQ(BodyOfMessage("wamid.v2"), kTrickyBody) << "expected both messages of a body to refer to one row";
}

TEST_F(WebhookArchiveTest, StatusOnlyBodyIsArchived) {
  std::string body = R"({"object":"whatsapp_business_account","statuses":"only"})";
  IngestRequest r = Request(ChannelKind::kWhatsapp, body, {whatsapp_});
  r.parsed.statuses.push_back(Status(whatsapp_, "wamid.unknown-status", "delivered"));
  writer_->SubmitSync(std::move(r));

  EXPECT_EQ(Archived(business_), 1) << "expected a body with only statuses to be archived";
  EXPECT_EQ(OnlyBody(business_), body);
}

TEST_F(WebhookArchiveTest, EventOnlyAndEmptyBodiesAreArchived) {
  std::string event_body = R"({"object":"page","entry":[{"id":"x","messaging":[{"reaction":{}}]}]})";
  IngestRequest r = Request(ChannelKind::kMessenger, event_body, {messenger_});
  gateway::ConversationEvent e;
  e.channel = messenger_.ref;
  e.contact_external_id = "psid-archive";
  e.kind = "optin";
  e.data_json = "{}";
  r.parsed.events.push_back(e);
  writer_->SubmitSync(std::move(r));
  // A verified body whose changes the parser ignored (account updates).
  std::string ignored_body = R"({"object":"page","entry":[{"id":"x","changes":[]}]})";
  writer_->SubmitSync(Request(ChannelKind::kMessenger, ignored_body, {messenger_}));

  EXPECT_EQ(Count("SELECT count(*) FROM webhook_archive WHERE business_id = " + B() +
                  " AND kind = 'messenger' AND body IN (" + conn_->quote(event_body) + ", " +
                  conn_->quote(ignored_body) + ")"),
            2)
      << "expected the events-only and the ignored-only body archived once each";
}

TEST_F(WebhookArchiveTest, BodyOfTwoBusinessesIsArchivedOncePerBusiness) {
  std::int64_t other = CreateBusiness("other business");
  TestChannel theirs = CreateChannel(other, "whatsapp");
  TestChannel ours2 = CreateChannel(business_, "whatsapp");
  std::string body = R"({"entry":["two businesses, three phone numbers"]})";
  IngestRequest r = Request(ChannelKind::kWhatsapp, body, {whatsapp_, ours2, theirs});
  r.parsed.messages.push_back(Text(whatsapp_, "15552003", "wamid.ours"));
  r.parsed.messages.push_back(Text(ours2, "15552003", "wamid.ours2"));
  r.parsed.messages.push_back(Text(theirs, "15552003", "wamid.theirs"));
  ASSERT_EQ(writer_->SubmitSync(std::move(r)).messages, 3);

  EXPECT_EQ(Archived(business_), 1) << "expected one archive row for our business (two of our channels)";
  EXPECT_EQ(Archived(other), 1) << "expected one archive row for the other business";
  EXPECT_EQ(OnlyBody(other), body);
  EXPECT_EQ(Count("SELECT count(*) FROM messages m JOIN webhook_archive w ON w.business_id = m.business_id AND "
                  "w.id = m.archive_id AND w.received_at = m.archive_received_at WHERE m.business_id IN (" +
                  B() + ", " + std::to_string(other) + ")"),
            3)
      << "expected every message to refer to the archive row of its own business";
}

TEST_F(WebhookArchiveTest, BusinessWithOnlyStatusesInAMessageBodyIsArchived) {
  std::int64_t other = CreateBusiness("status-only business");
  TestChannel theirs = CreateChannel(other, "whatsapp");
  std::string body = R"({"entry":["a message for us, a status for them"]})";
  IngestRequest r = Request(ChannelKind::kWhatsapp, body, {whatsapp_, theirs});
  r.parsed.messages.push_back(Text(whatsapp_, "15552004", "wamid.mixed"));
  r.parsed.statuses.push_back(Status(theirs, "wamid.theirs-out", "read"));
  writer_->SubmitSync(std::move(r));

  EXPECT_EQ(Archived(business_), 1) << "expected our archive row (we had a message)";
  EXPECT_EQ(Archived(other), 1) << "expected their archive row although they had only a status";
  EXPECT_EQ(OnlyBody(other), body);
  EXPECT_EQ(BodyOfMessage("wamid.mixed"), body);
}

TEST_F(WebhookArchiveTest, ReprocessedBodyRefersToItsExistingArchiveRow) {
  std::string body = R"({"entry":["first seen with a status only"]})";
  IngestRequest first = Request(ChannelKind::kWhatsapp, body, {whatsapp_});
  first.parsed.statuses.push_back(Status(whatsapp_, "wamid.some-out", "sent"));
  writer_->SubmitSync(std::move(first));
  pqxx::result row = Sql("SELECT id, received_at::text FROM webhook_archive WHERE business_id = " + B());
  ASSERT_EQ(row.size(), 1u);

  // `switchboard reprocess`: a newer parser finds a message in it.
  IngestRequest again = Request(ChannelKind::kWhatsapp, body, {whatsapp_});
  again.archived = IngestRequest::ArchiveRef{row[0][0].as<std::int64_t>(), row[0][1].as<std::string>()};
  again.parsed.messages.push_back(Text(whatsapp_, "15552007", "wamid.reprocessed"));
  again.parsed.statuses.push_back(Status(whatsapp_, "wamid.some-out", "delivered"));
  EXPECT_EQ(writer_->SubmitSync(std::move(again)).messages, 1);

  EXPECT_EQ(Archived(business_), 1) << "expected re-processing not to archive the body a second time";
  EXPECT_EQ(Count("SELECT archive_id FROM messages WHERE business_id = " + B()), row[0][0].as<std::int64_t>())
      << "expected the message to refer to the existing archive row";
  EXPECT_EQ(BodyOfMessage("wamid.reprocessed"), body);
}

TEST_F(WebhookArchiveTest, EveryBodyOfOneBatchIsArchivedOnce) {
  // One writer; the first request blocks on the archive lock while the
  // others queue, so they are committed in one batch.
  writer_ = MakeWriter(1);
  ArchiveLock lock(url_);
  auto blocker = std::async(std::launch::async, [&] {
    return writer_->SubmitSync(Request(ChannelKind::kWhatsapp, R"({"blocker":1})", {whatsapp_}));
  });
  ASSERT_TRUE(WaitForBlockedSession()) << "expected the first batch to wait for the archive lock";

  std::vector<IngestRequest> requests;
  requests.push_back(OneMessage(whatsapp_, "15552005", "wamid.batch1"));
  requests.push_back(Request(ChannelKind::kWhatsapp, R"({"statuses only":1})", {whatsapp_}));
  requests.back().parsed.statuses.push_back(Status(whatsapp_, "wamid.nobody", "sent"));
  requests.push_back(OneMessage(whatsapp_, "15552006", "wamid.batch2"));
  requests.push_back(Request(ChannelKind::kWhatsapp, R"({"nothing":1})", {whatsapp_}));
  std::vector<std::string> bodies;
  std::size_t backlog = writer_->BacklogBytes();
  std::vector<std::future<store::IngestOutcome>> outs;
  for (auto& r : requests) {
    bodies.push_back(r.body);
    backlog += BacklogBytesOf(r);
    outs.push_back(
        std::async(std::launch::async, [&, r = std::move(r)]() mutable { return writer_->SubmitSync(std::move(r)); }));
  }
  ASSERT_TRUE(WaitForBacklog(backlog)) << "expected all requests queued behind the blocked batch";
  lock.Release();
  blocker.get();
  for (auto& f : outs) f.get();

  EXPECT_EQ(Archived(business_), 5) << "expected the blocker and the four batched bodies archived";
  for (const auto& body : bodies) {
    EXPECT_EQ(
        Count("SELECT count(*) FROM webhook_archive WHERE business_id = " + B() + " AND body = " + conn_->quote(body)),
        1)
        << "expected body " << body << " archived exactly once";
  }
  EXPECT_EQ(BodyOfMessage("wamid.batch1"), bodies[0]) << "expected each message to refer to its own body";
  EXPECT_EQ(BodyOfMessage("wamid.batch2"), bodies[2]) << "expected each message to refer to its own body";
}

}  // namespace
}  // namespace sb::pgtest
