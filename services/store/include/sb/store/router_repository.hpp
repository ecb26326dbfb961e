#pragma once
/// The router's transactions: deciding unrouted conversations and assigning
/// waiting ones. Decisions are made by a callback (the router's logic) inside
/// the transaction, so a conversation is decided exactly once however many
/// processes route. Blocking calls, for the router's own thread.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sb/store/database.hpp"
#include "sb/store/lease.hpp"

namespace sb::store {

struct RoutingCandidate {
  std::int64_t business_id = 0;
  std::int64_t conversation_id = 0;
  std::string channel_kind;
  std::string text;     // latest inbound message text
  std::string payload;  // its postback / button payload
  std::optional<std::string> ad_id;
  std::string contact_external_id;
  std::optional<std::string> contact_phone;
  std::string status;              // waiting (new) or bot (a bot conversation got a message)
  std::optional<std::string> bot;  // the bot handling it
  std::optional<std::int64_t> queue_id;
};

struct RoutingRulesRow {
  std::int64_t version = 0;
  std::int64_t default_queue_id = 0;
  std::string rules_json;
};

struct OrderRow {
  std::string order_ref, status;
  std::optional<std::string> carrier, tracking_url, eta;
};

struct ProductRow {
  std::string sku, name;
  std::int64_t stock = 0, price_cents = 0;
  std::string currency;
};

struct RoutingDecision {
  std::string intent;
  std::optional<std::int64_t> queue_id;
  std::optional<std::string> bot;  // set while a bot keeps the conversation
  std::string status;              // bot | waiting
  std::string event;               // routed | bot_answered | handover
  std::string detail_json = "{}";
  std::optional<std::string> reply_text;  // a bot's answer, queued as an outbound message
};

/// Look-ups a decision may need, inside the routing transaction.
class RoutingLookups {
 public:
  virtual ~RoutingLookups() = default;
  virtual std::optional<OrderRow> FindOrder(std::int64_t business_id, const std::optional<std::string>& order_ref,
                                            const std::string& contact_external_id,
                                            const std::optional<std::string>& contact_phone) = 0;
  virtual const std::vector<ProductRow>& Products(std::int64_t business_id) = 0;
};

using Decide =
    std::function<RoutingDecision(const RoutingCandidate&, const std::optional<RoutingRulesRow>&, RoutingLookups&)>;

/// A recorded agent event (agent_events.id; its number, seq, is given later,
/// in commit order, by the sequencer).
struct AgentEventRef {
  std::int64_t business_id = 0;
  std::int64_t agent_id = 0;
  std::int64_t event_id = 0;
};

class EventNotifier;

class RouterRepository {
 public:
  RouterRepository(Database& db, EventNotifier& notifier) : db_(db), notifier_(notifier) {}
  struct Round {
    int routed = 0;                     // conversations decided
    int replies = 0;                    // bot replies queued
    std::vector<AgentEventRef> events;  // assignments and offers
  };
  /// One turn of the router in one transaction (one commit): decides up to
  /// `route_limit` unrouted conversations, then assigns waiting
  /// conversations of every business, at most `per_business` each. When
  /// that transaction fails, the same work runs as RouteBatch and
  /// AssignWaiting do, so one business cannot hold up the others. The
  /// turn's events are numbered and announced (one NOTIFY) in its own
  /// transaction; the fallback's go through the EventNotifier.
  Round RouteAndAssign(int route_limit, int per_business, const Decide& decide);
  /// Expired offers, breached first-response SLAs, queue overflow: one
  /// transaction, its events announced after it, run only by the holder of the router-timers
  /// lease (taken or renewed in the same transaction). Returns the agent
  /// events recorded, or nullopt when another process holds the lease.
  std::optional<std::vector<AgentEventRef>> RunTimers(int limit, const LeaseHolder& lease);
  /// Whether a conversation waits in a queue of a business where an online
  /// agent has room: one statement, so that a freed slot costs a turn only
  /// when a conversation can take it.
  bool ConversationWaitsForRoom();

 private:
  /// Decides up to `limit` unrouted conversations in one transaction; returns
  /// how many, and how many bot replies were queued.
  std::pair<int, int> RouteBatch(int limit, const Decide& decide);
  /// Assigns waiting conversations of every business, one transaction per
  /// business (a business whose assignment fails is logged and skipped);
  /// its events are announced once it committed. Returns the events.
  std::vector<AgentEventRef> AssignWaiting(int per_business);

  Database& db_;
  EventNotifier& notifier_;
};

}  // namespace sb::store
