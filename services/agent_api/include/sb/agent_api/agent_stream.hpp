#pragma once
/// GET /v1/agent/stream: a WebSocket per agent connection that replays the
/// agent's events after `?after=N` and then pushes new ones as they are
/// recorded ({"seq", "type", "conversation"|"message"}). A socket first
/// reads the outbox (agent_events) at its own pace; once it has caught up,
/// the process's feed (RunFeed) hands it each new event of its agent, read
/// once for all sockets and rendered once for each agent. A socket whose
/// client falls 1,000 frames behind goes back to reading the outbox, so a
/// slow client holds at most about 2,000 frames (those handed over and a
/// batch being sent), as does every socket while the feed's reads keep
/// failing. The feed (and a socket
/// still reading the outbox) is woken by NOTIFY (from any process, this
/// one included: the notifier sends it once the events are numbered) and a
/// poll every second. An open stream is the agent's
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
#include "sb/common/metrics.hpp"
#include "sb/store/agent_repository.hpp"
#include "sb/store/presence_repository.hpp"

namespace sb::agent_api {

class AgentStream {
 public:
  /// `presence_restored` runs when an opened stream made its agent online
  /// again (the router may assign to them).
  /// `feed` reads every agent's new events for the process (on a
  /// connection of its own: the feed's read is what every socket waits for).
  AgentStream(admin::Authenticator& auth, store::AgentRepository& agents, store::AgentRepository& feed,
              store::PresenceRepository& presence, metrics::Registry& registry,
              std::function<void()> presence_restored);
  ~AgentStream();
  AgentStream(const AgentStream&) = delete;
  AgentStream& operator=(const AgentStream&) = delete;

  /// The process's feed: reads the events numbered since its last read, for
  /// every agent, whenever a NOTIFY (or a poll every second) says there are
  /// some, and hands each to the sockets of its agent. Runs until CloseAll;
  /// spawn it on a strand.
  boost::asio::awaitable<void> RunFeed();
  /// Lets go of the feed's timer: call after the io_context stopped running
  /// and before it is destroyed.
  void ForgetFeed();

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
  struct FeedFrame;
  struct FeedWake;
  static void Signal(const std::shared_ptr<Session>& s);
  /// Back to reading the outbox: drops what the feed handed over (mu_ held).
  static void Unfeed(Session& s);
  /// Hands the feed's events to their agents' sockets.
  void Hand(const std::vector<store::AgentRepository::FeedBatch::Item>& events);
  void WakeFeed();  // with mu_ held
  boost::asio::awaitable<admin::Principal> Authenticate(http::Request& req);
  admin::Authenticator& auth_;
  store::AgentRepository& agents_;
  store::AgentRepository& feed_reads_;
  store::PresenceRepository& presence_;
  std::function<void()> presence_restored_;
  metrics::Counter& fell_behind_;
  mutable std::mutex mu_;
  std::multimap<std::int64_t, std::shared_ptr<Session>> sessions_;  // by agent id
  // Guarded by mu_: the number of the last event the feed handed over (-1
  // until it knows where to start), how to wake it while it runs, and
  // whether it is failing.
  std::int64_t feed_position_ = -1;
  std::shared_ptr<FeedWake> feed_wake_;
  bool feed_failing_ = false;  // its reads keep failing: sockets read the outbox themselves
  std::atomic<bool> closing_{false};
};

}  // namespace sb::agent_api
