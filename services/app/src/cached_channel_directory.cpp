#include "cached_channel_directory.hpp"

#include <spdlog/spdlog.h>

namespace sb::app {

namespace {
constexpr std::size_t kMaxEntries = 100000;
}

CachedChannelDirectory::CachedChannelDirectory(store::ChannelRepository& channels, const crypto::SecretBox& secrets,
                                               std::chrono::milliseconds ttl, std::chrono::milliseconds negative_ttl)
    : channels_(channels), secrets_(secrets), ttl_(ttl), negative_ttl_(negative_ttl) {}

std::string CachedChannelDirectory::Key(gateway::ChannelKind kind, const gateway::ChannelRef& ref) {
  return std::string(gateway::ToString(kind)) + (ref.account_level ? "|a|" : "|c|") + ref.external_id;
}

void CachedChannelDirectory::Invalidate() {
  std::lock_guard lock(mu_);
  ++generation_;
  cache_.clear();
}

boost::asio::awaitable<std::vector<gateway::KnownChannel>> CachedChannelDirectory::Find(
    gateway::ChannelKind kind, const std::vector<gateway::ChannelRef>& refs) {
  std::vector<gateway::KnownChannel> out;
  std::vector<std::string> ids, accounts;
  auto now = std::chrono::steady_clock::now();
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(mu_);
    generation = generation_;
    for (const auto& ref : refs) {
      auto it = cache_.find(Key(kind, ref));
      if (it != cache_.end() && it->second.expires > now) {
        out.insert(out.end(), it->second.channels.begin(), it->second.channels.end());
      } else {
        (ref.account_level ? accounts : ids).push_back(ref.external_id);
      }
    }
  }
  if (ids.empty() && accounts.empty()) co_return out;

  auto rows = co_await channels_.Resolve(std::string(gateway::ToString(kind)), ids, accounts);
  std::unordered_map<std::string, std::vector<gateway::KnownChannel>> fresh;
  for (const auto& row : rows) {
    gateway::KnownChannel known;
    known.ref = gateway::ChannelRef{row.external_id, row.account_level};
    known.key = gateway::ChannelKey{row.business_id, row.channel_id};
    known.active = row.active;
    auto secret = secrets_.OpenHex(row.app_secret_enc_hex);
    if (!secret) {
      // Encrypted under another key: the channel cannot verify anything.
      spdlog::error("channel {} of business {}: app secret cannot be decrypted with the configured key", row.channel_id,
                    row.business_id);
      continue;
    }
    known.app_secret = std::move(*secret);
    fresh[Key(kind, known.ref)].push_back(known);
    out.push_back(std::move(known));
  }
  std::lock_guard lock(mu_);
  if (generation != generation_) co_return out;  // changed meanwhile: answer, keep nothing
  if (cache_.size() > kMaxEntries) cache_.clear();
  now = std::chrono::steady_clock::now();
  for (const auto& ref : refs) {
    auto key = Key(kind, ref);
    if (auto it = fresh.find(key); it != fresh.end()) {
      cache_[key] = Entry{std::move(it->second), now + ttl_};
    } else if (!cache_.count(key) || cache_[key].expires <= now) {
      cache_[key] = Entry{{}, now + negative_ttl_};
    }
  }
  co_return out;
}

boost::asio::awaitable<bool> CachedChannelDirectory::IsVerifyToken(gateway::ChannelKind kind,
                                                                   const std::string& token) {
  co_return co_await channels_.VerifyTokenExists(std::string(gateway::ToString(kind)), crypto::Sha256Hex(token));
}

}  // namespace sb::app
