#include "api_connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <charconv>

namespace sb::client {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// Errors that mean "the server had already closed this idle connection".
bool IsStaleConnectionError(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::connection_aborted;
}

std::chrono::seconds ParseRetryAfter(std::string_view value) {
  unsigned seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc{} || end != value.data() + value.size()) return std::chrono::seconds{0};
  return std::chrono::seconds{seconds};
}

PostResult Failure(const boost::system::error_code& ec, bool connecting) {
  PostResult out;
  out.timed_out = ec == beast::error::timeout;
  out.connect_failed = connecting && !out.timed_out;
  out.error = ec.message();
  return out;
}

}  // namespace

ApiConnection::ApiConnection(asio::any_io_executor executor, asio::ip::tcp::endpoint endpoint, std::string host_header,
                             std::string bearer_token, std::string user_agent, std::size_t body_limit)
    : stream_(std::move(executor)),
      endpoint_(std::move(endpoint)),
      host_header_(std::move(host_header)),
      authorization_(bearer_token.empty() ? std::string() : "Bearer " + std::move(bearer_token)),
      user_agent_(std::move(user_agent)),
      body_limit_(body_limit) {}

void ApiConnection::Close() {
  boost::system::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
  buffer_.clear();
  open_ = false;
  answered_on_connection_ = 0;
}

asio::awaitable<PostResult> ApiConnection::Post(const std::string& target, const std::string& body,
                                                std::chrono::steady_clock::time_point deadline,
                                                const Header& extra_header) {
  const std::string method = "POST";
  co_return co_await Send(method, target, body, deadline, extra_header);
}

asio::awaitable<PostResult> ApiConnection::Send(const std::string& method, const std::string& target,
                                                const std::string& body, std::chrono::steady_clock::time_point deadline,
                                                const Header& extra_header) {
  bool may_retry = false;
  PostResult result = co_await SendOnce(method, target, body, extra_header, deadline, may_retry);
  if (may_retry && std::chrono::steady_clock::now() < deadline) {
    result = co_await SendOnce(method, target, body, extra_header, deadline, may_retry);
  }
  co_return result;
}

asio::awaitable<PostResult> ApiConnection::SendOnce(const std::string& method, const std::string& target,
                                                    const std::string& body, const Header& extra_header,
                                                    std::chrono::steady_clock::time_point deadline, bool& may_retry) {
  may_retry = false;
  if (!open_) {
    stream_.expires_at(deadline);
    auto [ec] = co_await stream_.async_connect(endpoint_, kUseTuple);
    if (ec) {
      Close();
      co_return Failure(ec, /*connecting=*/true);
    }
    stream_.socket().set_option(asio::ip::tcp::no_delay(true), ec);
    open_ = true;
  }
  const bool reused = answered_on_connection_ > 0;

  http::request<http::string_body> request;
  request.method_string(method);
  request.target(target);
  request.version(11);
  request.set(http::field::host, host_header_);
  request.set(http::field::user_agent, user_agent_);
  if (!authorization_.empty()) request.set(http::field::authorization, authorization_);
  if (!body.empty()) request.set(http::field::content_type, "application/json");
  if (!extra_header.first.empty()) request.set(extra_header.first, extra_header.second);
  request.keep_alive(true);
  request.body() = body;
  request.prepare_payload();

  stream_.expires_at(deadline);
  auto [write_ec, written] = co_await http::async_write(stream_, request, kUseTuple);
  boost::system::error_code ec = write_ec;
  http::response_parser<http::string_body> parser;
  if (!ec) {
    parser.body_limit(body_limit_);
    stream_.expires_at(deadline);
    auto [read_ec, read] = co_await http::async_read(stream_, buffer_, parser, kUseTuple);
    ec = read_ec;
  }
  if (ec) {
    may_retry = reused && !parser.got_some() && IsStaleConnectionError(ec);
    Close();
    co_return Failure(ec, /*connecting=*/false);
  }

  ++answered_on_connection_;
  stream_.expires_never();
  auto response = parser.release();
  PostResult out;
  out.status = static_cast<int>(response.result_int());
  out.body = std::move(response.body());
  out.content_type = std::string(response[http::field::content_type]);
  if (const auto it = response.find(http::field::retry_after); it != response.end()) {
    out.retry_after = ParseRetryAfter(it->value());
  }
  if (!response.keep_alive()) Close();
  co_return out;
}

}  // namespace sb::client
