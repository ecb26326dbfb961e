// replay: re-send saved webhook bodies, signed as Meta signs them.
// tail: print the agent stream, one JSON event a line.
#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "context.hpp"
#include "sb/common/crypto.hpp"

namespace sb::sbctl {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

// The channel kind a webhook body is for, from its "object".
std::string KindOf(const std::string& body) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object() || !json.contains("object") || !json["object"].is_string()) return {};
  const auto object = json["object"].get<std::string>();
  if (object == "page") return "messenger";
  if (object == "instagram") return "instagram";
  if (object == "whatsapp_business_account") return "whatsapp";
  return {};
}

void AddReplay(CLI::App& app, Context& ctx) {
  struct Flags {
    std::string dir, app_secret, kind;
  };
  auto f = std::make_shared<Flags>();
  auto* replay = app.add_subcommand(
      "replay",
      "POST every file of DIR (in name order) to /webhooks/{kind}, signed with the channel's app secret; the kind "
      "comes from the body's \"object\" unless --kind is given");
  replay->add_option("DIR", f->dir, "Folder of webhook bodies")->required()->check(CLI::ExistingDirectory);
  replay->add_option("--app-secret", f->app_secret, "The channel's app secret")->required();
  replay->add_option("--kind", f->kind, "messenger, instagram or whatsapp (for every file)");
  replay->callback([&ctx, f] {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(f->dir)) {
      if (entry.is_regular_file() && entry.path().filename().string().front() != '.') files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) throw CommandError(f->dir + ": no files to replay");
    int failed = 0;
    for (const auto& path : files) {
      std::ifstream in(path, std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      const std::string body = text.str();
      const std::string kind = f->kind.empty() ? KindOf(body) : f->kind;
      if (kind.empty()) {
        ++failed;
        std::cerr << "sbctl: " << path.string()
                  << ": no channel kind (the body's \"object\" is not page, instagram or "
                     "whatsapp_business_account; pass --kind)\n";
        continue;
      }
      const client::Header signature("X-Hub-Signature-256", "sha256=" + crypto::HmacSha256Hex(f->app_secret, body));
      auto answer = ctx.Client().Call("POST", "/webhooks/" + kind, body, signature);
      if (answer.status != 200) {
        ++failed;
        std::cerr << "sbctl: " << DescribeFailure(path.filename().string(), answer) << '\n';
        continue;
      }
      std::cout << path.filename().string() << ": " << answer.body << '\n';
    }
    std::cout << "replayed " << files.size() - failed << " of " << files.size() << '\n';
    if (failed > 0) throw CommandError(std::to_string(failed) + " file(s) not accepted");
  });
}

// Reads frames until `count` events (0: no limit), the server closes, or
// the timer fires. Returns the error to report, empty when none.
asio::awaitable<std::string> Tail(Context& ctx, std::string target, long long count,
                                  std::shared_ptr<websocket::stream<beast::tcp_stream>> socket) {
  auto& client = ctx.Client();
  auto& tcp = beast::get_lowest_layer(*socket);
  tcp.expires_after(std::chrono::milliseconds(static_cast<long long>(ctx.timeout_s * 1000)));
  auto [connect_ec, endpoint] = co_await tcp.async_connect(client.endpoints(), asio::as_tuple(asio::use_awaitable));
  if (connect_ec) co_return "cannot reach " + client.host_header() + ": " + connect_ec.message();
  tcp.expires_never();
  auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::client);
  timeouts.handshake_timeout = std::chrono::milliseconds(static_cast<long long>(ctx.timeout_s * 1000));
  socket->set_option(timeouts);
  const std::string authorization = client.token().empty() ? "" : "Bearer " + client.token();
  socket->set_option(websocket::stream_base::decorator([authorization](websocket::request_type& req) {
    if (!authorization.empty()) req.set(beast::http::field::authorization, authorization);
    req.set(beast::http::field::user_agent, "sbctl");
  }));
  websocket::response_type response;
  auto [handshake_ec] =
      co_await socket->async_handshake(response, client.host_header(), target, asio::as_tuple(asio::use_awaitable));
  if (handshake_ec) {
    const ApiAnswer answer = MakeAnswer(static_cast<int>(response.result_int()), response.body());
    if (answer.status != 0) co_return DescribeFailure("GET /v1/agent/stream", answer);
    co_return "GET /v1/agent/stream: " + handshake_ec.message();
  }
  beast::flat_buffer buffer;
  long long seen = 0;
  while (count == 0 || seen < count) {
    auto [ec, bytes] = co_await socket->async_read(buffer, asio::as_tuple(asio::use_awaitable));
    if (ec == websocket::error::closed) {
      co_return "the server closed the stream (" + std::to_string(socket->reason().code) + ")";
    }
    if (ec == asio::error::operation_aborted) co_return "";  // --for elapsed
    if (ec) co_return "the stream failed: " + ec.message();
    std::cout << beast::buffers_to_string(buffer.data()) << std::endl;
    buffer.consume(buffer.size());
    ++seen;
  }
  // The events are printed; a failed closing handshake changes nothing for the caller.
  auto closed = co_await socket->async_close(websocket::close_code::normal, asio::as_tuple(asio::use_awaitable));
  (void)closed;
  co_return "";
}

void AddTail(CLI::App& app, Context& ctx) {
  struct Flags {
    long long after = -1;
    long long count = 0;
    double seconds = 0;
  };
  auto f = std::make_shared<Flags>();
  auto* tail = app.add_subcommand("tail", "Print the agent stream (token: an agent token), one JSON event a line");
  tail->add_option("--after", f->after, "Replay events after this seq first");
  tail->add_option("--count", f->count, "Exit after this many events");
  tail->add_option("--for", f->seconds, "Exit after this many seconds");
  tail->callback([&ctx, f] {
    std::string target = ctx.Client().prefix() + "/v1/agent/stream";
    if (f->after >= 0) target += "?after=" + std::to_string(f->after);
    asio::io_context io;
    auto socket = std::make_shared<websocket::stream<beast::tcp_stream>>(io);
    asio::steady_timer stop(io);
    std::string error;
    asio::co_spawn(io, Tail(ctx, target, f->count, socket), [&](std::exception_ptr e, std::string result) {
      stop.cancel();
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          error = ex.what();
        }
      } else {
        error = std::move(result);
      }
    });
    if (f->seconds > 0) {
      stop.expires_after(std::chrono::milliseconds(static_cast<long long>(f->seconds * 1000)));
      stop.async_wait([socket](const boost::system::error_code& ec) {
        if (!ec) beast::get_lowest_layer(*socket).cancel();
      });
    }
    io.run();
    if (!error.empty()) throw CommandError(error);
  });
}

}  // namespace

void AddReplayCommand(CLI::App& app, Context& ctx) { AddReplay(app, ctx); }
void AddTailCommand(CLI::App& app, Context& ctx) { AddTail(app, ctx); }

}  // namespace sb::sbctl
