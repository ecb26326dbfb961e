#pragma once
/// HTTP/1.1 server on Beast with C++20 coroutines: keep-alive, body limits
/// checked from Content-Length before the body is read, header/body/idle
/// timeouts, JSON errors, graceful shutdown. WebSocket upgrades are handed to
/// an upgrade handler when one is set.
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "sb/common/http/router.hpp"

namespace sb::http {

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds body_timeout{30000};
  std::chrono::milliseconds idle_timeout{60000};
  /// Connections beyond this are closed as soon as they are accepted
  /// (WebSockets count while open).
  std::size_t max_connections = 10000;
};

/// Observes every answered request (for metrics and access logs).
using RequestObserver =
    std::function<void(const Request&, const std::string& route, int status, std::chrono::nanoseconds elapsed)>;

class Server {
 public:
  Server(boost::asio::io_context& io, const Router& router, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds and starts accepting. Returns the bound "host:port".
  std::string Start();
  /// Stops accepting; idle keep-alive connections close, requests in flight
  /// finish. `on_drained` runs (on the io_context) when no connection is left.
  void Stop(std::function<void()> on_drained);

  void SetObserver(RequestObserver observer);
  std::size_t ActiveConnections() const;
  /// Connections closed at accept because `max_connections` were open.
  std::uint64_t RefusedConnections() const;

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace sb::http
