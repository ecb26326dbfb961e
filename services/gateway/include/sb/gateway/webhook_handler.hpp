#pragma once
/// The channel webhook endpoints: the GET verification handshake and the
/// signed POST, checked in DESIGN.md's order (size, JSON, shape, signature)
/// and handed to the ingest sink. Thread-safe.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>

#include "sb/common/http/message.hpp"
#include "sb/gateway/ingest_sink.hpp"

namespace sb::metrics {
class Registry;
}

namespace sb::gateway {

class WebhookHandler {
 public:
  /// `deadline`: from a webhook's arrival to the answer Meta gets at the
  /// latest. A webhook that arrived (http::Request::received_at) over a
  /// quarter of it ago is refused before it is parsed, as the writer would
  /// refuse it after (see GroupCommitWriter).
  WebhookHandler(ChannelDirectory& directory, IngestSink& sink, metrics::Registry& registry,
                 std::chrono::milliseconds deadline);
  ~WebhookHandler();

  /// GET /webhooks/{kind}
  boost::asio::awaitable<http::Response> Verify(http::Request& req);
  /// POST /webhooks/{kind}
  boost::asio::awaitable<http::Response> Receive(http::Request& req);

 private:
  struct Metrics;
  ChannelDirectory& directory_;
  IngestSink& sink_;
  std::unique_ptr<Metrics> metrics_;
  std::chrono::milliseconds deadline_;
};

}  // namespace sb::gateway
