#include "http_connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <charconv>

namespace sb::loadgen {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kResponseBodyLimit = 1 << 20;

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

Exchange Failure(const boost::system::error_code& ec, Exchange::Outcome otherwise) {
  Exchange out;
  out.outcome = ec == beast::error::timeout ? Exchange::Outcome::kTimeout : otherwise;
  out.error = ec.message();
  return out;
}

}  // namespace

HttpConnection::HttpConnection(asio::any_io_executor executor, asio::ip::tcp::endpoint endpoint,
                               std::string host_header, std::string target)
    : stream_(std::move(executor)),
      endpoint_(std::move(endpoint)),
      host_header_(std::move(host_header)),
      target_(std::move(target)) {}

void HttpConnection::Close() {
  boost::system::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
  buffer_.clear();
  open_ = false;
  answered_on_connection_ = 0;
}

asio::awaitable<Exchange> HttpConnection::Post(const Payload& payload, Clock::time_point deadline) {
  bool may_retry = false;
  Exchange result = co_await PostOnce(payload, deadline, may_retry);
  if (may_retry && Clock::now() < deadline) {
    result = co_await PostOnce(payload, deadline, may_retry);
  }
  co_return result;
}

asio::awaitable<Exchange> HttpConnection::PostOnce(const Payload& payload, Clock::time_point deadline,
                                                   bool& may_retry) {
  may_retry = false;
  if (!open_) {
    stream_.expires_at(deadline);
    auto [ec] = co_await stream_.async_connect(endpoint_, kUseTuple);
    if (ec) {
      Close();
      co_return Failure(ec, Exchange::Outcome::kConnectError);
    }
    stream_.socket().set_option(asio::ip::tcp::no_delay(true), ec);
    open_ = true;
  }
  const bool reused = answered_on_connection_ > 0;

  http::request<http::string_body> request{http::verb::post, target_, 11};
  request.set(http::field::host, host_header_);
  request.set(http::field::user_agent, "sb-loadgen");
  request.set(http::field::content_type, "application/json");
  request.set("X-Hub-Signature-256", payload.signature);
  request.keep_alive(true);
  request.body() = payload.body;
  request.prepare_payload();

  stream_.expires_at(deadline);
  auto [write_ec, written] = co_await http::async_write(stream_, request, kUseTuple);
  boost::system::error_code ec = write_ec;
  http::response_parser<http::string_body> parser;
  if (!ec) {
    parser.body_limit(kResponseBodyLimit);
    stream_.expires_at(deadline);
    auto [read_ec, read] = co_await http::async_read(stream_, buffer_, parser, kUseTuple);
    ec = read_ec;
  }
  if (ec) {
    may_retry = reused && !parser.got_some() && IsStaleConnectionError(ec);
    Close();
    co_return Failure(ec, Exchange::Outcome::kIoError);
  }

  ++answered_on_connection_;
  const auto& response = parser.get();
  Exchange out;
  out.outcome = Exchange::Outcome::kResponse;
  out.status = static_cast<int>(response.result_int());
  if (out.status != 200) {
    if (const auto it = response.find(http::field::retry_after); it != response.end()) {
      out.retry_after = ParseRetryAfter(it->value());
    }
  }
  if (!response.keep_alive()) Close();
  co_return out;
}

}  // namespace sb::loadgen
