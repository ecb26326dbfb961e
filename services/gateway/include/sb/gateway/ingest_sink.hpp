#pragma once
/// What the gateway hands over once a webhook body is verified: the sink
/// stores it durably and returns only after the commit.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sb/gateway/envelope.hpp"

namespace sb::gateway {

struct ChannelKey {
  std::int64_t business_id = 0;
  std::int64_t channel_id = 0;
};

/// One accepted webhook body, limited to the channels whose secret verified it.
struct IngestRequest {
  ChannelKind kind = ChannelKind::kWhatsapp;
  std::string body;  // archived verbatim
  ParsedWebhook parsed;
  std::vector<std::pair<ChannelRef, ChannelKey>> channels;  // the verified refs
  std::chrono::steady_clock::time_point deadline;
  /// Set when re-processing a body that is archived already: the messages
  /// refer to that archive row and no new one is written.
  struct ArchiveRef {
    std::int64_t id = 0;
    std::string received_at;  // as PostgreSQL printed it
  };
  std::optional<ArchiveRef> archived;
};

struct IngestOutcome {
  int messages = 0;    // newly stored
  int duplicates = 0;  // already stored (re-deliveries)
  int to_route = 0;    // of `messages`, those whose conversation waits for the router (new, not routed yet, a bot's)
  int statuses = 0;
  int events = 0;
};

class IngestSink {
 public:
  virtual ~IngestSink() = default;
  /// Resumes after the request is committed. Throws http::HttpError (503 with
  /// Retry-After) when it cannot be committed in time.
  virtual boost::asio::awaitable<IngestOutcome> Ingest(IngestRequest request) = 0;
  /// True while new webhooks are refused before any parsing (503 at once):
  /// the process is already behind on the work it has.
  virtual bool Shedding() const { return false; }
};

/// A registered channel a webhook body names, with its app secret.
struct KnownChannel {
  ChannelRef ref;
  ChannelKey key;
  std::string app_secret;
  bool active = true;
};

class ChannelDirectory {
 public:
  virtual ~ChannelDirectory() = default;
  /// The registered channels among `refs` (several per account-level ref).
  virtual boost::asio::awaitable<std::vector<KnownChannel>> Find(ChannelKind kind,
                                                                 const std::vector<ChannelRef>& refs) = 0;
  /// Is `token` the verify token of an active channel of this kind?
  virtual boost::asio::awaitable<bool> IsVerifyToken(ChannelKind kind, const std::string& token) = 0;
};

}  // namespace sb::gateway
