#pragma once
/// Kept copies of Messenger/Instagram attachments (message_media): the media
/// fetcher claims pending rows and records what each fetch ended in; the
/// media API reads a kept file. Every method runs on the database pool;
/// the marks touch only rows still pending, so a row erased (deleted) while
/// its fetch was in flight stays gone. Thread-safe.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sb/store/database.hpp"

namespace sb::store {

/// An attachment claimed for one fetch attempt.
struct MediaClaim {
  std::int64_t business_id = 0;
  std::int64_t message_id = 0;
  int attempts = 0;                // including this one
  std::optional<std::string> url;  // the CDN URL; nullopt when the message was erased
};

/// A kept file, as fetched.
struct KeptMedia {
  std::string content_type;
  std::string bytes;
};

class MediaRepository {
 public:
  explicit MediaRepository(Database& db) : db_(db) {}

  /// Claims up to `limit` due pending attachments (skipping rows other
  /// fetchers hold) and pushes their next attempt `lease` out: unless marked
  /// sooner, a claimed one is claimed again when the lease ends. Counts the
  /// attempt.
  boost::asio::awaitable<std::vector<MediaClaim>> ClaimDue(int limit, std::chrono::milliseconds lease);

  /// 'kept' with the file. False when the row is no longer pending.
  boost::asio::awaitable<bool> Keep(std::int64_t business_id, std::int64_t message_id, const std::string& content_type,
                                    const std::string& bytes);

  /// Stays pending, due again `delay` from now (database clock).
  boost::asio::awaitable<bool> Retry(std::int64_t business_id, std::int64_t message_id, std::chrono::milliseconds delay,
                                     const std::string& error);

  /// Ends without a file: `state` is "failed", "too_large" or "refused".
  boost::asio::awaitable<bool> Finish(std::int64_t business_id, std::int64_t message_id, const std::string& state,
                                      const std::string& error);

  /// Gives a claimed attachment back unfetched: due at once, the attempt uncounted.
  boost::asio::awaitable<bool> Release(std::int64_t business_id, std::int64_t message_id);

  /// The kept file of a message, or nullopt.
  boost::asio::awaitable<std::optional<KeptMedia>> Read(std::int64_t business_id, std::int64_t message_id);

 private:
  Database& db_;
};

}  // namespace sb::store
