#pragma once
// The webhook path's view of registered channels: a short-lived cache in
// front of the channel table, so a steady stream of webhooks costs no
// database round trip for the lookup.
#include <chrono>
#include <mutex>
#include <unordered_map>

#include "sb/common/crypto.hpp"
#include "sb/gateway/ingest_sink.hpp"
#include "sb/store/repositories.hpp"

namespace sb::app {

class CachedChannelDirectory : public gateway::ChannelDirectory {
 public:
  CachedChannelDirectory(store::ChannelRepository& channels, const crypto::SecretBox& secrets,
                         std::chrono::milliseconds ttl = std::chrono::seconds(10),
                         std::chrono::milliseconds negative_ttl = std::chrono::seconds(2));

  boost::asio::awaitable<std::vector<gateway::KnownChannel>> Find(
      gateway::ChannelKind kind, const std::vector<gateway::ChannelRef>& refs) override;
  boost::asio::awaitable<bool> IsVerifyToken(gateway::ChannelKind kind, const std::string& token) override;

  /// Forgets everything (a channel was created or changed).
  void Invalidate();

 private:
  struct Entry {
    std::vector<gateway::KnownChannel> channels;
    std::chrono::steady_clock::time_point expires;
  };
  static std::string Key(gateway::ChannelKind kind, const gateway::ChannelRef& ref);

  store::ChannelRepository& channels_;
  const crypto::SecretBox& secrets_;
  std::chrono::milliseconds ttl_, negative_ttl_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> cache_;
  // Bumped by Invalidate(): a lookup that started before it is not cached.
  std::uint64_t generation_ = 0;
};

}  // namespace sb::app
