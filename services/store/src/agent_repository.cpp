#include "sb/store/agent_repository.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <deque>
#include <iterator>
#include <mutex>
#include <utility>

#include "sb/common/async_bridge.hpp"
#include "sb/common/metrics.hpp"

#include "event_sequencer.hpp"
#include "sb/store/event_notifier.hpp"
#include "session.hpp"

namespace sb::store {

namespace {

std::string Id(std::int64_t v) { return std::to_string(v); }

// Announces agent event `event_id` of `agent` to every process once the
// transaction committed.
void Notify(Session& s, EventNotifier& notifier, std::int64_t business, std::int64_t agent, std::int64_t event_id) {
  s.AfterCommit([&notifier, ref = AgentEventRef{business, agent, event_id}] { notifier.Post({ref}); });
}

// Records `type` for `agent` about `conversation`, announces it at commit,
// and returns the conversation as the event shows it (what Render would).
std::string Emit(Session& s, EventNotifier& notifier, std::int64_t business, std::int64_t agent,
                 std::int64_t conversation, const char* type) {
  auto row = s.Exec("agent/event", Id(business), Id(agent), Id(conversation), std::string(type))[0];
  Notify(s, notifier, business, agent, row[0].as<std::int64_t>());
  return row[1].as<std::string>();
}

std::string Render(Session& s, std::int64_t business, std::int64_t conversation) {
  return s.Exec("conversations/get", Id(business), Id(conversation))[0][0].as<std::string>();
}

std::optional<std::int64_t> CurrentAgent(Session& s, std::int64_t business, std::int64_t conversation) {
  auto rows = s.Exec("agent/current_agent", Id(business), Id(conversation));
  if (rows.empty() || rows[0][0].is_null()) return std::nullopt;
  return rows[0][0].as<std::int64_t>();
}

}  // namespace

boost::asio::awaitable<std::optional<std::string>> AgentRepository::SetStatus(std::int64_t business, std::int64_t agent,
                                                                              const std::string& status) {
  std::optional<std::string> out;
  co_await db_.Run("agent/set_status", [&](Session& s) {
    auto rows = s.Exec("agent/set_status", Id(business), Id(agent), status);
    if (!rows.empty()) out = rows[0][0].as<std::string>();
  });
  co_return out;
}

boost::asio::awaitable<std::string> AgentRepository::Conversations(std::int64_t business, std::int64_t agent) {
  std::string out;
  co_await db_.Run("agent/conversations", [&](Session& s) {
    out = s.Exec("agent/conversations", Id(business), Id(agent))[0][0].as<std::string>();
  });
  co_return out;
}

boost::asio::awaitable<std::pair<AgentRepository::Claim, std::string>> AgentRepository::ClaimNext(
    std::int64_t business, std::int64_t agent, std::optional<std::int64_t> queue_id) {
  std::pair<Claim, std::string> out{Claim::kNoneWaiting, {}};
  co_await db_.Run("agent/claim", [&](Session& s) {
    auto me = s.Exec("agent/lock_self", Id(business), Id(agent));
    if (me.empty()) return;
    if (s.Exec("agent/open_count", Id(business), Id(agent))[0][0].as<int>() >= me[0][0].as<int>()) {
      out.first = Claim::kAtCapacity;
      return;
    }
    std::optional<std::string> queue = queue_id ? std::optional(Id(*queue_id)) : std::nullopt;
    auto rows = s.Exec("agent/claim", Id(business), Id(agent), queue);
    if (rows.empty()) return;
    auto conversation = rows[0][0].as<std::int64_t>();
    out = {Claim::kClaimed, Emit(s, notifier_, business, agent, conversation, "conversation.assigned")};
  });
  co_return out;
}

boost::asio::awaitable<std::optional<std::string>> AgentRepository::Accept(std::int64_t business, std::int64_t agent,
                                                                           std::int64_t conversation) {
  std::optional<std::string> out;
  co_await db_.Run("agent/accept", [&](Session& s) {
    if (s.Exec("agent/accept", Id(business), Id(agent), Id(conversation)).empty()) return;
    out = Emit(s, notifier_, business, agent, conversation, "conversation.updated");
  });
  co_return out;
}

boost::asio::awaitable<std::optional<std::string>> AgentRepository::Reject(std::int64_t business, std::int64_t agent,
                                                                           std::int64_t conversation) {
  std::optional<std::string> out;
  co_await db_.Run("agent/reject", [&](Session& s) {
    if (s.Exec("agent/reject", Id(business), Id(agent), Id(conversation)).empty()) return;
    out = Emit(s, notifier_, business, agent, conversation, "conversation.updated");
  });
  co_return out;
}

boost::asio::awaitable<std::optional<ConversationAccess>> AgentRepository::Access(std::int64_t business,
                                                                                  std::int64_t agent,
                                                                                  std::int64_t conversation) {
  std::optional<ConversationAccess> out;
  co_await db_.Run("agent/visible", [&](Session& s) {
    auto rows = s.Exec("agent/visible", Id(business), Id(agent), Id(conversation));
    if (rows.empty()) return;
    ConversationAccess a;
    a.status = rows[0][0].as<std::string>();
    if (!rows[0][1].is_null()) a.agent_id = rows[0][1].as<std::int64_t>();
    a.channel_kind = rows[0][2].as<std::string>();
    if (!rows[0][3].is_null()) a.hours_since_inbound = rows[0][3].as<double>();
    a.human_agent_enabled = rows[0][4].as<bool>();
    out = a;
  });
  co_return out;
}

boost::asio::awaitable<bool> AgentRepository::BusinessOwns(std::int64_t business, std::int64_t conversation) {
  bool owns = false;
  co_await db_.Run("agent/business_sees",
                   [&](Session& s) { owns = !s.Exec("agent/business_sees", Id(business), Id(conversation)).empty(); });
  co_return owns;
}

boost::asio::awaitable<std::string> AgentRepository::Reply(std::int64_t business, std::int64_t agent,
                                                           std::int64_t conversation, const OutboundReply& reply) {
  auto optional = [](const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
  nlohmann::json p = {{"business_id", business},
                      {"conversation_id", conversation},
                      {"sender", "agent"},
                      {"agent_id", agent},
                      {"type", reply.type},
                      {"text", optional(reply.text)},
                      {"payload", optional(reply.payload)},
                      {"tag", optional(reply.tag)}};
  std::string out;
  co_await db_.Run("router/queue_reply", [&](Session& s) {
    out = s.Exec("router/queue_reply", p.dump())[0][0].as<std::string>();
    Notify(s, notifier_, business, agent,
           s.Exec("agent/message_event", Id(business), Id(agent), out)[0][0].as<std::int64_t>());
  });
  co_return out;
}

boost::asio::awaitable<std::optional<std::string>> AgentRepository::TransferToQueue(
    std::int64_t business, std::int64_t conversation, std::int64_t queue_id, std::optional<std::int64_t> from_agent) {
  std::optional<std::string> out;
  co_await db_.Run("agent/transfer_queue", [&](Session& s) {
    auto previous = CurrentAgent(s, business, conversation);
    if (s.Exec("agent/transfer_queue", Id(business), Id(conversation), Id(queue_id)).empty()) return;
    auto who = previous ? previous : from_agent;
    out = who ? Emit(s, notifier_, business, *who, conversation, "conversation.updated")
              : Render(s, business, conversation);
  });
  co_return out;
}

boost::asio::awaitable<std::optional<std::string>> AgentRepository::TransferToAgent(
    std::int64_t business, std::int64_t conversation, std::int64_t to_agent, std::optional<std::int64_t> from_agent) {
  std::optional<std::string> out;
  co_await db_.Run("agent/transfer_agent", [&](Session& s) {
    auto previous = CurrentAgent(s, business, conversation);
    if (s.Exec("agent/transfer_agent", Id(business), Id(conversation), Id(to_agent)).empty()) return;
    auto who = previous ? previous : from_agent;
    if (who && *who != to_agent) Emit(s, notifier_, business, *who, conversation, "conversation.updated");
    out = Emit(s, notifier_, business, to_agent, conversation, "conversation.assigned");
  });
  co_return out;
}

struct AgentRepository::ResolveRequest {
  std::int64_t business = 0;
  std::int64_t conversation = 0;
  std::optional<std::int64_t> agent;
  std::string outcome;
  std::optional<std::int64_t> amount_cents;
  std::optional<std::string> currency;
};

std::vector<AgentRepository::Resolution> AgentRepository::ResolveIn(Session& s, EventNotifier& notifier,
                                                                    const std::vector<const ResolveRequest*>& requests,
                                                                    bool batched) {
  nlohmann::json items = nlohmann::json::array();
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& r = *requests[i];
    items.push_back({{"n", i},
                     {"business", r.business},
                     {"conversation", r.conversation},
                     {"agent", r.agent ? nlohmann::json(*r.agent) : nlohmann::json()},
                     {"outcome", r.outcome},
                     {"amount_cents", r.amount_cents ? nlohmann::json(*r.amount_cents) : nlohmann::json()},
                     {"currency", r.currency ? nlohmann::json(*r.currency) : nlohmann::json()}});
  }
  // A batch waits for no lock long: a conversation another transaction
  // holds fails it at once, and its resolves are tried again one by one,
  // each in a pooled job that waits as long as its statement timeout lets
  // it, instead of every resolve of the process waiting behind that one.
  auto rows = batched ? s.ExecInOneTripAfter("SET LOCAL lock_timeout = 100; ", "agent/resolve", items.dump())
                      : s.ExecInOneTrip("agent/resolve", items.dump());
  std::vector<Resolution> out(requests.size());
  std::vector<AgentEventRef> events;
  for (const auto& row : rows) {
    auto n = row[0].as<std::size_t>();
    auto& answer = out.at(n);
    if (!row[2].is_null()) answer.status = row[2].as<std::string>();
    if (!row[1].is_null()) {
      // The function answers 'not_found' with status 'resolved' for a
      // conversation resolved already.
      using enum Resolution::Refusal;
      answer.refused = row[1].as<std::string>() == "not_assigned" ? kNotAssigned
                       : answer.status == "resolved"              ? kResolved
                                                                  : kNotFound;
      continue;
    }
    if (!row[4].is_null()) {
      events.push_back(AgentEventRef{requests[n]->business, row[3].as<std::int64_t>(), row[4].as<std::int64_t>()});
    }
    answer.conversation = row[5].as<std::string>();
  }
  if (!events.empty()) s.AfterCommit([&notifier, events] { notifier.Post(events); });
  return out;
}

// Resolves gathered while a batch commits: the next batch takes them all
// (up to kMaxBatch). One batch at a time, so that batches never wait for
// each other's locks. The pool's bounds for a job hold here too: at most
// max_queue resolves wait, none longer than queue_timeout.
class AgentRepository::ResolveBatches {
 public:
  struct Waiter {
    ResolveRequest request;
    Resolution* out = nullptr;
    bool* alone = nullptr;  // set when the batch failed: resolve again on its own
    async::Completion done;
    std::chrono::steady_clock::time_point queued_at = std::chrono::steady_clock::now();
  };

  ResolveBatches(Database& db, EventNotifier& notifier, metrics::Registry* registry)
      : db_(db),
        notifier_(notifier),
        sizes_(registry ? &registry->GetHistogram("switchboard_agent_resolve_batch_size",
                                                  "Resolves the agent API sent to the database in one statement",
                                                  {1, 2, 4, 8, 16, 32, 64, 128})
                        : nullptr) {}

  void Add(Waiter waiter) {
    bool queued = false;
    bool launch = false;
    {
      std::lock_guard lock(mu_);
      if (queue_.size() < db_.Options().max_queue) {
        queue_.push_back(std::move(waiter));
        queued = true;
        launch = !std::exchange(busy_, true);
      }
    }
    if (!queued) {
      waiter.done(std::make_exception_ptr(Unavailable("too many resolves are waiting for the database")));
    } else if (launch) {
      LaunchNext();
    }
  }

 private:
  static constexpr std::size_t kMaxBatch = 128;

  struct Batch {
    std::vector<Waiter> waiters;
    std::vector<Resolution> answers;
  };

  // Sends the next batch, or marks the queue idle when nothing waits. Runs
  // while busy_ is set, by whoever set it or finished the last batch.
  void LaunchNext() {
    for (;;) {
      auto batch = std::make_shared<Batch>();
      std::vector<Waiter> stale;
      {
        std::lock_guard lock(mu_);
        auto too_old = std::chrono::steady_clock::now() - db_.Options().queue_timeout;
        while (!queue_.empty() && batch->waiters.size() < kMaxBatch) {
          (queue_.front().queued_at < too_old ? stale : batch->waiters).push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        if (batch->waiters.empty() && stale.empty()) {
          busy_ = false;
          return;
        }
      }
      Fail(stale, Unavailable("timed out waiting for a database connection"));
      if (batch->waiters.empty()) continue;
      if (sizes_) sizes_->Observe(static_cast<double>(batch->waiters.size()));
      bool sent = db_.PostInOneTrip(
          "agent/resolve",
          [this, batch](Session& s) {
            std::vector<const ResolveRequest*> requests;
            for (const auto& w : batch->waiters) requests.push_back(&w.request);
            batch->answers = ResolveIn(s, notifier_, requests, true);
          },
          [this, batch](std::exception_ptr failure) {
            Finish(*batch, failure);
            LaunchNext();
          });
      if (sent) return;
      Fail(batch->waiters, Unavailable("database queue is full"));
    }
  }

  static void Fail(std::vector<Waiter>& waiters, const Unavailable& why) {
    for (auto& w : waiters) w.done(std::make_exception_ptr(why));
  }

  static void Finish(Batch& batch, const std::exception_ptr& failure) {
    // A failure that may be one resolve's (a row another transaction holds,
    // an error, a deadlock) sends each of the batch's resolves again on its
    // own; the database being away, overloaded or too slow (a statement
    // timeout) is every resolve's answer.
    bool each_alone = false;
    if (failure) {
      try {
        std::rethrow_exception(failure);
      } catch (const LockTimeout&) {
        each_alone = true;
      } catch (const Unavailable&) {
      } catch (...) {
        each_alone = batch.waiters.size() > 1;
      }
    }
    for (std::size_t i = 0; i < batch.waiters.size(); ++i) {
      auto& w = batch.waiters[i];
      if (!failure) {
        *w.out = std::move(batch.answers[i]);
        w.done(nullptr);
      } else if (each_alone) {
        *w.alone = true;
        w.done(nullptr);
      } else {
        w.done(failure);
      }
    }
  }

  Database& db_;
  EventNotifier& notifier_;
  metrics::Histogram* sizes_;
  std::mutex mu_;
  std::deque<Waiter> queue_;
  bool busy_ = false;  // a batch is out, or being taken
};

AgentRepository::AgentRepository(Database& db, EventNotifier& notifier, metrics::Registry* registry)
    : db_(db), notifier_(notifier), resolves_(std::make_unique<ResolveBatches>(db, notifier, registry)) {}

AgentRepository::~AgentRepository() = default;

boost::asio::awaitable<AgentRepository::Resolution> AgentRepository::Resolve(std::int64_t business,
                                                                             std::int64_t conversation,
                                                                             const std::string& outcome,
                                                                             std::optional<std::int64_t> amount_cents,
                                                                             const std::optional<std::string>& currency,
                                                                             std::optional<std::int64_t> agent) {
  ResolveRequest request{business, conversation, agent, outcome, amount_cents, currency};
  Resolution out;
  bool alone = false;
  co_await async::AwaitCompletion([&](async::Completion done) {
    resolves_->Add(ResolveBatches::Waiter{request, &out, &alone, std::move(done)});
  });
  if (alone) {
    co_await db_.RunInOneTrip("agent/resolve", [&](Session& s) {
      out = std::move(ResolveIn(s, notifier_, std::vector<const ResolveRequest*>{&request}, false)[0]);
    });
  }
  co_return out;
}

boost::asio::awaitable<std::optional<MediaSource>> AgentRepository::Media(std::int64_t business, std::int64_t message) {
  std::optional<MediaSource> out;
  co_await db_.Run("messages/media_source", [&](Session& s) {
    auto rows = s.Exec("messages/media_source", Id(business), Id(message));
    if (rows.empty()) return;
    MediaSource m;
    m.conversation_id = rows[0][0].as<std::int64_t>();
    m.channel_kind = rows[0][1].as<std::string>();
    m.media_id = OptionalText(rows[0][2]);
    m.access_token_enc_hex = OptionalText(rows[0][3]);
    m.kept_state = OptionalText(rows[0][4]);
    m.kept_error = OptionalText(rows[0][5]);
    out = m;
  });
  co_return out;
}

boost::asio::awaitable<std::int64_t> AgentRepository::LastEventSeq(std::int64_t business, std::int64_t agent) {
  std::int64_t out = 0;
  co_await db_.Run("agent/last_event", [&](Session& s) {
    out = s.Exec("agent/last_event", Id(business), Id(agent))[0][0].as<std::int64_t>();
  });
  co_return out;
}

boost::asio::awaitable<AgentRepository::EventBatch> AgentRepository::EventsAfter(std::int64_t business,
                                                                                 std::int64_t agent, std::int64_t after,
                                                                                 int limit) {
  EventBatch out;
  co_await db_.RunInOneTrip("agent/events_after", [&](Session& s) {
    for (const auto& r : s.ExecInOneTrip("agent/events_after", business, agent, after, limit)) {
      out.numbering_elsewhere = r[0].as<int>() < 0;
      out.pruned_through = r[1].as<std::int64_t>();
      if (r[2].is_null()) continue;  // the one row of a read that found no event
      out.events.push_back(AgentEvent{r[2].as<std::int64_t>(), r[3].as<std::string>(), r[4].as<std::string>()});
    }
  });
  co_return out;
}

boost::asio::awaitable<AgentRepository::FeedBatch> AgentRepository::EventsSince(std::int64_t after, int limit) {
  FeedBatch out;
  co_await db_.RunInOneTrip("agent/events_since", [&](Session& s) {
    for (const auto& r : s.ExecInOneTrip("agent/events_since", after, limit)) {
      out.numbering_elsewhere = r[0].as<int>() < 0;
      if (r[1].is_null()) continue;  // the one row of a read that found no event
      out.events.push_back(
          FeedBatch::Item{r[2].as<std::int64_t>(),
                          AgentEvent{r[1].as<std::int64_t>(), r[3].as<std::string>(), r[4].as<std::string>()}});
    }
  });
  co_return out;
}

boost::asio::awaitable<std::int64_t> AgentRepository::FeedPosition() {
  std::int64_t out = 0;
  co_await db_.Run("agent/feed_position",
                   [&](Session& s) { out = s.Exec("agent/feed_position")[0][0].as<std::int64_t>(); });
  co_return out;
}

boost::asio::awaitable<void> AgentRepository::SequenceEvents() {
  co_await db_.Run("agent/sequence_events", [&](Session& s) { SequenceAgentEvents(s); });
}

boost::asio::awaitable<std::int64_t> AgentRepository::PruneEvents(int retention_hours) {
  std::int64_t pruned = 0;
  co_await db_.Run("maintenance/prune_agent_events", [&](Session& s) {
    pruned = s.Exec("maintenance/prune_agent_events", std::to_string(retention_hours))[0][1].as<std::int64_t>();
  });
  co_return pruned;
}

}  // namespace sb::store
