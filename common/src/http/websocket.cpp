#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "websocket_impl.hpp"

namespace sb::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

WebSocket::WebSocket(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WebSocket::~WebSocket() = default;

bool WebSocket::is_open() const { return impl_->open && impl_->ws.is_open(); }

asio::awaitable<void> WebSocket::Accept(std::string subprotocol) {
  impl_->ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  impl_->ws.set_option(websocket::stream_base::decorator([subprotocol](websocket::response_type& res) {
    res.set(beast::http::field::server, "switchboard");
    if (!subprotocol.empty()) res.set(beast::http::field::sec_websocket_protocol, subprotocol);
  }));
  impl_->ws.read_message_max(64 * 1024);
  beast::get_lowest_layer(impl_->ws).expires_never();
  auto [ec] = co_await impl_->ws.async_accept(impl_->request, kTuple);
  if (ec) {
    impl_->open = false;
    throw HttpError(400, "websocket_handshake_failed", "WebSocket handshake failed: " + ec.message());
  }
  impl_->accepted = true;
}

asio::awaitable<bool> WebSocket::Send(std::string text) {
  if (!is_open()) co_return false;
  impl_->ws.text(true);
  auto [ec, n] = co_await impl_->ws.async_write(asio::buffer(text), kTuple);
  if (ec) impl_->open = false;
  co_return !ec;
}

asio::awaitable<std::optional<std::string>> WebSocket::Read() {
  if (!is_open()) co_return std::nullopt;
  impl_->buffer.clear();
  auto [ec, n] = co_await impl_->ws.async_read(impl_->buffer, kTuple);
  if (ec) {
    impl_->open = false;
    co_return std::nullopt;
  }
  co_return beast::buffers_to_string(impl_->buffer.data());
}

asio::awaitable<void> WebSocket::Close(int code, std::string reason) {
  if (!is_open()) co_return;
  websocket::close_reason why(static_cast<websocket::close_code>(code), reason);
  co_await impl_->ws.async_close(why, kTuple);  // a failed close leaves nothing to do
  impl_->open = false;
}

void WebSocket::Abort() {
  boost::system::error_code ignored;
  beast::get_lowest_layer(impl_->ws).socket().close(ignored);
  impl_->open = false;
}

}  // namespace sb::http
