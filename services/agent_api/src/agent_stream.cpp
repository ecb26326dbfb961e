#include "sb/agent_api/agent_stream.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <deque>

#include "sb/common/crypto.hpp"
#include "sb/common/http/json_body.hpp"

namespace sb::agent_api {

namespace asio = boost::asio;

struct AgentStream::FeedFrame {
  std::int64_t seq = 0;
  std::string text;
};

struct AgentStream::FeedWake {
  explicit FeedWake(asio::any_io_executor executor) : timer(std::move(executor)) {}
  asio::steady_timer timer;
  bool woken = false;  // on the timer's executor only
};

struct AgentStream::Session {
  std::int64_t business_id = 0;
  std::int64_t agent_id = 0;
  asio::any_io_executor executor;
  asio::steady_timer* wake = nullptr;
  // The fields below are touched on the session's executor only; `wake`
  // is cleared before the timer it points to goes away.
  bool closing = false;
  bool revoked = false;
  bool open = true;
  bool reading = true;
  // Set by a wake-up that found the session busy reading the outbox (the
  // timer was not waiting yet): the session reads again before it sleeps.
  bool woken = false;

  // Guarded by AgentStream::mu_. `handed`: the feed's frames for this agent
  // since the session registered (or since its last `epoch`). `fed`: those
  // frames are all the socket needs, because an outbox read that began
  // after `epoch` last changed came back short (so it found every event up
  // to the feed's position at that change). Too many frames waiting
  // (a client not reading) drop `handed`, bump `epoch` and clear `fed`:
  // the socket goes back to reading the outbox at its own pace.
  std::deque<std::shared_ptr<const FeedFrame>> handed;
  std::uint64_t epoch = 0;
  bool fed = false;
};

namespace {

constexpr int kBatch = 100;
constexpr int kFeedBatch = 1000;
constexpr std::size_t kMaxHanded = 1000;        // frames waiting for one socket before it reads the outbox instead
constexpr int kFeedFailuresBeforeFallBack = 3;  // feed reads failed in a row (about 3 s) before sockets read alone
constexpr auto kPoll = std::chrono::seconds(1);
constexpr int kTicketTtlS = 30;
constexpr auto kNumberingRetry = std::chrono::milliseconds(20);
constexpr int kMaxPage = 1000;

// `after` older than what retention kept would silently skip events.
void RequireRetained(std::int64_t after, std::int64_t pruned_through) {
  if (after < pruned_through) {
    throw http::HttpError(410, "events_expired",
                          "events up to " + std::to_string(pruned_through) +
                              " are past retention; reload GET /v1/agent/conversations and continue with after=" +
                              std::to_string(pruned_through));
  }
}

// Browsers cannot set headers on a WebSocket: they may offer the token as a
// subprotocol "bearer.<token>" instead.
std::string ProtocolToken(const http::Request& req) {
  std::string_view offered = req.Header("sec-websocket-protocol");
  while (!offered.empty()) {
    auto comma = offered.find(',');
    auto item = offered.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.substr(0, 7) == "bearer.") return std::string(item);
    if (comma == std::string_view::npos) break;
    offered.remove_prefix(comma + 1);
  }
  return {};
}

std::string Frame(const store::AgentEvent& e) {
  const char* key = e.type == "message.created" ? "message" : "conversation";
  return "{\"seq\":" + std::to_string(e.seq) + ",\"type\":\"" + e.type + "\",\"" + key + "\":" + e.payload_json + "}";
}

}  // namespace

AgentStream::AgentStream(admin::Authenticator& auth, store::AgentRepository& agents, store::AgentRepository& feed,
                         store::PresenceRepository& presence, metrics::Registry& registry,
                         std::function<void()> presence_restored)
    : auth_(auth),
      agents_(agents),
      feed_reads_(feed),
      presence_(presence),
      presence_restored_(std::move(presence_restored)),
      fell_behind_(registry.GetCounter("switchboard_agent_stream_fell_behind_total",
                                       "Agent sockets whose client fell 1,000 frames behind the feed (they "
                                       "went back to reading the outbox)")) {}

AgentStream::~AgentStream() = default;

std::vector<store::AgentKey> AgentStream::ConnectedAgents() const {
  std::vector<store::AgentKey> out;
  std::lock_guard lock(mu_);
  for (const auto& [id, s] : sessions_) {
    if (out.empty() || out.back().second != id) out.emplace_back(s->business_id, id);
  }
  return out;
}

asio::awaitable<http::Response> AgentStream::IssueTicket(http::Request& req) {
  auto who = co_await auth_.Authenticate(req);
  if (who.role != admin::Principal::Role::kAgent || !who.agent_id) {
    throw http::HttpError(403, "forbidden", "stream tickets are for agent tokens");
  }
  std::string ticket = crypto::RandomToken("sbt_");
  auto expires =
      co_await presence_.CreateTicket(who.business_id, *who.agent_id, crypto::Sha256Hex(ticket), kTicketTtlS);
  if (!expires) throw http::HttpError(404, "not_found", "this agent is deactivated");
  nlohmann::json body = {{"ticket", ticket}, {"expires_at", *expires}, {"expires_in_s", kTicketTtlS}};
  co_return http::Response::Json(201, body);
}

asio::awaitable<http::Response> AgentStream::Events(http::Request& req) {
  auto who = co_await auth_.Authenticate(req);
  if (who.role != admin::Principal::Role::kAgent || !who.agent_id) {
    throw http::HttpError(403, "forbidden", "agent events are read with an agent token");
  }
  auto after = http::QueryInt(req, "after", 0, std::numeric_limits<std::int64_t>::max()).value_or(0);
  auto limit = static_cast<int>(http::QueryInt(req, "limit", 1, kMaxPage).value_or(100));
  auto batch = co_await agents_.EventsAfter(who.business_id, *who.agent_id, after, limit);
  RequireRetained(after, batch.pruned_through);
  std::string body = "{\"items\":[";
  for (std::size_t i = 0; i < batch.events.size(); ++i) {
    if (i) body += ',';
    body += Frame(batch.events[i]);
  }
  body += "],\"next_cursor\":";
  // A full page may have more behind it; the cursor is the `after` of the next.
  body +=
      static_cast<int>(batch.events.size()) == limit ? "\"" + std::to_string(batch.events.back().seq) + "\"" : "null";
  body += '}';
  http::Response res;
  res.body = std::move(body);
  co_return res;
}

// The agent behind the request: a one-time `?ticket=`, else the bearer token
// from the Authorization header or the `bearer.<token>` subprotocol.
asio::awaitable<admin::Principal> AgentStream::Authenticate(http::Request& req) {
  if (auto ticket = req.Query("ticket")) {
    std::string hash = crypto::Sha256Hex(*ticket);
    auto who = co_await presence_.UseTicket(hash);
    if (!who) throw http::HttpError(401, "unauthorized", "the stream ticket is unknown, used or expired");
    admin::Principal agent;
    agent.role = admin::Principal::Role::kAgent;
    agent.business_id = who->first;
    agent.agent_id = who->second;
    co_return agent;
  }
  std::string subprotocol = ProtocolToken(req);
  if (req.BearerToken().empty() && !subprotocol.empty()) {
    req.headers.emplace_back("authorization", "Bearer " + subprotocol.substr(7));
  }
  auto who = co_await auth_.Authenticate(req);
  if (who.role != admin::Principal::Role::kAgent || !who.agent_id) {
    throw http::HttpError(403, "forbidden", "the agent stream needs an agent token");
  }
  co_return who;
}

std::size_t AgentStream::Connected() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

void AgentStream::Signal(const std::shared_ptr<Session>& s) {
  asio::post(s->executor, [s] {
    s->woken = true;
    if (s->wake) s->wake->cancel();
  });
}

void AgentStream::Wake(const std::vector<std::int64_t>& agent_ids) {
  std::lock_guard lock(mu_);
  bool feed_woken = false;
  for (auto id : agent_ids) {
    auto [from, to] = sessions_.equal_range(id);
    for (auto it = from; it != to; ++it) {
      // A socket the feed serves waits for the feed's read; the others read
      // the outbox themselves.
      if (it->second->fed && feed_wake_) {
        feed_woken = true;
      } else {
        Signal(it->second);
      }
    }
  }
  if (feed_woken) WakeFeed();
}

void AgentStream::WakeAll() {
  std::lock_guard lock(mu_);
  WakeFeed();
  for (auto& [id, s] : sessions_) Signal(s);
}

void AgentStream::WakeFeed() {
  if (!feed_wake_) return;
  asio::post(feed_wake_->timer.get_executor(), [w = feed_wake_] {
    w->woken = true;
    w->timer.cancel();
  });
}

void AgentStream::Unfeed(Session& s) {
  s.handed.clear();
  s.fed = false;
  ++s.epoch;
}

void AgentStream::Hand(const std::vector<store::AgentRepository::FeedBatch::Item>& events) {
  std::lock_guard lock(mu_);
  for (const auto& e : events) {
    auto [from, to] = sessions_.equal_range(e.agent_id);
    if (from == to) continue;
    // One frame for every socket of the agent.
    auto frame = std::make_shared<const FeedFrame>(FeedFrame{e.event.seq, Frame(e.event)});
    for (auto it = from; it != to; ++it) {
      auto& s = *it->second;
      if (s.handed.size() >= kMaxHanded) {
        if (s.fed) fell_behind_.Inc();
        Unfeed(s);
      }
      s.handed.push_back(frame);
      Signal(it->second);
    }
  }
  if (!events.empty()) feed_position_ = events.back().event.seq;
}

asio::awaitable<void> AgentStream::RunFeed() {
  auto wake = std::make_shared<FeedWake>(co_await asio::this_coro::executor);
  {
    std::lock_guard lock(mu_);
    feed_wake_ = wake;
  }
  // feed_position_ is written only here (Hand included): read without mu_.
  int failures = 0;  // reads failed in a row
  while (!closing_) {
    wake->woken = false;
    auto pause = std::chrono::milliseconds(kPoll);
    try {
      if (feed_position_ < 0) {
        auto position = co_await feed_reads_.FeedPosition();
        std::lock_guard lock(mu_);
        feed_position_ = position;
        // An outbox read a socket began before the feed knew where it
        // starts proves nothing: each socket reads once more.
        for (auto& [id, s] : sessions_) ++s->epoch;
      }
      auto batch = co_await feed_reads_.EventsSince(feed_position_, kFeedBatch);
      if (failures > 0) {
        failures = 0;
        std::lock_guard lock(mu_);
        feed_failing_ = false;  // sockets reading the outbox may come back
      }
      Hand(batch.events);
      if (static_cast<int>(batch.events.size()) == kFeedBatch) continue;
      if (batch.numbering_elsewhere) pause = kNumberingRetry;
    } catch (const std::exception& e) {
      // Nothing is lost: the next read starts where this one would have.
      spdlog::warn("agent event feed: read failed: {}", e.what());
      if (++failures == kFeedFailuresBeforeFallBack) {
        // Meanwhile each socket reads the outbox itself (and, if the
        // database is away for it too, closes so its client reconnects).
        std::lock_guard lock(mu_);
        feed_failing_ = true;
        for (auto& [id, s] : sessions_) {
          Unfeed(*s);
          Signal(s);
        }
      }
    }
    if (wake->woken || closing_) continue;
    wake->timer.expires_after(pause);
    co_await wake->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  std::lock_guard lock(mu_);
  feed_wake_.reset();
}

void AgentStream::Revoke(const std::vector<std::int64_t>& agent_ids) {
  std::lock_guard lock(mu_);
  for (auto id : agent_ids) {
    auto [from, to] = sessions_.equal_range(id);
    for (auto it = from; it != to; ++it) {
      asio::post(it->second->executor, [s = it->second] {
        s->revoked = true;
        if (s->wake) s->wake->cancel();
      });
    }
  }
}

void AgentStream::ForgetFeed() {
  std::lock_guard lock(mu_);
  feed_wake_.reset();
}

void AgentStream::CloseAll() {
  closing_ = true;
  std::lock_guard lock(mu_);
  WakeFeed();
  for (auto& [id, s] : sessions_) {
    asio::post(s->executor, [s = s] {
      s->closing = true;
      if (s->wake) s->wake->cancel();
    });
  }
}

asio::awaitable<void> AgentStream::Serve(http::Request& req, http::WebSocket& socket) {
  if (closing_) throw http::HttpError(503, "shutting_down", "this process is restarting; reconnect").WithRetryAfter(1);
  auto after_param = http::QueryInt(req, "after", 0, std::numeric_limits<std::int64_t>::max());
  auto who = co_await Authenticate(req);
  std::string subprotocol = ProtocolToken(req);
  std::int64_t last = 0;
  if (after_param) {
    last = *after_param;
    RequireRetained(last, (co_await agents_.EventsAfter(who.business_id, *who.agent_id, last, 0)).pruned_through);
  } else {
    last = co_await agents_.LastEventSeq(who.business_id, *who.agent_id);
  }
  co_await socket.Accept(subprotocol);

  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer wake(executor);
  auto session = std::make_shared<Session>();
  session->business_id = who.business_id;
  session->agent_id = *who.agent_id;
  session->executor = executor;
  session->wake = &wake;
  {
    std::lock_guard lock(mu_);
    sessions_.emplace(session->agent_id, session);
  }
  try {
    if (co_await presence_.StreamOpened(session->business_id, session->agent_id) && presence_restored_) {
      presence_restored_();
    }
  } catch (const std::exception& e) {
    // The next heartbeat records the stream.
    spdlog::warn("agent_id={} presence not recorded at connect: {}", session->agent_id, e.what());
  }
  // The client speaks only to close; its frames are read and dropped.
  asio::co_spawn(
      executor,
      [&socket, session]() -> asio::awaitable<void> {
        while (co_await socket.Read()) {
        }
        session->open = false;
        session->reading = false;
        if (session->wake) session->wake->cancel();
      },
      asio::detached);

  try {
    while (session->open && !session->closing && !session->revoked) {
      session->woken = false;
      bool fed = false;
      std::uint64_t epoch = 0;
      std::deque<std::shared_ptr<const FeedFrame>> frames;  // the feed's, or this read's from the outbox
      {
        std::lock_guard lock(mu_);
        fed = session->fed;
        epoch = session->epoch;
        if (fed) frames.swap(session->handed);
      }
      std::optional<store::AgentRepository::EventBatch> batch;
      if (!fed) {
        batch = co_await agents_.EventsAfter(session->business_id, session->agent_id, last, kBatch);
        for (const auto& e : batch->events)
          frames.push_back(std::make_shared<const FeedFrame>(FeedFrame{e.seq, Frame(e)}));
      }
      for (const auto& frame : frames) {
        // The outbox read that made the socket fed may have sent some of the feed's.
        if (frame->seq <= last) continue;
        if (!co_await socket.Send(frame->text)) {
          session->open = false;
          break;
        }
        last = frame->seq;
      }
      auto pause = std::chrono::milliseconds(kPoll);
      if (batch) {
        if (static_cast<int>(batch->events.size()) == kBatch) continue;
        if (batch->numbering_elsewhere) {
          // Events another transaction is numbering become readable at its commit.
          pause = kNumberingRetry;
        } else {
          std::lock_guard lock(mu_);
          if (session->epoch == epoch && feed_position_ >= 0 && !feed_failing_) {
            session->fed = true;
            // An event announced while this read ran woke the socket, not
            // the feed: the feed reads now rather than at its next poll.
            WakeFeed();
          }
        }
      }
      if (!session->open || session->closing || session->revoked) continue;
      if (session->woken) continue;  // woken while busy: look again now
      wake.expires_after(pause);
      co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  } catch (const std::exception& e) {
    // The database is away: the client reconnects with ?after and loses nothing.
    spdlog::warn("agent_id={} stream stopped: {}", session->agent_id, e.what());
  }
  {
    std::lock_guard lock(mu_);
    auto [from, to] = sessions_.equal_range(session->agent_id);
    for (auto it = from; it != to; ++it) {
      if (it->second == session) {
        sessions_.erase(it);
        break;
      }
    }
  }
  try {
    // The presence timeout runs from the moment the stream closed.
    std::vector<store::AgentKey> gone{{session->business_id, session->agent_id}};
    co_await presence_.Heartbeat(gone);
  } catch (const std::exception& e) {
    spdlog::debug("agent_id={} presence not recorded at close: {}", session->agent_id, e.what());
  }
  if (session->closing) {
    co_await socket.Close(1012, "service restart");
  } else if (session->revoked && socket.is_open()) {
    co_await socket.Close(1008, "token revoked");
  } else if (socket.is_open()) {
    co_await socket.Close(1011, "event delivery stopped; reconnect with ?after");
  }
  // The reader holds a reference to `socket`: end it before returning.
  socket.Abort();
  while (session->reading) {
    wake.expires_after(std::chrono::milliseconds(10));
    co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  session->wake = nullptr;
}

}  // namespace sb::agent_api
