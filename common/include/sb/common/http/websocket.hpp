#pragma once
/// A server-side WebSocket handed to a route's WebSocket handler, without
/// Beast types. One reader and one writer at a time (the handler's
/// coroutines run on the connection's strand).
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "sb/common/http/message.hpp"

namespace sb::http {

class WebSocket {
 public:
  class Impl;
  explicit WebSocket(std::unique_ptr<Impl> impl);
  ~WebSocket();

  /// Completes the upgrade, echoing `subprotocol` when the client offered
  /// one. Throw HttpError before this to refuse with an HTTP answer.
  boost::asio::awaitable<void> Accept(std::string subprotocol = {});
  /// Sends one text frame; false once the socket is closed or failed.
  boost::asio::awaitable<bool> Send(std::string text);
  /// The next text frame; nullopt once closed. Pings are answered inside.
  boost::asio::awaitable<std::optional<std::string>> Read();
  /// Sends a close frame with `code` (1000 normal, 1008 policy, 1012 restart).
  boost::asio::awaitable<void> Close(int code, std::string reason);
  /// Closes the underlying socket at once; pending reads and writes end.
  /// Call on the connection's executor (where the handler runs).
  void Abort();
  bool is_open() const;

 private:
  std::unique_ptr<Impl> impl_;
};

using WebSocketHandler = std::function<boost::asio::awaitable<void>(Request&, WebSocket&)>;

}  // namespace sb::http
