#pragma once
/// Sends queued replies through the channels' send APIs: claims due replies
/// (OutboundRepository::ClaimDue), sends each with the channel's access
/// token, and records sent / retry / failed under the retry policy. Runs on
/// its own thread and io_context, never on the server's; any number of
/// senders, in one process or many, may share a database (SKIP LOCKED).
#include <chrono>
#include <memory>
#include <string>

#include "sb/outbound/retry_policy.hpp"

namespace sb::crypto {
class SecretBox;
}
namespace sb::metrics {
class Registry;
}
namespace sb::store {
class Database;
}

namespace sb::outbound {

struct SenderOptions {
  std::string graph_api_base = "https://graph.facebook.com/v21.0";  // SWITCHBOARD_GRAPH_API_BASE
  int connections = 4;  // sends in flight at once, each on a keep-alive connection of its own
  int batch = 4;        // replies claimed per database round trip, per connection
  /// How long a claim holds a reply; a reply whose sender died is sent again
  /// after this. Must leave room for a send (request_timeout + 10 s).
  std::chrono::milliseconds lease{std::chrono::minutes(2)};
  std::chrono::milliseconds poll_interval{500};  // between claims when nothing is due and nobody calls Notify
  std::chrono::milliseconds request_timeout{10000};
  std::chrono::milliseconds stop_grace{5000};  // Stop lets sends in flight finish this long, then cuts them off
  RetryPolicy retry;
};

/// Counts `switchboard_outbound_sends_total{kind,result}` (result: sent,
/// retry, failed) and `switchboard_outbound_send_seconds{kind}`.
class OutboundSender {
 public:
  /// `db`, `secrets` (opens channels.access_token_enc) and `registry` must
  /// outlive the sender. Throws std::invalid_argument for a malformed
  /// graph_api_base or options that do not fit together.
  OutboundSender(store::Database& db, const crypto::SecretBox& secrets, metrics::Registry& registry,
                 SenderOptions options = {});
  /// Stops, if running.
  ~OutboundSender();
  OutboundSender(const OutboundSender&) = delete;
  OutboundSender& operator=(const OutboundSender&) = delete;

  /// Starts the sender's thread. Call once.
  void Start();

  /// Stops claiming, gives claimed replies not yet sent back, lets sends in
  /// flight finish (cut off after stop_grace), joins the thread. Call before
  /// stopping the Database. Idempotent; not from the sender's own thread.
  void Stop();

  /// A reply was just queued: claim now instead of at the next poll. Cheap,
  /// never blocks; callable from any thread (an io_context's included).
  void Notify();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sb::outbound
