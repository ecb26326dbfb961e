#include "sb/common/http/server.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "arrival.hpp"
#include "request_head.hpp"
#include "websocket_impl.hpp"

namespace sb::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

struct ConnectionState {
  beast::tcp_stream* stream = nullptr;  // valid while `alive`, touched only on its strand
  bool alive = true;
  bool idle = true;
};

std::pair<std::string, std::string> SplitHostPort(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("listen address must be host:port: " + listen);
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return {host, listen.substr(colon + 1)};
}

}  // namespace

class Server::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, const Router& router, ServerOptions options)
      : io_(io), router_(router), options_(std::move(options)), acceptor_(asio::make_strand(io)) {}

  std::string Start() {
    auto [host, port] = SplitHostPort(options_.listen);
    tcp::resolver resolver(io_);
    auto endpoint = *resolver.resolve(host, port, tcp::resolver::passive | tcp::resolver::numeric_host).begin();
    acceptor_.open(endpoint.endpoint().protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint.endpoint());
    acceptor_.listen(asio::socket_base::max_listen_connections);
    // A connection reset while it waited in the listen queue is reported
    // (and skipped) instead of being retried inside accept(), which Asio does
    // with a blocking poll that would hold an event-loop thread.
    acceptor_.set_option(asio::socket_base::enable_connection_aborted(true));
    acceptor_.non_blocking(true);  // Accept's drain stops at an empty queue
    auto bound = acceptor_.local_endpoint();
    asio::co_spawn(acceptor_.get_executor(), Accept(shared_from_this()), asio::detached);
    std::string addr = bound.address().to_string();
    if (bound.address().is_v6()) addr = "[" + addr + "]";
    return addr + ":" + std::to_string(bound.port());
  }

  void Stop(std::function<void()> on_drained) {
    asio::post(acceptor_.get_executor(), [self = shared_from_this(), on_drained = std::move(on_drained)]() mutable {
      self->stopping_ = true;
      boost::system::error_code ignored;
      self->acceptor_.close(ignored);
      std::lock_guard lock(self->mu_);
      self->on_drained_ = std::move(on_drained);
      for (auto& [id, state] : self->connections_) {
        auto strand = state.second;
        asio::post(strand, [st = state.first] {
          if (st->alive && st->idle && st->stream) st->stream->socket().cancel();
        });
      }
      self->MaybeDrainedLocked();
    });
  }

  void SetObserver(RequestObserver observer) { observer_ = std::move(observer); }

  std::size_t ActiveConnections() const {
    std::lock_guard lock(mu_);
    return connections_.size();
  }

  std::uint64_t RefusedConnections() const { return refused_.load(); }

 private:
  using Strand = asio::strand<asio::io_context::executor_type>;

  asio::awaitable<void> Accept(std::shared_ptr<Impl> self) {
    // Accepting one connection per turn of the event loop falls behind when
    // thousands of handlers are queued: the kernel's listen queue overflows
    // and clients wait out SYN retransmissions (1 s, 3 s, 7 s) before the
    // server ever sees their request. So each turn takes every connection
    // already waiting, up to a bound. The acceptor lives on a strand, so
    // Stop's close never runs in the middle of this.
    constexpr int kMaxAcceptsPerTurn = 1024;
    for (;;) {
      auto strand = asio::make_strand(io_);
      auto [ec, socket] = co_await acceptor_.async_accept(strand, kTuple);
      if (ec) {
        if (stopping_ || ec == asio::error::operation_aborted) co_return;
        if (ec == asio::error::connection_aborted) continue;
        spdlog::warn("accept failed: {}", ec.message());
        // Out of file descriptors and the like: back off instead of spinning.
        asio::steady_timer timer(io_, std::chrono::milliseconds(50));
        co_await timer.async_wait(kTuple);
        continue;
      }
      Admit(self, std::move(socket), strand);
      for (int n = 1; n < kMaxAcceptsPerTurn && !stopping_; ++n) {
        auto next_strand = asio::make_strand(io_);
        boost::system::error_code next_ec;
        auto next = acceptor_.accept(next_strand, next_ec);
        if (next_ec) break;  // would_block: the queue is empty (other errors show on the next async_accept)
        Admit(self, std::move(next), next_strand);
      }
    }
  }

  void Admit(const std::shared_ptr<Impl>& self, tcp::socket socket, Strand strand) {
    // Counted here, not when the session starts, so a burst of accepts
    // cannot overshoot the limit. A refused client sees its connection
    // closed at once, before it sends anything.
    auto state = std::make_shared<ConnectionState>();
    auto id = Register(state, strand);
    boost::system::error_code ignored;
    if (!id) {
      socket.close(ignored);
      if (refused_.fetch_add(1) % 1000 == 0) {
        spdlog::warn("connection limit of {} reached: closing new connections", options_.max_connections);
      }
      return;
    }
    socket.set_option(tcp::no_delay(true), ignored);  // fails only when the client is gone already
    EnableArrivalTimestamps(socket.native_handle());
    asio::co_spawn(strand, Session(self, beast::tcp_stream(std::move(socket)), std::move(state), *id), asio::detached);
  }

  /// nullopt when `max_connections` are open already.
  std::optional<std::uint64_t> Register(std::shared_ptr<ConnectionState> state, Strand strand) {
    std::lock_guard lock(mu_);
    if (stopping_ || connections_.size() >= options_.max_connections) return std::nullopt;
    auto id = next_id_++;
    connections_.emplace(id, std::make_pair(std::move(state), std::move(strand)));
    return id;
  }

  void Unregister(std::uint64_t id) {
    std::lock_guard lock(mu_);
    connections_.erase(id);
    MaybeDrainedLocked();
  }

  void MaybeDrainedLocked() {
    if (stopping_ && connections_.empty() && on_drained_) {
      asio::post(io_, std::move(on_drained_));
      on_drained_ = nullptr;
    }
  }

  asio::awaitable<bool> Write(beast::tcp_stream& stream, Response res, const Request& req, bool keep_alive) {
    bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(res.status), 11};
    out.set(bhttp::field::server, "switchboard");
    if (!res.content_type.empty()) out.set(bhttp::field::content_type, res.content_type);
    if (!req.request_id.empty()) out.set("X-Request-Id", req.request_id);
    for (auto& [name, value] : res.headers) out.set(name, value);
    out.body() = std::move(res.body);
    out.keep_alive(keep_alive);
    out.prepare_payload();
    stream.expires_after(options_.body_timeout);
    auto [ec, n] = co_await bhttp::async_write(stream, out, kTuple);
    co_return !ec;
  }

  // After refusing a request we do not want to read, close gracefully: stop
  // sending, then read and discard for a moment so the client sees the
  // answer instead of a connection reset.
  static asio::awaitable<void> Drain(beast::tcp_stream& stream) {
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.expires_after(std::chrono::milliseconds(500));
    std::array<char, 16384> sink{};
    std::size_t total = 0;
    while (total < (8u << 20)) {
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
      if (ec) break;
      total += n;
    }
    stream.socket().close(ignored);
  }

  void Observe(const Request& req, const std::string& route, int status) {
    if (observer_) observer_(req, route, status, Clock::now() - req.received_at);
  }

  // The first bytes of a request on an idle connection, with when they
  // reached this host (see arrival.hpp; without a kernel timestamp, when
  // they were read). A read is tried first, so
  // a request already waiting costs no trip through the reactor. Returns the
  // error that ends the connection, if any.
  asio::awaitable<boost::system::error_code> ReadIdle(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                                      Clock::time_point& arrived) {
    constexpr std::size_t kFirstRead = 2048;  // a typical webhook in one read
    auto& socket = stream.socket();
    asio::steady_timer idle(socket.get_executor());
    // Shared with the timer's handler, which may run after this returns; both
    // run on the connection's strand.
    auto waiting = std::make_shared<bool>(false);
    auto expired = std::make_shared<bool>(false);
    bool armed = false;
    boost::system::error_code result;
    for (;;) {
      auto space = buffer.prepare(kFirstRead);
      TimedRead read = ReadWithArrival(socket.native_handle(), space.data(), space.size());
      if (read.bytes > 0) {
        buffer.commit(static_cast<std::size_t>(read.bytes));
        arrived = Clock::now() - read.waited.value_or(Clock::duration::zero());
        break;
      }
      if (read.bytes == 0) {
        result = asio::error::eof;
        break;
      }
      if (read.error == EINTR) continue;
      if (read.error != EAGAIN && read.error != EWOULDBLOCK) {
        result = boost::system::error_code(read.error, boost::system::system_category());
        break;
      }
      if (!armed) {
        armed = true;
        idle.expires_after(options_.idle_timeout);
        idle.async_wait([&socket, waiting, expired](boost::system::error_code ec) {
          if (ec || !*waiting) return;
          *expired = true;
          socket.cancel();
        });
      }
      *waiting = true;
      auto [ec] = co_await socket.async_wait(tcp::socket::wait_read, kTuple);
      *waiting = false;
      if (*expired) {
        result = beast::error::timeout;
        break;
      }
      if (ec) {
        result = ec;
        break;
      }
    }
    co_return result;
  }

  asio::awaitable<void> Session(std::shared_ptr<Impl> /*keep_alive*/, beast::tcp_stream stream,
                                std::shared_ptr<ConnectionState> state, std::uint64_t id) {
    state->stream = &stream;
    std::string remote;
    {
      boost::system::error_code ec;
      auto ep = stream.socket().remote_endpoint(ec);
      if (!ec) remote = ep.address().to_string();
    }
    beast::flat_buffer buffer;
    for (;;) {
      RequestParser parser;
      LimitRequestHead(parser);
      state->idle = buffer.size() == 0;
      if (state->idle && stopping_) break;
      std::optional<Clock::time_point> arrived;
      if (state->idle) {
        // Between requests a client may stay silent up to the idle timeout;
        // once it starts a request, the whole header must arrive within the
        // header timeout (a client dribbling bytes cannot hold the
        // connection longer).
        arrived.emplace();
        if (co_await ReadIdle(stream, buffer, *arrived)) break;
        state->idle = false;
      }
      stream.expires_after(options_.header_timeout);
      auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
      if (ec) {
        if (ec != bhttp::error::end_of_stream && ec != asio::error::operation_aborted && ec != beast::error::timeout &&
            ec != asio::error::connection_reset && ec != asio::error::eof) {
          Request req;
          req.received_at = Clock::now();
          co_await Write(stream, ErrorResponse(400, "bad_request", "malformed HTTP request: " + ec.message()), req,
                         false);
          Observe(req, "", 400);
          co_await Drain(stream);
        }
        break;
      }
      Request req;
      req.received_at = arrived.value_or(Clock::now());
      req.remote = remote;
      FillRequest(parser, req);
      auto match = router_.Find(req.method, req.path);
      std::size_t limit = match.body_limit;
      const BodyPlan plan = PlanBody(parser, limit);
      bool too_large = plan == BodyPlan::kTooLarge;
      if (plan == BodyPlan::kRead) {
        stream.expires_after(options_.body_timeout);
        if (beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
          // The client waits for this before it sends the body (curl does,
          // for a second, on bodies over 1 KiB).
          static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
          auto [cec, cn] = co_await asio::async_write(stream, asio::buffer(kContinue), kTuple);
          if (cec) break;
        }
        auto [rec, rn] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
        too_large = rec == bhttp::error::body_limit;
        if (rec && !too_large) break;
      }
      if (too_large) {
        co_await Write(stream, PayloadTooLarge(limit), req, false);
        Observe(req, match.pattern, 413);
        co_await Drain(stream);
        break;
      }
      req.body = std::move(parser.get().body());
      if (match.websocket && boost::beast::websocket::is_upgrade(parser.get())) {
        // The connection becomes the handler's; it no longer counts as idle
        // HTTP for a graceful stop (the application closes its sockets).
        state->stream = nullptr;
        req.params = std::move(match.params);
        co_await RunWebSocket(*match.websocket, match.pattern, req, std::move(stream), parser.release());
        state->alive = false;
        Unregister(id);
        co_return;
      }
      bool keep_alive = parser.keep_alive();
      stream.expires_never();
      Response res = co_await Dispatch(match, req);
      int status = res.status;
      keep_alive = keep_alive && !stopping_;
      bool written = co_await Write(stream, std::move(res), req, keep_alive);
      Observe(req, match.pattern, status);
      if (!written || !keep_alive) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    state->alive = false;
    Unregister(id);
  }

  asio::awaitable<void> RunWebSocket(const WebSocketHandler& handler, const std::string& route, Request& req,
                                     beast::tcp_stream stream, bhttp::request<bhttp::string_body> upgrade) {
    auto impl = std::make_unique<WebSocket::Impl>(std::move(stream), std::move(upgrade));
    auto* raw = impl.get();
    WebSocket socket(std::move(impl));
    std::optional<Response> refusal;
    try {
      co_await handler(req, socket);
    } catch (const HttpError& e) {
      if (!raw->accepted) refusal = e.ToResponse();
    } catch (const std::exception& e) {
      spdlog::error("request_id={} websocket {} failed: {}", req.request_id, req.path, e.what());
      if (!raw->accepted) refusal = ErrorResponse(500, "internal_error", "internal error");
    }
    if (refusal) {
      int status = refusal->status;
      co_await Write(raw->ws.next_layer(), std::move(*refusal), req, false);
      Observe(req, route, status);
    }
    boost::system::error_code ignored;
    raw->ws.next_layer().socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  static Response PayloadTooLarge(std::size_t limit) {
    return ErrorResponse(413, "payload_too_large",
                         "request body exceeds the limit of " + std::to_string(limit) + " bytes");
  }

  asio::awaitable<Response> Dispatch(Router::Match& match, Request& req) {
    if (!match.handler) {
      if (match.path_known)
        co_return ErrorResponse(405, "method_not_allowed", req.method + " is not allowed on " + req.path);
      co_return ErrorResponse(404, "not_found", "no route for " + req.method + " " + req.path);
    }
    req.params = std::move(match.params);
    try {
      co_return co_await (*match.handler)(req);
    } catch (const HttpError& e) {
      co_return e.ToResponse();
    } catch (const std::exception& e) {
      spdlog::error("request_id={} {} {} failed: {}", req.request_id, req.method, match.pattern, e.what());
      co_return ErrorResponse(500, "internal_error", "internal error (request id " + req.request_id + ")");
    }
  }

  asio::io_context& io_;
  const Router& router_;
  ServerOptions options_;
  tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> refused_{0};
  RequestObserver observer_;
  mutable std::mutex mu_;
  std::uint64_t next_id_ = 0;
  std::unordered_map<std::uint64_t, std::pair<std::shared_ptr<ConnectionState>, Strand>> connections_;
  std::function<void()> on_drained_;
};

Server::Server(asio::io_context& io, const Router& router, ServerOptions options)
    : impl_(std::make_shared<Impl>(io, router, std::move(options))) {}
Server::~Server() = default;
std::string Server::Start() { return impl_->Start(); }
void Server::Stop(std::function<void()> on_drained) { impl_->Stop(std::move(on_drained)); }
void Server::SetObserver(RequestObserver observer) { impl_->SetObserver(std::move(observer)); }
std::size_t Server::ActiveConnections() const { return impl_->ActiveConnections(); }
std::uint64_t Server::RefusedConnections() const { return impl_->RefusedConnections(); }

}  // namespace sb::http
