#include "sb/router/router_worker.hpp"

#include <spdlog/spdlog.h>
#include <algorithm>
#include <nlohmann/json.hpp>

#include "sb/common/metrics.hpp"
#include "sb/router/bot_replies.hpp"
#include "sb/router/intent.hpp"
#include "sb/router/rules.hpp"

namespace sb::router {

namespace {

OrderInfo ToOrder(const store::OrderRow& o) {
  return OrderInfo{o.order_ref, o.status, o.carrier, o.tracking_url, o.eta};
}

std::vector<ProductInfo> ToProducts(const std::vector<store::ProductRow>& rows) {
  std::vector<ProductInfo> out;
  out.reserve(rows.size());
  for (const auto& p : rows) out.push_back(ProductInfo{p.sku, p.name, p.stock, p.price_cents, p.currency});
  return out;
}

}  // namespace

RouterWorker::RouterWorker(store::RouterRepository& repository, metrics::Registry& registry, Hooks hooks,
                           store::LeaseHolder timer_lease, std::chrono::milliseconds poll)
    : repository_(repository),
      registry_(registry),
      hooks_(std::move(hooks)),
      timer_lease_(std::move(timer_lease)),
      poll_(poll) {}

RouterWorker::~RouterWorker() { Stop(); }

void RouterWorker::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void RouterWorker::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RouterWorker::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void RouterWorker::SlotFreed() {
  {
    std::lock_guard lock(mu_);
    slot_freed_ = true;
  }
  cv_.notify_all();
}

void RouterWorker::ForgetRules(std::int64_t business_id) {
  std::lock_guard lock(rules_mu_);
  rules_.erase(business_id);
}

std::shared_ptr<const RuleSet> RouterWorker::Rules(std::int64_t business_id, const store::RoutingRulesRow& row) {
  std::lock_guard lock(rules_mu_);
  auto it = rules_.find(business_id);
  if (it != rules_.end() && it->second.first == row.version) return it->second.second;
  auto body = nlohmann::json{{"default_queue_id", row.default_queue_id},
                             {"rules", nlohmann::json::parse(row.rules_json, nullptr, false)}};
  auto compiled = RuleSet::Compile(body);
  if (!compiled) {
    // Stored rules were valid when PUT; a failure here is a broken invariant
    // of ours, but routing to the default queue keeps customers served.
    spdlog::error("business_id={} routing rules v{} no longer compile: {}", business_id, row.version,
                  compiled.error().message);
    return nullptr;
  }
  rules_[business_id] = {row.version, compiled.value()};
  return compiled.value();
}

store::RoutingDecision RouterWorker::Decide(const store::RoutingCandidate& c,
                                            const std::optional<store::RoutingRulesRow>& rules,
                                            store::RoutingLookups& lookups) {
  Detection detected = DetectIntent(c.text, c.payload);
  store::RoutingDecision d;
  d.intent = std::string(ToString(detected.intent));
  std::optional<std::int64_t> default_queue = rules ? std::optional(rules->default_queue_id) : std::nullopt;

  auto handover = [&](std::optional<std::int64_t> queue, const char* why) {
    d.bot.reset();
    d.status = "waiting";
    d.queue_id = queue ? queue : default_queue;
    d.event = "handover";
    d.detail_json = nlohmann::json{{"reason", why}}.dump();
    d.reply_text = HandoverReply(detected.language);
  };

  auto run_bot = [&](const std::string& bot) {
    d.bot = bot;
    d.status = "bot";
    d.event = "bot_answered";
    if (bot == "order_status") {
      auto order = lookups.FindOrder(c.business_id, detected.order_ref, c.contact_external_id, c.contact_phone);
      if (!order) {
        handover(c.queue_id, "order_not_found");
        d.reply_text = OrderNotFoundReply(detected.language) + " " + HandoverReply(detected.language);
        return;
      }
      d.reply_text = OrderStatusReply(ToOrder(*order), detected.language);
      d.detail_json = nlohmann::json{{"order_ref", order->order_ref}}.dump();
    } else {
      auto products = ToProducts(lookups.Products(c.business_id));
      auto found = FindProduct(c.text, products);
      if (!found) {
        handover(c.queue_id, "product_not_found");
        return;
      }
      d.reply_text = StockReply(products[*found], detected.language);
      d.detail_json = nlohmann::json{{"sku", products[*found].sku}}.dump();
    }
  };

  // A bot conversation got another message: the bot answers again, or hands
  // over when asked for a person.
  if (c.status == "bot" && c.bot) {
    if (detected.wants_human) {
      handover(c.queue_id, "customer_asked_for_a_person");
    } else {
      run_bot(*c.bot);
    }
    return d;
  }

  d.status = "waiting";
  d.event = "routed";
  if (!rules) return d;  // no routing set up: waits unqueued
  auto set = Rules(c.business_id, *rules);
  RuleTarget target = set ? set->Match(MessageFacts{c.channel_kind, d.intent, c.text, c.ad_id})
                          : RuleTarget{rules->default_queue_id, std::nullopt};
  if (target.bot && !detected.wants_human) {
    d.queue_id = default_queue;  // where a handover goes
    run_bot(*target.bot);
    return d;
  }
  d.queue_id = target.queue_id ? target.queue_id : default_queue;
  return d;
}

constexpr int kRouteBatch = 200;   // conversations routed per transaction
constexpr int kAssignBatch = 200;  // assignments per business per transaction

void RouterWorker::Loop() {
  auto& routed = registry_.GetCounter("switchboard_router_decisions_total", "Conversations routed");
  auto& assignments = registry_.GetCounter("switchboard_assignments_total", "Conversations assigned or offered");
  auto& failures = registry_.GetCounter("switchboard_router_failures_total", "Router ticks that failed");
  const std::string slot_checks_help =
      "Looks, after an agent of this process freed a slot, whether a conversation waits";
  auto& slot_checks_turned =
      registry_.GetCounter("switchboard_router_slot_checks_total", slot_checks_help, {{"result", "turned"}});
  auto& slot_checks_idle =
      registry_.GetCounter("switchboard_router_slot_checks_total", slot_checks_help, {{"result", "nothing_waiting"}});
  auto& turn_seconds =
      registry_.GetHistogram("switchboard_router_turn_seconds",
                             "One router turn (route, then assign, in one transaction), from its start to its commit",
                             metrics::LatencyBuckets());
  auto& timers_owned = registry_.GetGauge("switchboard_lease_held", "1 while this process holds the lease",
                                          {{"lease", std::string(store::kRouterTimersLease)}});
  bool owns_timers = false;
  // Timers (offers, SLAs, overflow) are due to the second: once a poll
  // interval is enough, however often new conversations wake the router.
  auto timers_run = std::chrono::steady_clock::time_point{};
  auto next_poll = std::chrono::steady_clock::now() + poll_;
  auto next_slot_check = std::chrono::steady_clock::time_point{};
  for (;;) {
    // A wake or the poll runs a turn; a freed slot alone only a look at
    // whether a conversation waits for it, at most once every
    // kSlotCheckEvery (agents resolving hundreds a second must not turn the
    // router that often for nothing), and those looks do not put off the
    // poll.
    bool slot_check_only = false;
    {
      std::unique_lock lock(mu_);
      for (;;) {
        const auto now = std::chrono::steady_clock::now();
        if (stopping_ || woken_ || now >= next_poll) break;
        if (slot_freed_ && now >= next_slot_check) {
          slot_check_only = true;
          break;
        }
        cv_.wait_until(lock, slot_freed_ ? std::min(next_poll, next_slot_check) : next_poll);
      }
      if (stopping_) return;
      woken_ = false;
      slot_freed_ = false;
    }
    try {
      if (slot_check_only) {
        next_slot_check = std::chrono::steady_clock::now() + kSlotCheckEvery;
        const bool waits = repository_.ConversationWaitsForRoom();
        (waits ? slot_checks_turned : slot_checks_idle).Inc();
        if (!waits) continue;
      }
      if (std::chrono::steady_clock::now() - timers_run >= poll_) {
        timers_run = std::chrono::steady_clock::now();
        auto timer_events = repository_.RunTimers(200, timer_lease_);
        if (timer_events.has_value() != owns_timers) {
          owns_timers = timer_events.has_value();
          spdlog::info("router timers: {} the lease ({})", owns_timers ? "took" : "lost", timer_lease_.id);
        }
        timers_owned.Set(owns_timers ? 1 : 0);
      }
      // Turns (each one transaction: route, then assign) while either comes
      // back full: at a burst, the conversations routed first reach agents
      // before the rest of the backlog is routed.
      for (int round = 0; round < 50; ++round) {
        auto started = std::chrono::steady_clock::now();
        auto turn = repository_.RouteAndAssign(
            kRouteBatch, kAssignBatch,
            [this](const auto& c, const auto& rules, auto& lookups) { return Decide(c, rules, lookups); });
        turn_seconds.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        routed.Inc(turn.routed);
        if (turn.replies > 0 && hooks_.replies_queued) hooks_.replies_queued();
        assignments.Inc(static_cast<double>(turn.events.size()));
        if (turn.routed < kRouteBatch && turn.events.size() < static_cast<std::size_t>(kAssignBatch)) break;
      }
    } catch (const std::exception& e) {
      failures.Inc();
      spdlog::warn("router tick failed: {}", e.what());
    }
    next_poll = std::chrono::steady_clock::now() + poll_;
  }
}

}  // namespace sb::router
