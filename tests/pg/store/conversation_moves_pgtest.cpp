// What a conversation's moves cost and answer in the database: the metrics
// trigger fires only for moves that change a metric, a resolve gives the
// answers the agent API maps to HTTP, an assignment fills only the room
// agents have, and the router's turn announces its own assignments.
#include <nlohmann/json.hpp>

#include "pg_fixture.hpp"
#include "sb/common/metrics.hpp"
#include "sb/store/agent_repository.hpp"
#include "sb/store/database.hpp"
#include "sb/store/event_notifier.hpp"
#include "sb/store/router_repository.hpp"
#include "session.hpp"

namespace sb::pgtest {
namespace {

class ConversationMovesTest : public StoreDb {
 protected:
  void SetUp() override {
    StoreDb::SetUp();
    if (IsSkipped()) return;
    b_ = std::to_string(business_);
    queue_ = Count("INSERT INTO queues (business_id, name, strategy) VALUES (" + b_ +
                   ", 'Orders', 'least_busy') RETURNING id");
    other_queue_ = Count("INSERT INTO queues (business_id, name, strategy) VALUES (" + b_ +
                         ", 'Returns', 'least_busy') RETURNING id");
    ana_ = Agent("Ana", queue_);
    bo_ = Agent("Bo", queue_);
    cy_ = Agent("Cy", other_queue_);
  }

  std::int64_t Agent(const std::string& name, std::int64_t queue) {
    auto id = Count("INSERT INTO agents (business_id, name, capacity, status) VALUES (" + b_ + ", '" + name +
                    "', 2, 'online') RETURNING id");
    Sql("INSERT INTO agent_queues (business_id, agent_id, queue_id) VALUES (" + b_ + ", " + std::to_string(id) + ", " +
        std::to_string(queue) + ")");
    return id;
  }

  /// A conversation of a new contact, not routed yet.
  std::int64_t Unrouted() {
    auto channel = std::to_string(whatsapp_.key.channel_id);
    auto contact = Count("INSERT INTO contacts (business_id, channel_id, external_id) VALUES (" + b_ + ", " + channel +
                         ", 'c" + std::to_string(++contacts_) + "') RETURNING id");
    return Count("INSERT INTO conversations (business_id, channel_id, contact_id) VALUES (" + b_ + ", " + channel +
                 ", " + std::to_string(contact) + ") RETURNING id");
  }

  /// A conversation of a new contact, routed to the queue and waiting.
  std::int64_t Waiting(std::int64_t queue) {
    auto id = Unrouted();
    Sql("UPDATE conversations SET routed_at = now(), status = 'waiting', waiting_since = now(), queue_id = " +
        std::to_string(queue) + " WHERE business_id = " + b_ + " AND id = " + std::to_string(id));
    return id;
  }

  /// One router turn on a connection of its own, every conversation of this
  /// business routed to the queue, with a notifier that no longer sends
  /// (whatever is announced comes from the turn's own transaction). This
  /// business's events.
  std::vector<store::AgentEventRef> RouterTurn() {
    auto db = OpenDatabase("router");
    store::EventNotifier notifier(*db);
    notifier.Stop();
    store::RouterRepository repository(*db, notifier);
    auto decide = [&](const store::RoutingCandidate& c, const std::optional<store::RoutingRulesRow>&,
                      store::RoutingLookups&) {
      store::RoutingDecision d;
      d.intent = "other";
      d.queue_id = c.business_id == business_ ? std::optional<std::int64_t>(queue_) : c.queue_id;
      d.status = "waiting";
      d.event = "routed";
      return d;
    };
    auto round = repository.RouteAndAssign(100, 100, decide);
    db->Stop();
    std::vector<store::AgentEventRef> mine;
    for (const auto& e : round.events) {
      if (e.business_id == business_) mine.push_back(e);
    }
    return mine;
  }

  void Set(std::int64_t conversation, const std::string& assignments) {
    Sql("UPDATE conversations SET " + assignments + " WHERE business_id = " + b_ +
        " AND id = " + std::to_string(conversation));
  }

  /// Calls of sb_conversation_metrics made by `statement`, in its own transaction.
  std::string MetricsCalls(const std::string& statement) {
    // The transaction's view also holds calls not yet flushed from earlier
    // transactions of this connection: the difference is this statement's.
    static constexpr const char* kCalls =
        "SELECT coalesce(sum(calls), 0) FROM pg_stat_xact_user_functions WHERE funcname = 'sb_conversation_metrics'";
    pqxx::work tx(*conn_);
    tx.exec0("SET LOCAL track_functions = 'pl'");
    auto before = tx.exec1(kCalls)[0].as<long>();
    tx.exec(statement);
    auto after = tx.exec1(kCalls)[0].as<long>();
    tx.commit();
    return std::to_string(after - before);
  }

  /// sb_resolve_conversations' answers to one batch, item by item, each as
  /// "refused|status|event_agent|has conversation". `agent` "NULL" is the
  /// business's key.
  std::vector<std::string> ResolveBatch(const std::vector<std::pair<std::int64_t, std::string>>& items) {
    std::string json = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
      json += (i ? ", " : "") + std::string(R"({"n": )") + std::to_string(i) + R"(, "business": )" + b_ +
              R"(, "conversation": )" + std::to_string(items[i].first) + R"(, "agent": )" +
              (items[i].second == "NULL" ? "null" : items[i].second) +
              R"(, "outcome": "sale", "amount_cents": 129900, "currency": "USD"})";
    }
    json += "]";
    std::vector<std::string> answers(items.size());
    for (const auto& row : Sql("SELECT n, refused, status, event_agent, conversation IS NOT NULL, event_id "
                               "FROM sb_resolve_conversations('" +
                               json + "')")) {
      auto n = row[0].as<std::size_t>();
      auto& answer = answers.at(n);
      EXPECT_EQ(answer, "") << "item " << n << " answered twice";
      answer = row[1].c_str() + std::string("|") + row[2].c_str() + "|" + row[3].c_str() + "|" + row[4].c_str();
      if (!row[5].is_null()) {
        EXPECT_EQ(Value("SELECT agent_id || ':' || (payload ->> 'id') || ':' || type FROM agent_events WHERE id = " +
                        std::string(row[5].c_str())),
                  row[3].c_str() + std::string(":") + std::to_string(items[n].first) + ":conversation.updated")
            << "item " << n << "'s event";
      }
    }
    return answers;
  }

  /// The answer to a batch of one.
  std::string Resolve(std::int64_t conversation, const std::string& agent) {
    return ResolveBatch({{conversation, agent}})[0];
  }

  /// Agent events about this business's conversations, as "agent:conversation" in id order.
  std::string UpdatedEvents() {
    return Value(
        "SELECT coalesce(string_agg(agent_id || ':' || (payload ->> 'id'), ' ' ORDER BY id), '') "
        "FROM agent_events WHERE business_id = " +
        b_ + " AND type = 'conversation.updated'");
  }

  bool RouterProbeNamesBusiness() {
    auto db = OpenDatabase("probe");
    bool named = false;
    db->RunSync("probe", [&](store::Session& s) {
      for (const auto& row : s.Exec("router/waiting_businesses"))
        named = named || row[0].as<std::int64_t>() == business_;
    });
    db->Stop();
    return named;
  }

  std::string b_;
  std::int64_t queue_ = 0;
  std::int64_t other_queue_ = 0;
  std::int64_t ana_ = 0;
  std::int64_t bo_ = 0;
  std::int64_t cy_ = 0;
  int contacts_ = 0;
};

TEST_F(ConversationMovesTest, MovesBetweenQueueAndAgentLeaveTheMetricsTriggerAlone) {
  auto id = Waiting(queue_);
  auto where = " WHERE business_id = " + b_ + " AND id = " + std::to_string(id);
  auto metrics = "SELECT row_to_json(m)::text FROM conversation_metrics m WHERE business_id = " + b_ +
                 " AND conversation_id = " + std::to_string(id);
  ASSERT_EQ(Sql(metrics).size(), 1U) << "routing the conversation writes its metrics row";
  auto before = Value(metrics);

  auto ana = std::to_string(ana_);
  EXPECT_EQ(MetricsCalls("UPDATE conversations SET status = 'offered', agent_id = " + ana + where), "0");
  EXPECT_EQ(MetricsCalls("UPDATE conversations SET status = 'assigned'" + where), "0");
  EXPECT_EQ(MetricsCalls("UPDATE conversations SET status = 'waiting', agent_id = NULL" + where), "0");
  EXPECT_EQ(MetricsCalls("UPDATE conversations SET status = 'assigned', agent_id = " + ana + where), "0");
  EXPECT_EQ(Value(metrics), before);

  // What a metric reads still fires it.
  EXPECT_EQ(MetricsCalls("UPDATE conversations SET intent = 'purchase'" + where), "1");
  EXPECT_EQ(MetricsCalls("UPDATE conversations SET status = 'bot'" + where), "1");
  EXPECT_EQ(MetricsCalls("UPDATE conversations SET status = 'waiting'" + where), "1");
  EXPECT_EQ(Value("SELECT bot_handled::text || escalated::text FROM conversation_metrics WHERE business_id = " + b_ +
                  " AND conversation_id = " + std::to_string(id)),
            "truetrue");
  EXPECT_EQ(MetricsCalls("UPDATE conversations SET status = 'resolved', resolved_at = now()" + where), "1");
  EXPECT_EQ(Value("SELECT resolved::text FROM conversation_metrics WHERE business_id = " + b_ +
                  " AND conversation_id = " + std::to_string(id)),
            "true");
}

TEST_F(ConversationMovesTest, DecisionsAndResolveBatchesWriteTheirMetricsRowsThemselves) {
  auto id = std::to_string(Unrouted());
  auto where = " WHERE business_id = " + b_ + " AND id = " + id;
  auto metrics =
      "SELECT channel_kind || ' ' || order_status_intent || ' ' || any_intent || ' ' || resolved || ' ' || "
      "sale || ' ' || coalesce(amount_cents::text, '-') || ' ' || coalesce(currency, '-') || ' ' || "
      "(resolution_s IS NOT NULL) FROM conversation_metrics WHERE business_id = " +
      b_ + " AND conversation_id = " + id;
  EXPECT_EQ(MetricsCalls("SELECT sb_apply_routing_decisions('[{\"business_id\": " + b_ + ", \"id\": " + id +
                         ", \"intent\": \"order_status\", \"queue_id\": " + std::to_string(queue_) +
                         ", \"bot\": null, \"status\": \"waiting\", \"event\": \"routed\", "
                         "\"detail\": null}]')"),
            "0");
  EXPECT_EQ(Value(metrics), "whatsapp true true false false - - false") << "the decision's row";
  Sql("UPDATE conversations SET status = 'assigned', agent_id = " + std::to_string(ana_) + where);
  EXPECT_EQ(MetricsCalls("SELECT * FROM sb_resolve_conversations('[{\"n\": 0, \"business\": " + b_ +
                         ", \"conversation\": " + id + ", \"agent\": " + std::to_string(ana_) +
                         ", \"outcome\": \"sale\", \"amount_cents\": 129900, \"currency\": \"USD\"}]')"),
            "0");
  EXPECT_EQ(Value(metrics), "whatsapp true true true true 129900 USD true") << "the resolve's row";
  // Only for their own statements: an update after them in the same
  // transaction has its row written by the trigger.
  EXPECT_EQ(MetricsCalls("SELECT sb_apply_routing_decisions('[]'); SELECT * FROM sb_resolve_conversations('[]'); "
                         "UPDATE conversations SET intent = 'purchase'" +
                         where),
            "1");
}

TEST_F(ConversationMovesTest, ResolveAnswersAsTheAgentApiExpects) {
  auto ana = std::to_string(ana_);
  auto mine = Waiting(queue_);
  Set(mine, "status = 'assigned', agent_id = " + ana);
  auto bos = Waiting(queue_);
  Set(bos, "status = 'assigned', agent_id = " + std::to_string(bo_));
  auto waiting_in_my_queue = Waiting(queue_);
  auto waiting_elsewhere = Waiting(other_queue_);

  EXPECT_EQ(Resolve(999999, ana), "not_found|||f");
  EXPECT_EQ(Resolve(bos, ana), "not_found|||f") << "another agent's conversation is not Ana's to see";
  EXPECT_EQ(Resolve(waiting_elsewhere, ana), "not_found|||f");
  EXPECT_EQ(Resolve(waiting_in_my_queue, ana), "not_assigned|waiting||f");
  EXPECT_EQ(Resolve(mine, ana), "|resolved|" + ana + "|t");
  // Resolved already: the repository answers this as no open conversation.
  EXPECT_EQ(Resolve(mine, ana), "not_assigned|resolved||f");
  EXPECT_EQ(Resolve(mine, "NULL"), "not_found|resolved||f");

  // The business's key resolves any open conversation; the agent it was
  // with is told, and the contact remembers that agent.
  EXPECT_EQ(Resolve(bos, "NULL"), "|resolved|" + std::to_string(bo_) + "|t");
  EXPECT_EQ(Value("SELECT ct.last_agent_id FROM conversations v JOIN contacts ct ON ct.business_id = v.business_id "
                  "AND ct.id = v.contact_id WHERE v.business_id = " +
                  b_ + " AND v.id = " + std::to_string(bos)),
            std::to_string(bo_));
  EXPECT_EQ(Resolve(waiting_elsewhere, "NULL"), "|resolved||t") << "nobody to tell";
  EXPECT_EQ(Value("SELECT count(*) FROM conversations WHERE business_id = " + b_ + " AND status = 'resolved'"), "3");
  EXPECT_EQ(Value("SELECT outcome || amount_cents || currency FROM conversations WHERE business_id = " + b_ +
                  " AND id = " + std::to_string(mine)),
            "sale129900USD");
}

TEST_F(ConversationMovesTest, OneBatchOfResolvesAnswersEachAsItWouldBeAnsweredAlone) {
  auto ana = std::to_string(ana_);
  auto bo = std::to_string(bo_);
  auto mine = Waiting(queue_);
  Set(mine, "status = 'assigned', agent_id = " + ana);
  auto bos = Waiting(queue_);
  Set(bos, "status = 'assigned', agent_id = " + bo);
  auto mine_too = Waiting(queue_);
  Set(mine_too, "status = 'assigned', agent_id = " + ana);
  auto waiting_in_my_queue = Waiting(queue_);
  auto waiting_elsewhere = Waiting(other_queue_);

  // The answers of ResolveAnswersAsTheAgentApiExpects, here in one batch
  // whose items see the ones before them: `mine` twice by Ana (the second
  // finds it resolved), then by the key; `bos` refused to Ana, then resolved
  // by the key; `waiting_elsewhere` resolved by the key after Ana was told
  // it is not hers to see; `mine_too` resolved by Ana.
  auto answers = ResolveBatch({{999999, ana},
                               {bos, ana},
                               {waiting_elsewhere, ana},
                               {waiting_in_my_queue, ana},
                               {mine, ana},
                               {mine, ana},
                               {mine, "NULL"},
                               {bos, "NULL"},
                               {waiting_elsewhere, "NULL"},
                               {mine_too, ana}});
  EXPECT_EQ(answers,
            (std::vector<std::string>{"not_found|||f", "not_found|||f", "not_found|||f", "not_assigned|waiting||f",
                                      "|resolved|" + ana + "|t", "not_assigned|resolved||f", "not_found|resolved||f",
                                      "|resolved|" + bo + "|t", "|resolved||t", "|resolved|" + ana + "|t"}));
  // One event for each agent told: first those of the resolves the batch's
  // one update made (in the batch's order), then those answered one by one
  // after it (Bo's, by the key after Ana was refused).
  EXPECT_EQ(UpdatedEvents(), ana + ":" + std::to_string(mine) + " " + ana + ":" + std::to_string(mine_too) + " " + bo +
                                 ":" + std::to_string(bos));
  EXPECT_EQ(Value("SELECT string_agg(ct.last_agent_id::text, ',' ORDER BY v.id) FROM conversations v "
                  "JOIN contacts ct ON ct.business_id = v.business_id AND ct.id = v.contact_id "
                  "WHERE v.business_id = " +
                  b_ + " AND v.status = 'resolved' AND v.agent_id IS NOT NULL"),
            ana + "," + bo + "," + ana)
      << "the contacts of the resolved conversations remember their agents";
  EXPECT_EQ(Value("SELECT count(*) FROM conversations WHERE business_id = " + b_ + " AND status = 'resolved'"), "4");
  EXPECT_EQ(Value("SELECT count(*) FROM conversation_metrics WHERE business_id = " + b_ + " AND resolved"), "4");
}

TEST_F(ConversationMovesTest, ResolvesArrivingTogetherAreEachAnsweredAndALockedOneFailsAlone) {
  // Another transaction holds one of twelve conversations past the statement
  // timeout: the batch it is in fails at its 100 ms lock timeout, and that
  // batch's resolves are tried again one by one. Held first (the first
  // resolve goes out alone, the eleven that arrive meanwhile together) or
  // held among the eleven.
  for (std::size_t locked : {std::size_t{0}, std::size_t{5}}) {
    SCOPED_TRACE("conversation " + std::to_string(locked) + " held");
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 12; ++i) {
      ids.push_back(Waiting(queue_));
      Set(ids.back(), "status = 'assigned', agent_id = " + std::to_string(ana_));
    }
    pqxx::connection holder(url_);
    pqxx::work hold(holder);
    hold.exec1("SELECT 1 FROM conversations WHERE business_id = " + b_ + " AND id = " + std::to_string(ids[locked]) +
               " FOR UPDATE");

    store::DbOptions options;
    options.url = url_;
    options.pool_size = 2;
    options.statement_timeout = std::chrono::milliseconds(2000);
    store::Database db(options);
    store::EventNotifier notifier(db);
    notifier.Stop();
    metrics::Registry registry;
    store::AgentRepository agents(db, notifier, &registry);
    boost::asio::io_context io;
    auto guard = boost::asio::make_work_guard(io);
    std::vector<std::optional<store::AgentRepository::Resolution>> answers(ids.size());
    std::vector<std::exception_ptr> errors(ids.size());
    std::vector<std::chrono::milliseconds> took(ids.size());
    std::size_t left = ids.size();
    auto start = std::chrono::steady_clock::now();
    // Resolve takes its strings by reference: they live in this frame.
    auto resolve = [&](std::int64_t id) -> boost::asio::awaitable<store::AgentRepository::Resolution> {
      const std::string outcome = "sale";
      const std::optional<std::string> currency = "USD";
      co_return co_await agents.Resolve(business_, id, outcome, 4200, currency, ana_);
    };
    for (std::size_t i = 0; i < ids.size(); ++i) {
      boost::asio::co_spawn(io, resolve(ids[i]), [&, i](std::exception_ptr e, store::AgentRepository::Resolution r) {
        took[i] = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
        if (e) errors[i] = e;
        if (!e) answers[i] = std::move(r);
        if (--left == 0) guard.reset();
      });
    }
    io.run();
    hold.abort();
    db.Stop();

    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (i == locked) {
        EXPECT_FALSE(answers[i].has_value());
        ASSERT_TRUE(errors[i]) << "the held conversation's resolve succeeded";
        EXPECT_THROW(std::rethrow_exception(errors[i]), store::Timeout);
        continue;
      }
      ASSERT_TRUE(answers[i].has_value()) << "resolve " << i << " failed";
      EXPECT_EQ(answers[i]->refused, store::AgentRepository::Resolution::Refusal::kNone) << i;
      EXPECT_EQ(answers[i]->status, "resolved") << i;
      EXPECT_NE(answers[i]->conversation.find("\"id\" : " + std::to_string(ids[i]) + ","), std::string::npos)
          << answers[i]->conversation;
      // Had the batch waited for the lock, they would have waited for the
      // statement timeout (2 s) first.
      EXPECT_LT(took[i].count(), 1500) << "resolve " << i << " waited for the held conversation";
    }
    std::string where = " AND id IN (" + std::to_string(ids.front());
    for (std::size_t i = 1; i < ids.size(); ++i) where += ", " + std::to_string(ids[i]);
    where += ")";
    EXPECT_EQ(Value("SELECT count(*) FROM conversations WHERE business_id = " + b_ + where +
                    " AND status = 'resolved' AND outcome = 'sale' AND amount_cents = 4200 AND currency = 'USD'"),
              "11");
    EXPECT_EQ(Value("SELECT status FROM conversations WHERE business_id = " + b_ +
                    " AND id = " + std::to_string(ids[locked])),
              "assigned");
    EXPECT_EQ(Value("SELECT count(*) FROM agent_events WHERE business_id = " + b_ +
                    " AND type = 'conversation.updated' AND (payload ->> 'id')::bigint IN (SELECT id FROM "
                    "conversations WHERE business_id = " +
                    b_ + where + ")"),
              "11");
    // The first resolve went out alone; the eleven that arrived while it
    // committed went out together (and, when held up, one by one).
    auto& sizes = registry.GetHistogram("switchboard_agent_resolve_batch_size", "", {});
    std::vector<std::uint64_t> buckets;
    double sum = 0;
    std::uint64_t batches = 0;
    sizes.Snapshot(buckets, sum, batches);
    EXPECT_EQ(sum, 12.0) << "every resolve went out in a batch once";
    EXPECT_LT(batches, 12U) << "resolves that arrived together went out together";
  }
}

TEST_F(ConversationMovesTest, AssignmentFillsOnlyTheRoomEachAgentHas) {
  // Ana has one of her two slots taken, Bo both; Cy serves another queue.
  Set(Waiting(queue_), "status = 'assigned', agent_id = " + std::to_string(ana_));
  Set(Waiting(queue_), "status = 'assigned', agent_id = " + std::to_string(bo_));
  Set(Waiting(queue_), "status = 'offered', agent_id = " + std::to_string(bo_));
  for (int i = 0; i < 3; ++i) Waiting(queue_);

  auto assigned = Sql("SELECT agent_id FROM sb_assign_waiting(" + b_ + ", 10)");
  ASSERT_EQ(assigned.size(), 1U) << "one slot free in the queue's agents";
  EXPECT_EQ(assigned[0][0].as<std::int64_t>(), ana_);
  EXPECT_EQ(Value("SELECT count(*) FROM conversations WHERE business_id = " + b_ + " AND status = 'waiting'"), "2");
  EXPECT_EQ(Sql("SELECT 1 FROM sb_assign_waiting(" + b_ + ", 10)").size(), 0U);

  // The router's probe names the business while a conversation waits and
  // any online agent has room, in whatever queue: Cy has.
  EXPECT_TRUE(RouterProbeNamesBusiness());
  Sql("UPDATE agents SET status = 'away' WHERE business_id = " + b_ + " AND id = " + std::to_string(cy_));
  EXPECT_FALSE(RouterProbeNamesBusiness()) << "everyone online is full";
  Sql("UPDATE agents SET capacity = 3 WHERE business_id = " + b_ + " AND id = " + std::to_string(bo_));
  EXPECT_TRUE(RouterProbeNamesBusiness()) << "Bo has room again";
  assigned = Sql("SELECT agent_id FROM sb_assign_waiting(" + b_ + ", 10)");
  ASSERT_EQ(assigned.size(), 1U);
  EXPECT_EQ(assigned[0][0].as<std::int64_t>(), bo_);
  Sql("UPDATE conversations SET status = 'resolved' WHERE business_id = " + b_ + " AND status = 'waiting'");
  Sql("UPDATE agents SET status = 'online' WHERE business_id = " + b_ + " AND id = " + std::to_string(cy_));
  EXPECT_FALSE(RouterProbeNamesBusiness()) << "nothing waits";
}

TEST_F(ConversationMovesTest, AssignmentLocksNoMoreWaitingConversationsThanItMayAssign) {
  // Ana has room for two, Bo for one; five wait in their queue.
  for (int i = 0; i < 5; ++i) Waiting(queue_);
  Sql("UPDATE agents SET status = 'away' WHERE business_id = " + b_ + " AND id = " + std::to_string(cy_));
  Sql("UPDATE agents SET capacity = 1 WHERE business_id = " + b_ + " AND id = " + std::to_string(bo_));
  pqxx::connection other(url_);
  auto lockable = [&] {
    pqxx::work tx(other);
    auto n = tx.exec1("SELECT count(*) FROM (SELECT 1 FROM conversations WHERE business_id = " + b_ +
                      " AND status = 'waiting' FOR UPDATE SKIP LOCKED) x")[0]
                 .as<int>();
    tx.commit();
    return n;
  };
  {
    // At most 2 (the limit asked), though there is room for 3.
    pqxx::work tx(*conn_);
    EXPECT_EQ(tx.exec("SELECT 1 FROM sb_assign_waiting(" + b_ + ", 2)").size(), 2U);
    EXPECT_EQ(lockable(), 3) << "the two assigned are locked until the commit, the other three are free";
    tx.commit();
  }
  {
    // Room for one more now: one conversation locked, not every one waiting.
    pqxx::work tx(*conn_);
    EXPECT_EQ(tx.exec("SELECT agent_id FROM sb_assign_waiting(" + b_ + ", 10)").size(), 1U);
    EXPECT_EQ(lockable(), 2);
    tx.commit();
  }
  EXPECT_EQ(Value("SELECT count(*) FROM conversations WHERE business_id = " + b_ + " AND status = 'waiting'"), "2");
}

TEST_F(ConversationMovesTest, TheRoutersTurnNumbersAndAnnouncesItsAssignmentsBeforeItReturns) {
  pqxx::connection listening(url_);
  Announcements announcements(listening);
  auto id = Unrouted();
  auto mine = RouterTurn();
  ASSERT_EQ(mine.size(), 1U);
  auto event = std::to_string(mine[0].event_id);
  EXPECT_EQ(Value("SELECT type || ' ' || (payload ->> 'id') || ' ' || (seq IS NOT NULL) FROM agent_events "
                  "WHERE business_id = " +
                  b_ + " AND id = " + event),
            "conversation.assigned " + std::to_string(id) + " true")
      << "numbered in the turn's transaction";
  for (int i = 0; i < 50 && announcements.payloads.empty(); ++i) listening.await_notification(0, 100000);
  std::string heard;
  bool announced = false;
  for (const auto& p : announcements.payloads) {
    heard += p;
    for (const auto& ref : nlohmann::json::parse(p)) {
      announced = announced || ref == nlohmann::json::array({mine[0].business_id, mine[0].agent_id, mine[0].event_id});
    }
  }
  EXPECT_TRUE(announced) << heard;
}

TEST_F(ConversationMovesTest, AFailedAnnouncementLeavesTheTurnsWorkStanding) {
  auto id = Unrouted();
  // The announcing function renamed away: its call fails inside the turn.
  Sql("ALTER FUNCTION sb_announce_agent_events(json) RENAME TO sb_announce_agent_events_away");
  std::vector<store::AgentEventRef> mine;
  try {
    mine = RouterTurn();
  } catch (...) {
    Sql("ALTER FUNCTION sb_announce_agent_events_away(json) RENAME TO sb_announce_agent_events");
    throw;
  }
  Sql("ALTER FUNCTION sb_announce_agent_events_away(json) RENAME TO sb_announce_agent_events");
  EXPECT_EQ(mine.size(), 1U);
  // Routed and assigned in the one transaction (the same now()), not by the
  // step-by-step fall-back; its event left for the notifier to number.
  EXPECT_EQ(Value("SELECT status || ' ' || (routed_at = assigned_at) FROM conversations WHERE business_id = " + b_ +
                  " AND id = " + std::to_string(id)),
            "assigned true");
  EXPECT_EQ(Value("SELECT count(*) FROM agent_events WHERE business_id = " + b_ + " AND seq IS NULL"), "1");
}

}  // namespace
}  // namespace sb::pgtest
