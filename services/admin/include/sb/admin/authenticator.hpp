#pragma once
/// Bearer-token authentication: the platform admin token from the
/// environment, business keys and agent tokens looked up by SHA-256 hash
/// (cached for `cache_ttl`, never past a token's own expiry; Forget() drops
/// the cache when tokens are revoked here or, via NOTIFY, in another
/// process). Every authenticated business key and agent token takes a
/// token from its business's rate-limit bucket (429 when empty); the admin
/// token is not limited. Thread-safe.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "sb/common/http/message.hpp"
#include "sb/common/rate_limiter.hpp"
#include "sb/store/repositories.hpp"

namespace sb::admin {

struct Principal {
  enum class Role { kAdmin, kBusiness, kAgent };
  Role role = Role::kBusiness;
  std::int64_t business_id = 0;
  std::optional<std::int64_t> agent_id;
  /// For a business key: the first 16 hex digits of its SHA-256, which
  /// names the key in the audit log without revealing it.
  std::string key_fingerprint;
};

class Authenticator {
 public:
  /// `limiter` (not owned) limits requests per business.
  Authenticator(store::BusinessRepository& businesses, std::string admin_token, std::chrono::seconds cache_ttl,
                RateLimiter& limiter);

  /// 401 `unauthorized` without a valid bearer token; 429 `rate_limited`
  /// (with Retry-After) when the token's business is over its rate.
  boost::asio::awaitable<Principal> Authenticate(const http::Request& req);
  /// As Authenticate, then 403 `forbidden` unless the token is a business key.
  boost::asio::awaitable<Principal> RequireBusiness(const http::Request& req);
  /// As Authenticate, then 403 `forbidden` unless the token is an agent's.
  boost::asio::awaitable<Principal> RequireAgent(const http::Request& req);
  /// 401 without a valid token; 403 for a valid token that is not the
  /// platform admin token.
  boost::asio::awaitable<void> RequireAdmin(const http::Request& req);
  /// Forgets every cached token (some were revoked or rotated).
  void Forget();

 private:
  store::BusinessRepository& businesses_;
  std::string admin_token_;
  std::chrono::seconds cache_ttl_;
  RateLimiter& limiter_;
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
