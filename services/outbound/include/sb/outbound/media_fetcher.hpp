#pragma once
/// Keeps Messenger/Instagram attachments: claims pending message_media rows
/// (MediaRepository::ClaimDue, SKIP LOCKED), fetches each attachment's CDN
/// URL when its host is on the allow-list, and records kept / too_large /
/// refused / failed; a failed fetch (no answer, 408, 429, 5xx) is retried
/// with a growing pause up to max_attempts. Each claim and each mark is a
/// transaction of its own; a download never holds one. Runs on its own
/// thread and io_context, never on the server's; any number of fetchers, in
/// one process or many, may share a database.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "sb/outbound/media_host_allow_list.hpp"

namespace sb::metrics {
class Registry;
}
namespace sb::store {
class Database;
}

namespace sb::outbound {

struct MediaFetcherOptions {
  std::uint64_t max_bytes = 25u << 20;                            // SWITCHBOARD_MEDIA_MAX_BYTES (Messenger's limit)
  std::string hosts = std::string(MediaHostAllowList::kDefault);  // SWITCHBOARD_MEDIA_HOSTS
  int concurrency = 2;                                            // downloads in flight at once
  std::chrono::milliseconds request_timeout{60000};               // one download, connect to last byte
  /// How long a claim holds a row; a fetch whose process died is tried
  /// again after this. Must exceed request_timeout by more than 10 s.
  std::chrono::milliseconds lease{std::chrono::seconds(90)};
  std::chrono::milliseconds poll_interval{1000};  // between claims when nothing is due and nobody calls Notify
  std::chrono::milliseconds first_retry{2000};    // the pause after a failed attempt, 4 times longer each time
  int max_attempts = 4;
  std::chrono::milliseconds stop_grace{1000};  // Stop lets downloads in flight finish this long, then cuts them off
};

/// Counts `switchboard_media_fetches_total{result}` (kept, retry, failed,
/// too_large, refused).
class MediaFetcher {
 public:
  /// `db` and `registry` must outlive the fetcher. Throws
  /// std::invalid_argument for a malformed host list or options that do not
  /// fit together.
  MediaFetcher(store::Database& db, metrics::Registry& registry, MediaFetcherOptions options = {});
  /// Stops, if running.
  ~MediaFetcher();
  MediaFetcher(const MediaFetcher&) = delete;
  MediaFetcher& operator=(const MediaFetcher&) = delete;

  /// Starts the fetcher's thread. Call once.
  void Start();

  /// Stops claiming, lets downloads in flight finish (cut off after
  /// stop_grace and given back), joins the thread. Call before stopping the
  /// Database. Idempotent; not from the fetcher's own thread.
  void Stop();

  /// Messages were just stored: claim now instead of at the next poll.
  /// Cheap, never blocks; callable from any thread.
  void Notify();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sb::outbound
