// Which agent sb_assign_waiting gives each waiting conversation, checked
// against a model of the rule in random situations: agents with and without
// room, one queue or several, least_busy and round_robin, returning
// customers, agents who declined, more waiting than room.
#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "pg_fixture.hpp"

namespace sb::pgtest {
namespace {

struct ModelAgent {
  std::int64_t id = 0;
  int capacity = 0;
  int load = 0;
  std::optional<int> assigned_seconds_ago;  // last_assigned_at; none: never
  std::set<std::int64_t> queues;
};

struct ModelConversation {
  std::int64_t id = 0;
  std::int64_t queue = 0;
  int waiting_seconds = 0;  // waiting_since = now() - this; distinct
  std::optional<std::int64_t> last_agent;
  std::vector<std::int64_t> declined_by;
};

// The rule as the API documents it, written plainly: conversations in the
// order they wait, each to the agent of its queue with room that is, in
// this order, the contact's last agent, not among those who declined it,
// least busy (least_busy queues only), assigned to longest ago, lowest id.
std::vector<std::pair<std::int64_t, std::int64_t>> Expected(std::vector<ModelAgent> agents,
                                                            std::vector<ModelConversation> waiting,
                                                            const std::map<std::int64_t, bool>& least_busy, int limit) {
  int room = 0;
  std::set<std::int64_t> served;  // queues of agents with room
  // Turn order: never assigned first, then longest ago; assignments made
  // here come after every stored one, in the order made.
  std::map<std::int64_t, double> turn;
  for (const auto& a : agents) {
    room += std::max(a.capacity - a.load, 0);
    if (a.capacity > a.load) served.insert(a.queues.begin(), a.queues.end());
    turn[a.id] = a.assigned_seconds_ago ? -*a.assigned_seconds_ago : -1e18;
  }
  std::sort(waiting.begin(), waiting.end(), [](const auto& x, const auto& y) {
    return std::tie(y.waiting_seconds, x.id) < std::tie(x.waiting_seconds, y.id);
  });
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  int fetched = 0;
  double clock = 1e15;
  for (const auto& c : waiting) {
    if (fetched >= std::min(limit, room)) break;
    if (!served.count(c.queue)) continue;
    ++fetched;
    ModelAgent* best = nullptr;
    auto key = [&](const ModelAgent& a) {
      bool declined = std::find(c.declined_by.begin(), c.declined_by.end(), a.id) != c.declined_by.end();
      return std::make_tuple(c.last_agent != a.id, declined, least_busy.at(c.queue) ? a.load : 0, turn[a.id], a.id);
    };
    for (auto& a : agents) {
      if (!a.queues.count(c.queue) || a.load >= a.capacity) continue;
      if (!best || key(a) < key(*best)) best = &a;
    }
    if (!best) continue;
    ++best->load;
    turn[best->id] = ++clock;
    out.emplace_back(c.id, best->id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

class AssignmentChoiceTest : public StoreDb {};

TEST_F(AssignmentChoiceTest, EveryChoiceFollowsTheRule) {
  std::mt19937 rng(20261130);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const auto b = std::to_string(business_);
  const auto channel = std::to_string(whatsapp_.key.channel_id);
  int contacts = 0;
  int checked_with_several_queues = 0, checked_returning = 0, checked_declined = 0, checked_idle_room = 0;
  for (int scenario = 0; scenario < 150; ++scenario) {
    pqxx::work tx(*conn_);  // rolled back at the end of each scenario
    auto id = [&](const std::string& sql) { return tx.exec1(sql)[0].as<std::int64_t>(); };
    std::map<std::int64_t, bool> least_busy;
    std::vector<std::int64_t> queues;
    for (int q = pick(1, 3); q > 0; --q) {
      bool lb = pick(0, 1) == 1;
      auto queue = id("INSERT INTO queues (business_id, name, strategy) VALUES (" + b + ", 'q', '" +
                      (lb ? "least_busy" : "round_robin") + "') RETURNING id");
      least_busy[queue] = lb;
      queues.push_back(queue);
    }
    std::vector<ModelAgent> agents;
    std::set<int> ago_taken;
    for (int n = pick(1, 7); n > 0; --n) {
      ModelAgent a;
      a.capacity = pick(1, 4);
      if (pick(0, 3) > 0) {
        int ago;
        do ago = pick(1, 10000);
        while (!ago_taken.insert(ago).second);
        a.assigned_seconds_ago = ago;
      }
      a.id = id("INSERT INTO agents (business_id, name, capacity, status, last_assigned_at) VALUES (" + b + ", 'a', " +
                std::to_string(a.capacity) + ", 'online', " +
                (a.assigned_seconds_ago ? "now() - interval '" + std::to_string(*a.assigned_seconds_ago) + " s'"
                                        : std::string("NULL")) +
                ") RETURNING id");
      // Most agents serve one queue or more; some serve none (their room
      // counts in the total, but no conversation may go to them).
      const bool in_no_queue = pick(0, 5) == 0;
      for (auto q : queues) {
        if (in_no_queue || (pick(0, 2) == 0 && !a.queues.empty())) continue;
        a.queues.insert(q);
        tx.exec0("INSERT INTO agent_queues (business_id, agent_id, queue_id) VALUES (" + b + ", " +
                 std::to_string(a.id) + ", " + std::to_string(q) + ")");
      }
      agents.push_back(a);
    }
    auto conversation = [&](const std::string& status, std::int64_t queue, const std::string& agent,
                            const std::string& waiting_since, const std::string& declined,
                            std::optional<std::int64_t> last_agent) {
      auto contact = id("INSERT INTO contacts (business_id, channel_id, external_id, last_agent_id) VALUES (" + b +
                        ", " + channel + ", 'k" + std::to_string(++contacts) + "', " +
                        (last_agent ? std::to_string(*last_agent) : std::string("NULL")) + ") RETURNING id");
      return id(
          "INSERT INTO conversations (business_id, channel_id, contact_id, status, routed_at, queue_id, "
          "agent_id, waiting_since, declined_by) VALUES (" +
          b + ", " + channel + ", " + std::to_string(contact) + ", '" + status + "', now(), " + std::to_string(queue) +
          ", " + agent + ", " + waiting_since + ", '" + declined + "') RETURNING id");
    };
    for (auto& a : agents) {  // open conversations: the load, at most one over capacity
      for (int n = pick(0, a.capacity + 1); n > 0; --n, ++a.load) {
        conversation("assigned", queues[0], std::to_string(a.id), "NULL", "{}", std::nullopt);
      }
    }
    std::vector<ModelConversation> waiting;
    std::set<int> waits_taken;
    for (int n = pick(0, 10); n > 0; --n) {
      ModelConversation c;
      c.queue = queues[static_cast<std::size_t>(pick(0, static_cast<int>(queues.size()) - 1))];
      do c.waiting_seconds = pick(1, 100000);
      while (!waits_taken.insert(c.waiting_seconds).second);
      if (pick(0, 2) == 0)
        c.last_agent = agents[static_cast<std::size_t>(pick(0, static_cast<int>(agents.size()) - 1))].id;
      std::string declined = "{";
      for (const auto& a : agents) {
        if (pick(0, 3) == 0) {
          c.declined_by.push_back(a.id);
          declined += (declined.size() > 1 ? "," : "") + std::to_string(a.id);
        }
      }
      declined += "}";
      c.id = conversation("waiting", c.queue, "NULL", "now() - interval '" + std::to_string(c.waiting_seconds) + " s'",
                          declined, c.last_agent);
      waiting.push_back(c);
    }
    int limit = pick(1, 12);

    std::vector<std::pair<std::int64_t, std::int64_t>> got;
    for (const auto& r :
         tx.exec("SELECT conversation_id, agent_id FROM sb_assign_waiting(" + b + ", " + std::to_string(limit) + ")")) {
      got.emplace_back(r[0].as<std::int64_t>(), r[1].as<std::int64_t>());
    }
    std::sort(got.begin(), got.end());
    auto expected = Expected(agents, waiting, least_busy, limit);
    ASSERT_EQ(got, expected) << "scenario " << scenario << ": " << agents.size() << " agents, " << queues.size()
                             << " queue(s), " << waiting.size() << " waiting, limit " << limit;
    if (!got.empty() && queues.size() > 1) ++checked_with_several_queues;
    for (const auto& a : agents) {
      // Room no waiting conversation can use, while more wait than fit.
      if (a.queues.empty() && a.capacity > a.load && waiting.size() > got.size()) ++checked_idle_room;
    }
    for (const auto& c : waiting) {
      checked_returning += c.last_agent ? 1 : 0;
      checked_declined += c.declined_by.empty() ? 0 : 1;
    }
  }
  EXPECT_GT(checked_with_several_queues, 10);
  EXPECT_GT(checked_returning, 50);
  EXPECT_GT(checked_declined, 50);
  EXPECT_GT(checked_idle_room, 5);
}

}  // namespace
}  // namespace sb::pgtest
