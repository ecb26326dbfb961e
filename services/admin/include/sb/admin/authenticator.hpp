#pragma once
/// Bearer-token authentication: the platform admin token from the
/// environment, business keys and agent tokens looked up by SHA-256 hash
/// (cached for `cache_ttl`, never past a token's own expiry; Forget() drops
/// the cache when tokens are revoked here or, via NOTIFY, in another
/// process). Thread-safe.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "sb/common/http/message.hpp"
#include "sb/store/repositories.hpp"

namespace sb::admin {

struct Principal {
  enum class Role { kAdmin, kBusiness, kAgent };
  Role role = Role::kBusiness;
  std::int64_t business_id = 0;
  std::optional<std::int64_t> agent_id;
};

class Authenticator {
 public:
  Authenticator(store::BusinessRepository& businesses, std::string admin_token,
                std::chrono::seconds cache_ttl = std::chrono::seconds(10));

  /// 401 `unauthorized` without a valid bearer token.
  boost::asio::awaitable<Principal> Authenticate(const http::Request& req);
  /// As Authenticate, then 403 `forbidden` unless the token is a business key.
  boost::asio::awaitable<Principal> RequireBusiness(const http::Request& req);
  /// 401 without a valid token; 403 for a valid token that is not the
  /// platform admin token.
  boost::asio::awaitable<void> RequireAdmin(const http::Request& req);
  /// Forgets every cached token (some were revoked or rotated).
  void Forget();

 private:
  store::BusinessRepository& businesses_;
  std::string admin_token_;
  std::chrono::seconds cache_ttl_;
  std::mutex mu_;
  struct Cached {
    store::TokenOwner owner;
    std::chrono::steady_clock::time_point expires;
  };
  std::unordered_map<std::string, Cached> cache_;
  // Bumped by Forget(): a lookup that started before it is not cached.
  std::uint64_t generation_ = 0;
};

}  // namespace sb::admin
