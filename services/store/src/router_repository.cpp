#include "sb/store/router_repository.hpp"

#include <nlohmann/json.hpp>

#include <spdlog/spdlog.h>

#include <tuple>
#include <unordered_map>

#include "lease.hpp"
#include "sb/store/event_notifier.hpp"
#include "session.hpp"

namespace sb::store {

namespace {

std::optional<std::string> Opt(const pqxx::field& f) {
  return f.is_null() ? std::nullopt : std::optional<std::string>(f.as<std::string>());
}

class SessionLookups : public RoutingLookups {
 public:
  explicit SessionLookups(Session& s) : s_(s) {}

  std::optional<OrderRow> FindOrder(std::int64_t business_id, const std::optional<std::string>& order_ref,
                                    const std::string& contact_external_id,
                                    const std::optional<std::string>& contact_phone) override {
    auto rows =
        s_.Exec("router/find_order", std::to_string(business_id), order_ref, contact_external_id, contact_phone);
    if (rows.empty()) return std::nullopt;
    const auto& r = rows[0];
    return OrderRow{r[0].as<std::string>(), r[1].as<std::string>(), Opt(r[2]), Opt(r[3]), Opt(r[4])};
  }

  const std::vector<ProductRow>& Products(std::int64_t business_id) override {
    auto it = products_.find(business_id);
    if (it != products_.end()) return it->second;
    auto& list = products_[business_id];
    for (const auto& r : s_.Exec("router/products", std::to_string(business_id))) {
      list.push_back(ProductRow{r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::int64_t>(),
                                r[3].as<std::int64_t>(), r[4].as<std::string>()});
    }
    return list;
  }

 private:
  Session& s_;
  std::unordered_map<std::int64_t, std::vector<ProductRow>> products_;
};

// Conversations claimed by router/claim_unrouted, and their businesses'
// routing rules (given with each business's first conversation).
struct Claimed {
  std::vector<RoutingCandidate> candidates;
  std::unordered_map<std::int64_t, RoutingRulesRow> rules;
};

Claimed ReadClaimed(const pqxx::result& rows) {
  Claimed out;
  for (const auto& r : rows) {
    RoutingCandidate c;
    c.business_id = r[0].as<std::int64_t>();
    c.conversation_id = r[1].as<std::int64_t>();
    c.channel_kind = r[2].as<std::string>();
    c.text = r[3].as<std::string>();
    c.payload = r[4].as<std::string>();
    c.ad_id = Opt(r[5]);
    c.contact_external_id = r[6].as<std::string>();
    c.contact_phone = Opt(r[7]);
    c.status = r[8].as<std::string>();
    c.bot = Opt(r[9]);
    if (!r[10].is_null()) c.queue_id = r[10].as<std::int64_t>();
    if (!r[13].is_null()) {
      out.rules[c.business_id] =
          RoutingRulesRow{r[11].as<std::int64_t>(), r[12].as<std::int64_t>(), r[13].as<std::string>()};
    }
    out.candidates.push_back(std::move(c));
  }
  return out;
}

// The decisions on `claimed`, as router/apply_decisions and router/turn take
// them; bot replies are queued in `s` as they are decided.
struct Decided {
  nlohmann::json decisions = nlohmann::json::array();
  int replies = 0;
};

Decided DecideAll(Session& s, const Claimed& claimed, const Decide& decide) {
  Decided out;
  SessionLookups lookups(s);
  for (const auto& c : claimed.candidates) {
    auto it = claimed.rules.find(c.business_id);
    std::optional<RoutingRulesRow> business_rules;
    if (it != claimed.rules.end()) business_rules = it->second;
    RoutingDecision d = decide(c, business_rules, lookups);
    out.decisions.push_back({{"business_id", c.business_id},
                             {"id", c.conversation_id},
                             {"intent", d.intent},
                             {"queue_id", d.queue_id ? nlohmann::json(*d.queue_id) : nlohmann::json()},
                             {"bot", d.bot ? nlohmann::json(*d.bot) : nlohmann::json()},
                             {"status", d.status},
                             {"event", d.event},
                             {"detail", nlohmann::json::parse(d.detail_json, nullptr, false)}});
    if (d.reply_text) {
      nlohmann::json reply = {{"business_id", c.business_id},
                              {"conversation_id", c.conversation_id},
                              {"sender", "bot"},
                              {"agent_id", nullptr},
                              {"text", *d.reply_text},
                              {"tag", nullptr}};
      s.Exec("router/queue_reply", reply.dump());
      ++out.replies;
    }
  }
  return out;
}

// Decides up to `limit` unrouted conversations in `s`'s transaction: how
// many, and how many bot replies were queued.
std::pair<int, int> RouteIn(Session& s, int limit, const Decide& decide) {
  auto claimed = ReadClaimed(s.Exec("router/claim_unrouted", std::to_string(limit)));
  if (claimed.candidates.empty()) return {0, 0};
  auto decided = DecideAll(s, claimed, decide);
  s.Exec("router/apply_decisions", decided.decisions.dump());
  return {static_cast<int>(claimed.candidates.size()), decided.replies};
}

std::vector<std::int64_t> WaitingBusinesses(Session& s) {
  std::vector<std::int64_t> businesses;
  for (const auto& r : s.Exec("router/waiting_businesses")) businesses.push_back(r[0].as<std::int64_t>());
  return businesses;
}

std::vector<AgentEventRef> AssignIn(Session& s, std::int64_t business, int limit) {
  std::vector<AgentEventRef> events;
  for (const auto& r : s.Exec("router/assign", std::to_string(business), std::to_string(limit))) {
    events.push_back(AgentEventRef{business, r[0].as<std::int64_t>(), r[2].as<std::int64_t>()});
  }
  return events;
}

}  // namespace

RouterRepository::Round RouterRepository::RouteAndAssign(int route_limit, int per_business, const Decide& decide) {
  try {
    Round out;
    // Three round trips: BEGIN with the claim, the decisions with the
    // assignments and their announcement (router/turn), COMMIT; each bot
    // reply, and each order or product a bot looks up, adds one.
    db_.RunSync("router/round", [&](Session& s) {
      auto claimed = ReadClaimed(s.ExecInOneTrip("router/claim_unrouted", route_limit));
      auto decided = DecideAll(s, claimed, decide);
      out.routed = static_cast<int>(claimed.candidates.size());
      out.replies = decided.replies;
      std::optional<std::string> announce_error;
      for (const auto& r : s.Exec("router/turn", decided.decisions.dump(), std::to_string(per_business))) {
        out.events.push_back(AgentEventRef{r[0].as<std::int64_t>(), r[1].as<std::int64_t>(), r[2].as<std::int64_t>()});
        if (!r[3].is_null()) announce_error = r[3].as<std::string>();
      }
      if (announce_error) {
        // Numbered and announced in the turn's transaction (see
        // EventNotifier), the streams read them as soon as it commits; when
        // that failed, the notifier announces them after the commit.
        spdlog::warn("announcing the router turn's {} event(s) failed ({}); the notifier announces them",
                     out.events.size(), *announce_error);
        s.AfterCommit([this, events = out.events] { notifier_.Post(events); });
      }
    });
    return out;
  } catch (const std::exception& e) {
    // One business's failure (a statement timeout included) must not hold
    // up the others' routing: the same work in a transaction for each step.
    // Rolled back, so nothing is done twice; with the database away the
    // steps fail as well and the caller hears of it.
    spdlog::warn("router round failed ({}); routing and assigning business by business", e.what());
  }
  Round stepwise;
  std::tie(stepwise.routed, stepwise.replies) = RouteBatch(route_limit, decide);
  stepwise.events = AssignWaiting(per_business);
  return stepwise;
}

std::pair<int, int> RouterRepository::RouteBatch(int limit, const Decide& decide) {
  std::pair<int, int> out;
  db_.RunSync("router/route", [&](Session& s) { out = RouteIn(s, limit, decide); });
  return out;
}

bool RouterRepository::ConversationWaitsForRoom() {
  bool waits = false;
  db_.RunSync("router/waiting_businesses", [&](Session& s) { waits = !WaitingBusinesses(s).empty(); });
  return waits;
}

std::vector<AgentEventRef> RouterRepository::AssignWaiting(int per_business) {
  std::vector<std::int64_t> businesses;
  db_.RunSync("router/waiting_businesses", [&](Session& s) { businesses = WaitingBusinesses(s); });
  std::vector<AgentEventRef> events;
  for (auto business : businesses) {
    try {
      db_.RunSync("router/assign", [&](Session& s) {
        auto mine = AssignIn(s, business, per_business);
        if (!mine.empty()) s.AfterCommit([this, mine] { notifier_.Post(mine); });
        events.insert(events.end(), mine.begin(), mine.end());
      });
    } catch (const std::exception& e) {
      spdlog::warn("business_id={} assignment failed: {}", business, e.what());
    }
  }
  return events;
}

std::optional<std::vector<AgentEventRef>> RouterRepository::RunTimers(int limit, const LeaseHolder& lease) {
  std::vector<AgentEventRef> events;
  bool held = false;
  db_.RunSync("router/timers", [&](Session& s) {
    held = HoldLease(s, kRouterTimersLease, lease);
    if (!held) return;
    for (const auto& r : s.Exec("router/timers", std::to_string(limit))) {
      events.push_back(AgentEventRef{r[0].as<std::int64_t>(), r[1].as<std::int64_t>(), r[2].as<std::int64_t>()});
    }
    if (!events.empty()) s.AfterCommit([this, &events] { notifier_.Post(events); });
  });
  if (!held) return std::nullopt;
  return events;
}

}  // namespace sb::store
