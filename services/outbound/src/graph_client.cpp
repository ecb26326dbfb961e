#include "sb/outbound/graph_client.hpp"

#include <openssl/ssl.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <stdexcept>

namespace sb::outbound {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

// Servers drop idle keep-alive connections after a while; past this a
// connection is reopened rather than risked.
constexpr auto kMaxIdle = std::chrono::seconds(30);
constexpr std::uint64_t kMaxAnswerBytes = 1u << 20;

GraphAnswer Failure(std::string error) {
  GraphAnswer a;
  a.error = std::move(error);
  return a;
}

}  // namespace

Result<BaseUrl> ParseBaseUrl(const std::string& url) {
  auto bad = [&url](const std::string& why) {
    return Error{"invalid_graph_api_base", "SWITCHBOARD_GRAPH_API_BASE '" + url + "': " + why};
  };
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return bad("not an absolute URL");
  const auto& u = *parsed;
  BaseUrl b;
  if (u.scheme_id() == boost::urls::scheme::https) {
    b.tls = true;
  } else if (u.scheme_id() == boost::urls::scheme::http) {
    b.tls = false;
  } else {
    return bad("the scheme must be http or https");
  }
  if (u.has_userinfo() || u.has_query() || u.has_fragment())
    return bad("user info, query and fragment are not allowed");
  b.host = u.host_address();
  if (b.host.empty()) return bad("no host");
  b.port = u.has_port() ? std::string(u.port()) : (b.tls ? "443" : "80");
  b.host_header = std::string(u.encoded_host_and_port());
  b.path = std::string(u.encoded_path());
  while (!b.path.empty() && b.path.back() == '/') b.path.pop_back();
  return b;
}

std::shared_ptr<ssl::context> MakeTlsContext() {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  context->set_default_verify_paths();
  context->set_verify_mode(ssl::verify_peer);
  context->set_options(ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                       ssl::context::no_tlsv1_1);
  return context;
}

class GraphClient::Impl {
 public:
  Impl(asio::any_io_executor executor, BaseUrl base, std::chrono::milliseconds timeout,
       std::shared_ptr<ssl::context> tls)
      : executor_(std::move(executor)), base_(std::move(base)), timeout_(timeout), tls_context_(std::move(tls)) {
    if (base_.tls && !tls_context_) throw std::invalid_argument("an https Graph API base needs a TLS context");
  }

  const BaseUrl& base() const { return base_; }

  asio::awaitable<GraphAnswer> Call(bhttp::verb verb, const std::string& target, const std::string& body,
                                    const std::string& access_token) {
    bhttp::request<bhttp::string_body> request{verb, target, 11};
    request.set(bhttp::field::host, base_.host_header);
    request.set(bhttp::field::user_agent, "switchboard");
    if (!access_token.empty()) request.set(bhttp::field::authorization, "Bearer " + access_token);
    if (verb == bhttp::verb::post) request.set(bhttp::field::content_type, "application/json");
    request.set(bhttp::field::accept, "application/json");
    request.keep_alive(true);
    request.body() = body;
    request.prepare_payload();

    for (int round = 0; round < 2; ++round) {
      if (shut_down_) co_return Failure("the sender is stopping");
      if (Open() && Clock::now() - last_used_ > kMaxIdle) CloseConnection();
      bool reused = Open();
      auto deadline = Clock::now() + timeout_;
      if (!reused) {
        std::string error = co_await Connect(deadline);
        if (error.empty() && shut_down_) error = "the sender is stopping";
        if (!error.empty()) {
          CloseConnection();
          co_return Failure(std::move(error));
        }
      }
      // (Not a conditional expression: GCC 12 miscompiles co_await inside ?:.)
      Exchange result;
      if (tls_) {
        result = co_await Send(*tls_, request, deadline);
      } else {
        result = co_await Send(*plain_, request, deadline);
      }
      if (result.error.empty()) {
        last_used_ = Clock::now();
        if (!result.keep_alive) CloseConnection();
        co_return std::move(result.answer);
      }
      CloseConnection();
      if (result.too_large) {
        GraphAnswer answer = Failure(std::move(result.error));
        answer.too_large = true;
        co_return answer;
      }
      // A kept-alive connection the server had closed fails before any
      // answer byte; that request never reached it, so send it again.
      if (reused && result.nothing_received && !result.timed_out && !shut_down_) continue;
      co_return Failure(std::move(result.error));
    }
    co_return Failure("the connection closed twice before an answer");
  }

  void Shutdown() {
    shut_down_ = true;
    boost::system::error_code ignored;
    if (plain_) plain_->socket().close(ignored);
    if (tls_) beast::get_lowest_layer(*tls_).socket().close(ignored);
  }

 private:
  struct Exchange {
    GraphAnswer answer;
    bool keep_alive = false;
    std::string error;
    bool nothing_received = false;
    bool timed_out = false;
    bool too_large = false;
  };

  bool Open() const { return plain_ != nullptr || tls_ != nullptr; }

  void CloseConnection() {
    boost::system::error_code ignored;
    if (plain_) plain_->socket().close(ignored);
    if (tls_) beast::get_lowest_layer(*tls_).socket().close(ignored);
    plain_.reset();
    tls_.reset();
    buffer_.clear();
  }

  static std::string Describe(const boost::system::error_code& ec, const char* step) {
    if (ec == beast::error::timeout || ec == asio::error::operation_aborted) return std::string(step) + " timed out";
    return std::string(step) + ": " + ec.message();
  }

  asio::awaitable<std::string> Connect(Clock::time_point deadline) {
    // The resolver has no deadline of its own: a timer cancels it.
    auto resolver = std::make_shared<tcp::resolver>(executor_);
    asio::steady_timer timer(executor_, deadline);
    timer.async_wait([resolver](const boost::system::error_code& ec) {
      if (!ec) resolver->cancel();
    });
    auto [rec, endpoints] = co_await resolver->async_resolve(base_.host, base_.port, kTuple);
    timer.cancel();
    if (rec) co_return Describe(rec, "resolving the Graph API host");
    if (shut_down_) co_return "the sender is stopping";

    beast::tcp_stream stream(executor_);
    stream.expires_at(deadline);
    auto [cec, endpoint] = co_await stream.async_connect(endpoints, kTuple);
    if (cec) co_return Describe(cec, "connecting to the Graph API");
    boost::system::error_code ignored;
    stream.socket().set_option(tcp::no_delay(true), ignored);
    if (!base_.tls) {
      plain_ = std::make_unique<beast::tcp_stream>(std::move(stream));
      co_return "";
    }
    tls_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(stream), *tls_context_);
    // SNI carries names only; an address literal is verified as such below.
    boost::system::error_code not_an_address;
    (void)asio::ip::make_address(base_.host, not_an_address);
    if (not_an_address && !SSL_set_tlsext_host_name(tls_->native_handle(), base_.host.c_str())) {
      co_return "setting the TLS server name failed";
    }
    tls_->set_verify_mode(ssl::verify_peer);
    tls_->set_verify_callback(ssl::host_name_verification(base_.host));
    beast::get_lowest_layer(*tls_).expires_at(deadline);
    auto [hec] = co_await tls_->async_handshake(ssl::stream_base::client, kTuple);
    if (hec) co_return Describe(hec, "TLS handshake with the Graph API");
    co_return "";
  }

  template <class Stream>
  asio::awaitable<Exchange> Send(Stream& stream, bhttp::request<bhttp::string_body>& request,
                                 Clock::time_point deadline) {
    Exchange out;
    beast::get_lowest_layer(stream).expires_at(deadline);
    auto [wec, written] = co_await bhttp::async_write(stream, request, kTuple);
    if (wec) {
      out.error = Describe(wec, "sending to the Graph API");
      out.nothing_received = true;
      out.timed_out = wec == beast::error::timeout;
      co_return out;
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(max_answer_bytes_);
    auto [rec, read] = co_await bhttp::async_read(stream, buffer_, parser, kTuple);
    if (rec) {
      out.too_large = rec == bhttp::error::body_limit;
      out.error = out.too_large ? "the answer is larger than " + std::to_string(max_answer_bytes_) + " bytes"
                                : Describe(rec, "reading the Graph API's answer");
      out.nothing_received = !parser.got_some();
      out.timed_out = rec == beast::error::timeout;
      co_return out;
    }
    auto& response = parser.get();
    out.answer.status = static_cast<int>(response.result_int());
    out.keep_alive = response.keep_alive();
    if (auto it = response.find(bhttp::field::retry_after); it != response.end()) {
      out.answer.retry_after = std::string(it->value());
    }
    if (auto it = response.find(bhttp::field::content_type); it != response.end()) {
      out.answer.content_type = std::string(it->value());
    }
    out.answer.body = std::move(response.body());
    co_return out;
  }

  asio::any_io_executor executor_;
  BaseUrl base_;
  std::chrono::milliseconds timeout_;
  std::shared_ptr<ssl::context> tls_context_;  // shared with other clients
  std::unique_ptr<beast::tcp_stream> plain_;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
  Clock::time_point last_used_{};
  bool shut_down_ = false;

 public:
  std::uint64_t max_answer_bytes_ = kMaxAnswerBytes;
};

namespace {

BaseUrl ParsedOrThrow(const std::string& url) {
  auto parsed = ParseBaseUrl(url);
  if (!parsed) throw std::invalid_argument(parsed.error().message);
  return std::move(parsed).value();
}

}  // namespace

GraphClient::GraphClient(asio::any_io_executor executor, const std::string& base_url, std::chrono::milliseconds timeout,
                         std::shared_ptr<ssl::context> tls)
    : impl_(std::make_unique<Impl>(std::move(executor), ParsedOrThrow(base_url), timeout, std::move(tls))) {}

GraphClient::~GraphClient() = default;

const std::string& GraphClient::BasePath() const { return impl_->base().path; }

asio::awaitable<GraphAnswer> GraphClient::Post(const std::string& target, const std::string& body,
                                               const std::string& access_token) {
  return impl_->Call(bhttp::verb::post, target, body, access_token);
}

asio::awaitable<GraphAnswer> GraphClient::Get(const std::string& target, const std::string& access_token) {
  static const std::string kNoBody;
  return impl_->Call(bhttp::verb::get, target, kNoBody, access_token);
}

void GraphClient::Shutdown() { impl_->Shutdown(); }

void GraphClient::SetMaxAnswerBytes(std::uint64_t bytes) { impl_->max_answer_bytes_ = bytes; }

}  // namespace sb::outbound
