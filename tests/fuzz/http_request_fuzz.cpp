// The server's request path over arbitrary bytes from a connection: Beast's
// parser with the server's limits (request_head.hpp, shared with
// server.cpp), the Request we build from the head, the route lookup, the
// body-limit decision, keep-alive pipelining on one buffer, then what
// handlers read from a request (bearer token, query integers, path ids,
// JSON bodies). Each input is read twice, in one piece and cut into small
// reads as a network cuts it; both readings must give the same requests.
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/system/system_error.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz_checks.hpp"
#include "request_head.hpp"
#include "sb/common/http/json_body.hpp"
#include "sb/common/http/router.hpp"

namespace {

namespace bhttp = boost::beast::http;
using sb::http::BodyPlan;
using sb::http::Request;

// A connection that delivers the input `chunk` bytes per read, then EOF.
class ChunkedInput {
 public:
  ChunkedInput(std::string_view bytes, std::size_t chunk) : rest_(bytes), chunk_(chunk) {}

  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers, boost::system::error_code& ec) {
    if (rest_.empty()) {
      ec = boost::asio::error::eof;
      return 0;
    }
    ec = {};
    const std::size_t n =
        boost::asio::buffer_copy(buffers, boost::asio::buffer(rest_.data(), std::min(chunk_, rest_.size())));
    rest_.remove_prefix(n);
    return n;
  }

  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers) {
    boost::system::error_code ec;
    const std::size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  std::string_view rest_;
  std::size_t chunk_;
};

// Never called: only the lookup runs. Plain functions, not coroutines:
// clang 14 cannot emit coroutine debug info under this instrumentation.
[[noreturn]] boost::asio::awaitable<sb::http::Response> NoHandler(Request&) { std::abort(); }

// The served route table (services/app/src/services.cpp): methods, patterns
// and body limits are what the lookup and the limit decision depend on. The
// api role's routes come from the list the server registers (routes.inc).
const sb::http::Router& Routes() {
  static const sb::http::Router router = [] {
    sb::http::Router r;
    for (const char* path : {"/healthz", "/readyz", "/metrics", "/webhooks/{kind}"}) r.Add("GET", path, NoHandler);
    r.Add("POST", "/webhooks/{kind}", NoHandler, sb::http::kWebhookBodyLimit);
#define SB_API_ROUTE(method, pattern, service, handler) r.Add(method, pattern, NoHandler);
#include "routes.inc"
#undef SB_API_ROUTE
    r.AddWebSocket("/v1/agent/stream",
                   [](Request&, sb::http::WebSocket&) -> boost::asio::awaitable<void> { std::abort(); });
    return r;
  }();
  return router;
}

// What one request came to, for comparing two readings of the same bytes.
struct Outcome {
  std::string end;  // the server's answer: "ok" (dispatched), "400", "413" or "closed"
  std::string method, target, path, body;
  std::vector<std::pair<std::string, std::string>> headers, query;
  friend bool operator==(const Outcome&, const Outcome&) = default;
};

void CheckHttpError(const sb::http::HttpError& e) {
  SB_FUZZ_CHECK(e.status() == 400 || e.status() == 404, "unexpected status " + std::to_string(e.status()));
  SB_FUZZ_CHECK(sb::fuzz::IsValidUtf8(e.message()), "error message is not UTF-8");
  const auto response = e.ToResponse();
  SB_FUZZ_CHECK(!response.body.empty(), "empty error body");
}

// What handlers read from a request they are given.
void ReadAsHandlersDo(const Request& req) {
  (void)req.BearerToken();
  (void)req.Header("x-hub-signature-256");
  (void)req.Query("hub.challenge");
  try {
    (void)sb::http::QueryInt(req, "limit", 1, 200);
    (void)sb::http::QueryInt(req, "after", 0, INT64_MAX);
  } catch (const sb::http::HttpError& e) {
    CheckHttpError(e);
  }
  try {
    (void)sb::http::PathId(req, "id");
  } catch (const sb::http::HttpError& e) {
    CheckHttpError(e);
  }
  if (req.method != "POST" && req.method != "PUT" && req.method != "PATCH") return;
  try {
    sb::http::JsonBody body(req, {"name", "capacity", "queue_ids", "skills", "currency", "require_accept"});
    (void)body.OptionalString("name");
    (void)body.OptionalInt("capacity", 1, 1000);
    (void)body.OptionalBool("require_accept");
    (void)body.OptionalStringArray("skills");
    (void)body.RequiredIdArray("queue_ids");
    (void)body.RequiredCurrency("currency");
  } catch (const sb::http::HttpError& e) {
    CheckHttpError(e);
  }
}

std::vector<Outcome> Serve(std::string_view bytes, std::size_t chunk) {
  ChunkedInput input(bytes, chunk);
  boost::beast::flat_buffer buffer;
  std::vector<Outcome> outcomes;
  // The server's loop: one parser per request on the connection's buffer.
  for (int i = 0; i < 8; ++i) {
    sb::http::RequestParser parser;
    sb::http::LimitRequestHead(parser);
    boost::system::error_code ec;
    bhttp::read_header(input, buffer, parser, ec);
    if (ec) {
      // The server answers 400 to a malformed head (Beast may name the
      // fault differently depending on where the reads cut it).
      if (ec != bhttp::error::end_of_stream) {
        Outcome failed;
        failed.end = "400";
        outcomes.push_back(std::move(failed));
      }
      break;
    }
    Outcome outcome;
    Request req;
    sb::http::FillRequest(parser, req);
    for (const auto& [name, value] : req.headers) {
      SB_FUZZ_CHECK(std::none_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; }),
                    "header name not lower-cased: " + name);
    }
    // Decoding never merges or splits path segments (an encoded '/' stays
    // in its segment), so routing sees the segments the client sent.
    if (auto url = boost::urls::parse_origin_form(req.target)) {
      SB_FUZZ_CHECK(std::count(req.path.begin(), req.path.end(), '/') ==
                        std::count(url->encoded_path().begin(), url->encoded_path().end(), '/'),
                    "decoding changed the path's segments: " + req.target + " -> " + req.path);
    }
    SB_FUZZ_CHECK(!req.request_id.empty() && req.request_id.size() <= 64, "request id: " + req.request_id);
    outcome.method = req.method;
    outcome.target = req.target;
    outcome.path = req.path;
    outcome.headers = req.headers;
    outcome.query = req.query;

    auto match = Routes().Find(req.method, req.path);
    if (match.handler != nullptr) SB_FUZZ_CHECK(!match.pattern.empty(), "a route without a pattern");
    const BodyPlan plan = sb::http::PlanBody(parser, match.body_limit);
    if (plan == BodyPlan::kTooLarge) {
      SB_FUZZ_CHECK(parser.content_length() && *parser.content_length() > match.body_limit, "413 within the limit");
      outcome.end = "413";
      outcomes.push_back(std::move(outcome));
      break;
    }
    if (plan == BodyPlan::kRead) {
      bhttp::read(input, buffer, parser, ec);
      if (ec) {
        // The server answers 413 over the limit and closes on any other fault.
        outcome.end = ec == bhttp::error::body_limit ? "413" : "closed";
        outcomes.push_back(std::move(outcome));
        break;
      }
    }
    SB_FUZZ_CHECK(parser.is_done(), "a complete request that is not done");
    req.body = std::move(parser.get().body());
    SB_FUZZ_CHECK(req.body.size() <= match.body_limit, "body over the route's limit");
    if (auto length = parser.content_length()) {
      SB_FUZZ_CHECK(req.body.size() == *length, "body size differs from Content-Length");
    }
    req.params = std::move(match.params);
    (void)boost::beast::websocket::is_upgrade(parser.get());
    ReadAsHandlersDo(req);
    outcome.end = "ok";
    outcome.body = req.body;
    outcomes.push_back(std::move(outcome));
    if (!parser.keep_alive()) break;
  }
  return outcomes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes = sb::fuzz::AsText(data, size);
  const auto whole = Serve(bytes, std::max<std::size_t>(size, 1));
  const auto cut = Serve(bytes, 1 + size % 13);
  SB_FUZZ_CHECK(whole == cut, "the same bytes read in small pieces give other requests");
  return 0;
}
