#include "sb/common/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace sb {

namespace {
constexpr auto kPruneEvery = std::chrono::seconds(60);
}

RateLimiter::RateLimiter(double rate_per_second, double burst, std::function<Clock::time_point()> now)
    : rate_(rate_per_second), burst_(std::max(1.0, burst)), now_(std::move(now)) {}

std::optional<std::chrono::milliseconds> RateLimiter::Take(std::int64_t key) {
  if (rate_ <= 0) return std::nullopt;
  auto now = now_();
  std::lock_guard lock(mu_);
  if (now >= next_prune_) PruneLocked(now);
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!inserted && now > b.updated) {
    double elapsed = std::chrono::duration<double>(now - b.updated).count();
    b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
    b.updated = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return std::nullopt;
  }
  double wait_s = (1.0 - b.tokens) / rate_;
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(wait_s * 1000.0)));
}

std::size_t RateLimiter::Buckets() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

// A bucket that has refilled completely is the same as no bucket: dropping
// it keeps memory proportional to the businesses active in the last minute.
void RateLimiter::PruneLocked(Clock::time_point now) {
  next_prune_ = now + kPruneEvery;
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    double elapsed = std::chrono::duration<double>(now - it->second.updated).count();
    if (it->second.tokens + elapsed * rate_ >= burst_) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace sb
