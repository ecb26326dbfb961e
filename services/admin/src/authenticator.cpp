#include "sb/admin/authenticator.hpp"

#include <algorithm>

#include "sb/common/crypto.hpp"

namespace sb::admin {

namespace {
constexpr std::size_t kMaxCached = 10000;

http::HttpError Unauthorized(std::string message) { return http::HttpError(401, "unauthorized", std::move(message)); }
}  // namespace

Authenticator::Authenticator(store::BusinessRepository& businesses, std::string admin_token,
                             std::chrono::seconds cache_ttl, RateLimiter& limiter)
    : businesses_(businesses), admin_token_(std::move(admin_token)), cache_ttl_(cache_ttl), limiter_(limiter) {}

boost::asio::awaitable<void> Authenticator::RequireAdmin(const http::Request& req) {
  Principal p = co_await Authenticate(req);
  if (p.role != Principal::Role::kAdmin) {
    throw http::HttpError(403, "forbidden", "this operation needs the platform admin token");
  }
}

boost::asio::awaitable<Principal> Authenticator::Authenticate(const http::Request& req) {
  auto token = req.BearerToken();
  if (token.empty()) throw Unauthorized("missing bearer token (Authorization: Bearer <token>)");
  if (!admin_token_.empty() && crypto::ConstantTimeEqual(token, admin_token_)) {
    co_return Principal{Principal::Role::kAdmin, 0, std::nullopt, {}};
  }
  std::string hash = crypto::Sha256Hex(token);
  auto now = std::chrono::steady_clock::now();
  std::optional<store::TokenOwner> owner;
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(mu_);
    generation = generation_;
    auto it = cache_.find(hash);
    if (it != cache_.end() && it->second.expires > now) owner = it->second.owner;
  }
  if (!owner) {
    owner = co_await businesses_.FindToken(hash);
    if (!owner) throw Unauthorized("invalid or revoked token");
    std::lock_guard lock(mu_);
    // A lookup that raced a revocation answers from the database but is not kept.
    if (generation == generation_) {
      if (cache_.size() >= kMaxCached) cache_.clear();
      // A rotated key in its grace period stops on time, cached or not.
      auto ttl = std::chrono::duration_cast<std::chrono::steady_clock::duration>(cache_ttl_);
      if (owner->expires_in_ms) {
        ttl = std::min(ttl, std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                std::chrono::milliseconds(*owner->expires_in_ms)));
      }
      cache_[hash] = Cached{*owner, now + ttl};
    }
  }
  Principal p;
  p.role = owner->role == "agent" ? Principal::Role::kAgent : Principal::Role::kBusiness;
  p.business_id = owner->business_id;
  p.agent_id = owner->agent_id;
  if (p.role == Principal::Role::kBusiness) p.key_fingerprint = hash.substr(0, 16);
  if (auto wait = limiter_.Take(p.business_id)) {
    auto seconds = std::max<std::int64_t>(1, (wait->count() + 999) / 1000);
    throw http::HttpError(429, "rate_limited",
                          "too many requests for this business; retry in " + std::to_string(seconds) + " s")
        .WithRetryAfter(static_cast<int>(seconds));
  }
  co_return p;
}

void Authenticator::Forget() {
  std::lock_guard lock(mu_);
  ++generation_;
  cache_.clear();
}

boost::asio::awaitable<Principal> Authenticator::RequireBusiness(const http::Request& req) {
  Principal p = co_await Authenticate(req);
  if (p.role != Principal::Role::kBusiness) {
    throw http::HttpError(403, "forbidden", "this operation needs a business API key");
  }
  co_return p;
}

boost::asio::awaitable<Principal> Authenticator::RequireAgent(const http::Request& req) {
  Principal p = co_await Authenticate(req);
  if (p.role != Principal::Role::kAgent || !p.agent_id) {
    throw http::HttpError(403, "forbidden", "this operation needs an agent token");
  }
  co_return p;
}

}  // namespace sb::admin
