#pragma once
/// GET /v1/agent/stream: a WebSocket per agent connection that replays the
/// agent's events after `?after=N` and then pushes new ones as they are
/// recorded ({"seq", "type", "conversation"|"message"}). Events are read
/// from the outbox (agent_events) at the socket's own pace, so a slow
/// client costs no memory; sockets are woken by NOTIFY (from any process,
/// this one included: the notifier sends it once the events are numbered)
/// and a poll every second. An open stream is the agent's
/// presence: it is recorded in the database (see PresenceKeeper). Browsers,
/// which cannot set headers on a WebSocket, authenticate with the subprotocol
/// `bearer.<token>` or a one-time `?ticket=` from POST
/// /v1/agent/stream-ticket. Thread-safe.
#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "sb/admin/authenticator.hpp"
#include "sb/common/http/websocket.hpp"
#include "sb/store/agent_repository.hpp"
#include "sb/store/presence_repository.hpp"

namespace sb::agent_api {

class AgentStream {
 public:
  /// `presence_restored` runs when an opened stream made its agent online
  /// again (the router may assign to them).
  AgentStream(admin::Authenticator& auth, store::AgentRepository& agents, store::PresenceRepository& presence,
              std::function<void()> presence_restored);

  boost::asio::awaitable<void> Serve(http::Request& req, http::WebSocket& socket);
  /// GET /v1/agent/events?after=&limit=: what a stream sends, as pages
  /// (`next_cursor` is the `after` of the next page).
  boost::asio::awaitable<http::Response> Events(http::Request& req);
  /// POST /v1/agent/stream-ticket: a one-time ticket for `?ticket=`.
  boost::asio::awaitable<http::Response> IssueTicket(http::Request& req);
  /// The agents with a stream open in this process, each once.
  std::vector<store::AgentKey> ConnectedAgents() const;

  /// Wake the sockets of these agents (any thread).
  void Wake(const std::vector<std::int64_t>& agent_ids);
  /// Wake every socket (after a reconnect of the listener, which lost what was announced meanwhile).
  void WakeAll();
  /// Close these agents' sockets with 1008 (their tokens were revoked or
  /// the agent deactivated; any thread).
  void Revoke(const std::vector<std::int64_t>& agent_ids);
  /// Close every socket with 1012 (service restart); new ones are refused.
  void CloseAll();
  std::size_t Connected() const;

  struct Session;

 private:
  static void Signal(const std::shared_ptr<Session>& s);
  boost::asio::awaitable<admin::Principal> Authenticate(http::Request& req);
  admin::Authenticator& auth_;
  store::AgentRepository& agents_;
  store::PresenceRepository& presence_;
  std::function<void()> presence_restored_;
  mutable std::mutex mu_;
  std::multimap<std::int64_t, std::shared_ptr<Session>> sessions_;  // by agent id
  std::atomic<bool> closing_{false};
};

}  // namespace sb::agent_api
