// Agent events: what the event notifier does before it wakes the streams,
// and what recording an event costs in rendering.
#include <nlohmann/json.hpp>

#include "event_sequencer.hpp"
#include "pg_fixture.hpp"
#include "sb/store/agent_repository.hpp"
#include "sb/store/database.hpp"
#include "sb/store/event_notifier.hpp"
#include "session.hpp"

namespace sb::pgtest {
namespace {

class AgentEventsTest : public StoreDb {
 protected:
  void SetUp() override {
    StoreDb::SetUp();
    if (IsSkipped()) return;
    auto b = std::to_string(business_);
    agent_ = Count("INSERT INTO agents (business_id, name, capacity) VALUES (" + b + ", 'Ana', 5) RETURNING id");
    auto channel = std::to_string(whatsapp_.key.channel_id);
    auto contact = Count("INSERT INTO contacts (business_id, channel_id, external_id, name) VALUES (" + b + ", " +
                         channel + ", '15550001111', 'Customer') RETURNING id");
    conversation_ = Count("INSERT INTO conversations (business_id, channel_id, contact_id) VALUES (" + b + ", " +
                          channel + ", " + std::to_string(contact) + ") RETURNING id");
  }

  std::int64_t RecordEvent() {
    return Count("INSERT INTO agent_events (business_id, agent_id, type, payload) VALUES (" +
                 std::to_string(business_) + ", " + std::to_string(agent_) +
                 ", 'conversation.updated', '{}') RETURNING id");
  }

  std::int64_t agent_ = 0;
  std::int64_t conversation_ = 0;
};

TEST_F(AgentEventsTest, TheNotifierNumbersEventsBeforeAnnouncingThem) {
  pqxx::connection listening(url_);
  Announcements announcements(listening);
  auto db = OpenDatabase("notifier");
  store::EventNotifier notifier(*db);
  auto event = RecordEvent();
  ASSERT_EQ(Value("SELECT seq IS NULL FROM agent_events WHERE id = " + std::to_string(event)), "t");

  notifier.Post({store::AgentEventRef{business_, agent_, event}});
  for (int i = 0; i < 50 && announcements.payloads.empty(); ++i) listening.await_notification(0, 100000);
  ASSERT_EQ(announcements.payloads.size(), 1U) << "expected one announcement within 5 s";
  EXPECT_EQ(nlohmann::json::parse(announcements.payloads[0]),
            nlohmann::json::array({nlohmann::json::array({business_, agent_, event})}));
  // Nothing else numbers events here (no stream, no housekeeping): the
  // number was given in the announcing transaction, so a stream woken by
  // the announcement only reads.
  EXPECT_EQ(Value("SELECT seq IS NOT NULL FROM agent_events WHERE id = " + std::to_string(event)), "t")
      << "expected the event numbered by the time it was announced";
  notifier.Stop();
  db->Stop();
}

TEST_F(AgentEventsTest, AnAnnouncementSendsAHundredEventsANotifyInTheirOrder) {
  pqxx::connection listening(url_);
  Announcements announcements(listening);
  std::vector<store::AgentEventRef> events;
  for (int i = 0; i < 250; ++i) events.push_back(store::AgentEventRef{business_, agent_, RecordEvent()});
  auto db = OpenDatabase("notifier");
  db->RunSyncInOneTrip("notify",
                       [&](store::Session& s) { s.ExecInOneTrip("router/notify", AnnouncementRefs(events)); });
  for (int i = 0; i < 50 && announcements.payloads.size() < 3; ++i) listening.await_notification(0, 100000);
  ASSERT_EQ(announcements.payloads.size(), 3U) << "expected three announcements within 5 s";
  std::vector<std::int64_t> heard;
  std::vector<std::size_t> sizes;
  for (const auto& payload : announcements.payloads) {
    auto refs = nlohmann::json::parse(payload);
    EXPECT_LT(payload.size(), 8000U) << "pg_notify refuses payloads of 8,000 bytes or more";
    sizes.push_back(refs.size());
    for (const auto& ref : refs) {
      EXPECT_EQ(ref[0], business_);
      EXPECT_EQ(ref[1], agent_);
      heard.push_back(ref[2].get<std::int64_t>());
    }
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{100, 100, 50}));
  std::vector<std::int64_t> posted;
  for (const auto& e : events) posted.push_back(e.event_id);
  EXPECT_EQ(heard, posted) << "expected every event announced once, in the order given";
  EXPECT_EQ(Value("SELECT count(*) FROM agent_events WHERE seq IS NULL"), "0") << "expected them numbered first";
  db->Stop();
}

TEST_F(AgentEventsTest, SequencingWithNothingToNumberWritesNothing) {
  RecordEvent();
  auto db = OpenDatabase("streams");
  std::vector<std::pair<int, std::string>> runs;
  for (int i = 0; i < 2; ++i) {
    db->RunSync("sequence", [&](store::Session& s) {
      int n = store::SequenceAgentEvents(s);
      // No transaction id: the commit has nothing to flush to disk.
      runs.emplace_back(n, s.tx().exec1("SELECT pg_current_xact_id_if_assigned() IS NULL")[0].as<std::string>());
    });
  }
  EXPECT_EQ(runs[0].first, 1);
  EXPECT_EQ(runs[1], std::make_pair(0, std::string("t")))
      << "expected the second run to find nothing and write nothing";
  db->Stop();
}

TEST_F(AgentEventsTest, RecordingAnEventRendersTheConversationOnce) {
  auto db = OpenDatabase("agents");
  std::string calls;
  std::string rendering;
  db->RunSync("event", [&](store::Session& s) {
    s.tx().exec0("SET LOCAL track_functions = 'pl'");
    auto row = s.Exec("agent/event", std::to_string(business_), std::to_string(agent_), std::to_string(conversation_),
                      std::string("conversation.updated"))[0];
    rendering = row[1].as<std::string>();
    calls = s.tx()
                .exec1("SELECT calls FROM pg_stat_xact_user_functions WHERE funcname = 'sb_conversation_json'")[0]
                .as<std::string>();
  });
  EXPECT_EQ(calls, "1") << "expected the conversation rendered once for the stored event and the answer";
  EXPECT_NE(rendering.find("\"id\" : " + std::to_string(conversation_)), std::string::npos) << rendering;
  db->Stop();
}

TEST_F(AgentEventsTest, TimestampsRenderInlineInTheCallingStatement) {
  // A SQL function is inlined only when its body is no more volatile than
  // declared; otherwise every call goes through the function executor.
  auto plan = Sql("EXPLAIN (VERBOSE) SELECT sb_iso(opened_at) FROM conversations WHERE business_id = " +
                  std::to_string(business_));
  std::string text;
  for (const auto& row : plan) text += row[0].as<std::string>() + "\n";
  EXPECT_NE(text.find("to_char("), std::string::npos) << text;
  EXPECT_EQ(text.find("sb_iso("), std::string::npos) << text;
  EXPECT_EQ(Value("SELECT sb_iso('2026-11-29 10:11:12.345+01')"), "2026-11-29T09:11:12.345Z");
}

TEST_F(AgentEventsTest, AStreamReadNumbersWhatCommittedThenReadsInOrder) {
  auto db = OpenDatabase("streams");
  store::EventNotifier notifier(*db);
  store::AgentRepository agents(*db, notifier);
  for (int i = 0; i < 3; ++i) RecordEvent();
  ASSERT_EQ(Count("SELECT count(*) FROM agent_events WHERE seq IS NULL AND agent_id = " + std::to_string(agent_)), 3);

  auto all = Blocking(agents.EventsAfter(business_, agent_, 0, 10));
  ASSERT_EQ(all.events.size(), 3U) << "expected the read to number the committed events and return them";
  EXPECT_FALSE(all.numbering_elsewhere);
  EXPECT_EQ(all.pruned_through, 0);
  EXPECT_LT(all.events[0].seq, all.events[1].seq);
  EXPECT_LT(all.events[1].seq, all.events[2].seq);
  EXPECT_EQ(all.events[0].type, "conversation.updated");
  EXPECT_EQ(all.events[0].payload_json, "{}");

  auto rest = Blocking(agents.EventsAfter(business_, agent_, all.events[0].seq, 1));
  ASSERT_EQ(rest.events.size(), 1U) << "expected the limit to hold";
  EXPECT_EQ(rest.events[0].seq, all.events[1].seq);

  auto none = Blocking(agents.EventsAfter(business_, agent_, all.events[2].seq, 10));
  EXPECT_TRUE(none.events.empty());

  Sql("UPDATE agents SET events_pruned_seq = " + std::to_string(all.events[1].seq) +
      " WHERE id = " + std::to_string(agent_));
  auto counted = Blocking(agents.EventsAfter(business_, agent_, 0, 0));
  EXPECT_TRUE(counted.events.empty()) << "expected a read of 0 events to return none";
  EXPECT_EQ(counted.pruned_through, all.events[1].seq) << "expected the agent's pruned-through number";

  auto stranger = Blocking(agents.EventsAfter(business_, agent_ + 1000, 0, 10));
  EXPECT_TRUE(stranger.events.empty());
  EXPECT_EQ(stranger.pruned_through, 0);
  notifier.Stop();
  db->Stop();
}

TEST_F(AgentEventsTest, TheFeedReadsEveryAgentsEventsAfterAPosition) {
  auto db = OpenDatabase("feed");
  store::EventNotifier notifier(*db);
  store::AgentRepository feed(*db, notifier);
  auto other = Count("INSERT INTO agents (business_id, name, capacity) VALUES (" + std::to_string(business_) +
                     ", 'Ben', 5) RETURNING id");
  auto start = Blocking(feed.FeedPosition());
  RecordEvent();
  Count("INSERT INTO agent_events (business_id, agent_id, type, payload) VALUES (" + std::to_string(business_) + ", " +
        std::to_string(other) + ", 'conversation.assigned', '{\"id\": 7}') RETURNING id");
  RecordEvent();
  EXPECT_EQ(Blocking(feed.FeedPosition()), start) << "expected the position to move only when events are numbered";

  auto all = Blocking(feed.EventsSince(start, 10));
  ASSERT_EQ(all.events.size(), 3U) << "expected the read to number the committed events of both agents";
  EXPECT_FALSE(all.numbering_elsewhere);
  EXPECT_EQ(all.events[0].agent_id, agent_);
  EXPECT_EQ(all.events[1].agent_id, other);
  EXPECT_EQ(all.events[1].event.type, "conversation.assigned");
  EXPECT_EQ(all.events[1].event.payload_json, "{\"id\": 7}");
  EXPECT_EQ(all.events[2].agent_id, agent_);
  EXPECT_LT(all.events[0].event.seq, all.events[1].event.seq);
  EXPECT_LT(all.events[1].event.seq, all.events[2].event.seq);
  EXPECT_EQ(Blocking(feed.FeedPosition()), all.events[2].event.seq);

  auto limited = Blocking(feed.EventsSince(all.events[0].event.seq, 1));
  ASSERT_EQ(limited.events.size(), 1U) << "expected the limit to hold";
  EXPECT_EQ(limited.events[0].event.seq, all.events[1].event.seq);
  EXPECT_TRUE(Blocking(feed.EventsSince(all.events[2].event.seq, 10)).events.empty());
  notifier.Stop();
  db->Stop();
}

TEST_F(AgentEventsTest, TheFeedsReadTakesTheNumberedIndexUnderAGenericPlan) {
  // agent_events keeps the retention's hours of events: the feed's read must
  // be an index range from its position, also in the plan PL/pgSQL keeps for
  // the function (generic: the position is a parameter). The plan is
  // auto_explain's of the statement the feed runs.
  pqxx::connection conn(url_);
  ServerMessages messages(conn);
  pqxx::work tx(conn);
  tx.exec0("LOAD 'auto_explain'");
  tx.exec0("SET LOCAL auto_explain.log_min_duration = 0");
  tx.exec0("SET LOCAL auto_explain.log_nested_statements = on");
  tx.exec0("SET LOCAL client_min_messages = log");
  tx.exec0("SET LOCAL enable_seqscan = off");
  tx.exec0("SET LOCAL plan_cache_mode = force_generic_plan");
  store::Session session(tx);
  session.Exec("agent/events_since", "5", "100");
  tx.commit();
  ASSERT_NE(messages.text.find("FROM agent_events x"), std::string::npos)
      << "expected auto_explain's plan of the feed's read, got:\n"
      << messages.text;
  EXPECT_NE(messages.text.find("agent_events_numbered"), std::string::npos) << messages.text;
}

TEST_F(AgentEventsTest, TheFeedWaitsForEventsAnotherTransactionIsNumbering) {
  auto db = OpenDatabase("feed");
  store::EventNotifier notifier(*db);
  store::AgentRepository feed(*db, notifier);
  auto start = Blocking(feed.FeedPosition());
  RecordEvent();
  pqxx::connection numbering(url_);
  pqxx::work holder(numbering);
  holder.exec("SELECT last_seq FROM agent_event_sequencer FOR UPDATE");
  auto held = Blocking(feed.EventsSince(start, 10));
  EXPECT_TRUE(held.events.empty()) << "expected unnumbered events to stay unread";
  EXPECT_TRUE(held.numbering_elsewhere) << "expected the read to say another transaction holds the numbering";
  holder.abort();
  auto after = Blocking(feed.EventsSince(start, 10));
  EXPECT_EQ(after.events.size(), 1U);
  EXPECT_FALSE(after.numbering_elsewhere);
  notifier.Stop();
  db->Stop();
}

}  // namespace
}  // namespace sb::pgtest
