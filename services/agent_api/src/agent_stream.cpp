#include "sb/agent_api/agent_stream.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "sb/common/crypto.hpp"
#include "sb/common/http/json_body.hpp"

namespace sb::agent_api {

namespace asio = boost::asio;

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
};

namespace {

constexpr int kBatch = 100;
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

AgentStream::AgentStream(admin::Authenticator& auth, store::AgentRepository& agents,
                         store::PresenceRepository& presence, std::function<void()> presence_restored)
    : auth_(auth), agents_(agents), presence_(presence), presence_restored_(std::move(presence_restored)) {}

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
  for (auto id : agent_ids) {
    auto [from, to] = sessions_.equal_range(id);
    for (auto it = from; it != to; ++it) Signal(it->second);
  }
}

void AgentStream::WakeAll() {
  std::lock_guard lock(mu_);
  for (auto& [id, s] : sessions_) Signal(s);
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

void AgentStream::CloseAll() {
  closing_ = true;
  std::lock_guard lock(mu_);
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
      auto batch = co_await agents_.EventsAfter(session->business_id, session->agent_id, last, kBatch);
      const auto& events = batch.events;
      for (const auto& e : events) {
        if (!co_await socket.Send(Frame(e))) {
          session->open = false;
          break;
        }
        last = e.seq;
      }
      if (static_cast<int>(events.size()) == kBatch || !session->open || session->closing || session->revoked) {
        continue;
      }
      if (session->woken) continue;  // woken while reading: read again now
      // Events another transaction is numbering become readable at its commit.
      wake.expires_after(batch.numbering_elsewhere ? kNumberingRetry : kPoll);
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
