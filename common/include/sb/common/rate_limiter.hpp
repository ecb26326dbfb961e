#pragma once
/// Token buckets keyed by an integer (a business id): `rate` tokens a
/// second refill each bucket up to `burst`; a request takes one. In memory,
/// per process. Thread-safe.
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace sb {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  /// `rate` <= 0 disables limiting (every Take succeeds). `now` is injectable
  /// for tests.
  RateLimiter(double rate_per_second, double burst, std::function<Clock::time_point()> now = &Clock::now);

  /// Takes one token from `key`'s bucket. nullopt when it had one; otherwise
  /// how long until it will (the bucket is left unchanged).
  std::optional<std::chrono::milliseconds> Take(std::int64_t key);

  bool enabled() const { return rate_ > 0; }
  /// Buckets currently held (full buckets are dropped now and then).
  std::size_t Buckets() const;

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  void PruneLocked(Clock::time_point now);

  double rate_;
  double burst_;
  std::function<Clock::time_point()> now_;
  mutable std::mutex mu_;
  std::unordered_map<std::int64_t, Bucket> buckets_;
  Clock::time_point next_prune_{};
};

}  // namespace sb
