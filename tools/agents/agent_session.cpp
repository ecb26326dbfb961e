#include "agent_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "utc_timestamp.hpp"

namespace sb::agents {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr auto kMinBackoff = std::chrono::milliseconds(100);
constexpr auto kMaxBackoff = std::chrono::seconds(2);
constexpr int kResolveAttempts = 5;
constexpr auto kResolveRetryPause = std::chrono::milliseconds(200);
constexpr std::size_t kFrameLimit = 1 << 20;
const std::string kResolveBody = R"({"outcome":"resolved"})";

// Busy servers answer 503 (with Retry-After) and 429; try again. Anything
// else (409 not assigned, 404) will not change by trying again.
bool IsRetryable(const client::PostResult& r) { return r.status == 0 || r.status == 503 || r.status == 429; }

}  // namespace

AgentSession::AgentSession(const SessionContext& context, std::size_t index, std::string token)
    : context_(context),
      options_(*context.options),
      tally_(*context.tally),
      index_(index),
      token_(std::move(token)),
      backoff_(context.executor) {}

std::string AgentSession::Target(std::string_view path) const { return options_.path_prefix + std::string(path); }

asio::awaitable<void> AgentSession::Run() {
  std::chrono::steady_clock::duration pause = kMinBackoff;
  while (!stopped_) {
    if (co_await Connect()) {
      pause = kMinBackoff;
      co_await ReadFrames();
      connected_ = false;
      if (!stopped_) tally_.RecordDisconnect();
      continue;
    }
    if (stopped_ || rejected_) break;
    backoff_.expires_after(pause);
    co_await backoff_.async_wait(kUseTuple);
    pause = std::min<std::chrono::steady_clock::duration>(pause * 2, kMaxBackoff);
  }
}

asio::awaitable<bool> AgentSession::Connect() {
  socket_.emplace(context_.executor);
  auto& tcp = beast::get_lowest_layer(*socket_);
  tcp.expires_after(options_.timeout);
  auto [connect_ec] = co_await tcp.async_connect(context_.endpoint, kUseTuple);
  if (connect_ec || stopped_) {
    if (!stopped_) tally_.RecordConnectError();
    co_return false;
  }
  boost::system::error_code ignored;
  tcp.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
  tcp.expires_never();  // the WebSocket's own timeouts take over

  websocket::stream_base::timeout timeouts = websocket::stream_base::timeout::suggested(beast::role_type::client);
  timeouts.handshake_timeout = options_.timeout;  // also bounds the closing handshake
  socket_->set_option(timeouts);
  socket_->set_option(websocket::stream_base::decorator([this](websocket::request_type& req) {
    req.set(beast::http::field::authorization, "Bearer " + token_);
    req.set(beast::http::field::user_agent, "sb-agents");
  }));
  socket_->read_message_max(kFrameLimit);

  std::string target = Target("/v1/agent/stream");
  if (last_seq_ >= 0) target += "?after=" + std::to_string(last_seq_);
  websocket::response_type response;
  auto [handshake_ec] = co_await socket_->async_handshake(response, options_.url.host_header, target, kUseTuple);
  if (handshake_ec || stopped_) {
    if (stopped_) co_return false;
    const int status = static_cast<int>(response.result_int());
    if (handshake_ec == websocket::error::upgrade_declined && (status == 401 || status == 403)) {
      rejected_ = true;
      tally_.RecordRejectedToken();
      context_.on_token_rejected(index_, status);
      co_return false;
    }
    tally_.RecordConnectError();
    if (!ever_connected_) {
      std::cerr << "sb-agents: agent " << index_ << ": handshake failed: " << handshake_ec.message()
                << (status != 0 ? " (HTTP " + std::to_string(status) + ")" : std::string()) << '\n';
    }
    co_return false;
  }
  connected_ = true;
  tally_.RecordConnected();
  if (!ever_connected_) {
    ever_connected_ = true;
    context_.on_first_connect();
  }
  co_return true;
}

asio::awaitable<void> AgentSession::ReadFrames() {
  beast::flat_buffer buffer;
  for (;;) {
    auto [ec, bytes] = co_await socket_->async_read(buffer, kUseTuple);
    // Taken before anything else: the frame's latency ends here.
    const auto received = std::chrono::system_clock::now();
    if (ec) co_return;
    const auto data = buffer.data();
    OnFrame(std::string_view(static_cast<const char*>(data.data()), data.size()), received);
    buffer.consume(buffer.size());
  }
}

void AgentSession::OnFrame(std::string_view text, std::chrono::system_clock::time_point received) {
  const auto frame = nlohmann::json::parse(text, nullptr, false);
  if (!frame.is_object()) {
    tally_.RecordMalformed();
    return;
  }
  const auto type = frame.find("type");
  const auto seq = frame.find("seq");
  if (type == frame.end() || !type->is_string() || seq == frame.end() || !seq->is_number_integer()) {
    tally_.RecordMalformed();
    return;
  }
  last_seq_ = std::max(last_seq_, seq->get<std::int64_t>());
  tally_.RecordEvent(type->get<std::string>());
  if (*type != "conversation.assigned") return;

  const auto conversation = frame.find("conversation");
  if (conversation == frame.end() || !conversation->is_object()) {
    tally_.RecordMalformed();
    return;
  }
  const auto id = conversation->find("id");
  const auto opened = conversation->find("opened_at");
  std::optional<std::chrono::system_clock::time_point> opened_at;
  if (opened != conversation->end() && opened->is_string()) {
    opened_at = ParseUtcTimestamp(opened->get_ref<const std::string&>());
  }
  if (id == conversation->end() || !id->is_number_integer() || !opened_at) {
    tally_.RecordMalformed();
    return;
  }
  const bool first_time = tally_.RecordAssigned(id->get<std::int64_t>(), *opened_at, received);
  if (first_time && options_.resolve && !stopped_) {
    asio::co_spawn(context_.executor, HoldThenResolve(id->get<std::int64_t>()), asio::detached);
  }
}

asio::awaitable<void> AgentSession::HoldThenResolve(std::int64_t conversation_id) {
  tally_.RecordResolveScheduled();
  asio::steady_timer timer(context_.executor, options_.hold);
  holds_.insert(&timer);
  co_await timer.async_wait(kUseTuple);
  holds_.erase(&timer);

  const std::string target = Target("/v1/conversations/" + std::to_string(conversation_id) + "/resolve");
  for (int attempt = 1; !stopped_; ++attempt) {
    std::unique_ptr<client::ApiConnection> connection;
    if (idle_.empty()) {
      connection = std::make_unique<client::ApiConnection>(context_.executor, context_.endpoint,
                                                           options_.url.host_header, token_);
    } else {
      connection = std::move(idle_.back());
      idle_.pop_back();
    }
    busy_.insert(connection.get());
    const client::PostResult result =
        co_await connection->Post(target, kResolveBody, std::chrono::steady_clock::now() + options_.timeout);
    busy_.erase(connection.get());
    if (connection->is_open() && !stopped_) idle_.push_back(std::move(connection));

    if (result.status == 200) {
      tally_.RecordResolved();
      co_return;
    }
    if (!IsRetryable(result) || attempt >= kResolveAttempts || stopped_) {
      tally_.RecordResolveFailed(result.status);
      co_return;
    }
    tally_.RecordResolveRetry();
    timer.expires_after(kResolveRetryPause * attempt);
    holds_.insert(&timer);
    co_await timer.async_wait(kUseTuple);
    holds_.erase(&timer);
  }
  // Stopped before the resolve was sent: it stays pending in the report.
}

asio::awaitable<void> AgentSession::CloseSocket() {
  if (!socket_ || !connected_) co_return;
  co_await socket_->async_close(websocket::close_code::normal, kUseTuple);
}

void AgentSession::Stop() {
  if (stopped_) return;
  stopped_ = true;
  backoff_.cancel();
  for (auto* timer : holds_) timer->cancel();
  for (auto& connection : idle_) connection->Close();
  idle_.clear();
  if (socket_ && connected_) {
    asio::co_spawn(context_.executor, CloseSocket(), asio::detached);
  } else if (socket_) {
    beast::get_lowest_layer(*socket_).cancel();  // a connect or handshake on the way
  }
}

void AgentSession::Abort() {
  Stop();
  for (auto* connection : busy_) connection->Close();
  if (socket_) {
    boost::system::error_code ignored;
    beast::get_lowest_layer(*socket_).socket().close(ignored);
  }
}

}  // namespace sb::agents
