#pragma once
/// One agent: a WebSocket on GET /v1/agent/stream with the agent's token,
/// reconnecting with `?after=<last seq>` when it drops, and (optionally) a
/// resolve of every assigned conversation after a hold time, over the
/// agent's own keep-alive connections. Lives on one io_context thread.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "agent_options.hpp"
#include "api_connection.hpp"
#include "assignment_tally.hpp"

namespace sb::agents {

/// What every session shares; outlives the sessions.
struct SessionContext {
  boost::asio::any_io_executor executor;
  boost::asio::ip::tcp::endpoint endpoint;
  const AgentOptions* options = nullptr;
  AssignmentTally* tally = nullptr;
  /// The session's first handshake succeeded.
  std::function<void()> on_first_connect;
  /// The server refused the token (HTTP `status` to the upgrade request).
  std::function<void(std::size_t agent, int status)> on_token_rejected;
};

class AgentSession {
 public:
  AgentSession(const SessionContext& context, std::size_t index, std::string token);
  AgentSession(const AgentSession&) = delete;
  AgentSession& operator=(const AgentSession&) = delete;

  /// Connects and reads until Stop() (or a rejected token); reconnects in between.
  boost::asio::awaitable<void> Run();
  /// Stops reading (closing the socket normally) and resolving: holds not
  /// yet over are dropped; resolves on the wire may finish until Abort().
  void Stop();
  /// Closes whatever is still open at once.
  void Abort();
  bool Connected() const { return connected_; }
  /// No resolve waiting for its hold time or on the wire.
  bool Idle() const { return holds_.empty() && busy_.empty(); }

 private:
  using Socket = boost::beast::websocket::stream<boost::beast::tcp_stream>;

  boost::asio::awaitable<bool> Connect();
  boost::asio::awaitable<void> ReadFrames();
  boost::asio::awaitable<void> CloseSocket();
  void OnFrame(std::string_view text, std::chrono::system_clock::time_point received);
  boost::asio::awaitable<void> HoldThenResolve(std::int64_t conversation_id);
  std::string Target(std::string_view path) const;

  const SessionContext& context_;
  const AgentOptions& options_;
  AssignmentTally& tally_;
  std::size_t index_;
  std::string token_;
  std::optional<Socket> socket_;
  boost::asio::steady_timer backoff_;
  std::int64_t last_seq_ = -1;  // -1: no event yet, connect without ?after
  bool stopped_ = false;
  bool connected_ = false;
  bool ever_connected_ = false;
  bool rejected_ = false;  // the server refused the token: no point reconnecting
  std::set<boost::asio::steady_timer*> holds_;
  std::vector<std::unique_ptr<client::ApiConnection>> idle_;
  std::set<client::ApiConnection*> busy_;
};

}  // namespace sb::agents
