// Per-key token buckets, driven by an injected clock.
#include "sb/common/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace sb {
namespace {

using namespace std::chrono_literals;

struct FakeClock {
  RateLimiter::Clock::time_point now = RateLimiter::Clock::time_point(1000s);
  std::function<RateLimiter::Clock::time_point()> Fn() {
    return [this] { return now; };
  }
};

TEST(RateLimiter, BurstThenRateThenRetryAfter) {
  FakeClock clock;
  RateLimiter limiter(10, 5, clock.Fn());
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(limiter.Take(1).has_value()) << "request " << i << " is within the burst";
  auto wait = limiter.Take(1);
  ASSERT_TRUE(wait.has_value()) << "the sixth request at once is over the burst";
  EXPECT_EQ(wait->count(), 100) << "10 a second: the next token comes in 100 ms";
  clock.now += 50ms;
  ASSERT_TRUE(limiter.Take(1).has_value()) << "half a token is not a token";
  clock.now += 50ms;
  EXPECT_FALSE(limiter.Take(1).has_value()) << "after 100 ms one token is back";
  EXPECT_TRUE(limiter.Take(1).has_value());
}

TEST(RateLimiter, RefillStopsAtTheBurst) {
  FakeClock clock;
  RateLimiter limiter(100, 3, clock.Fn());
  clock.now += 1h;
  int allowed = 0;
  while (!limiter.Take(7).has_value()) ++allowed;
  EXPECT_EQ(allowed, 3) << "an idle hour does not save up more than the burst";
}

TEST(RateLimiter, KeysHaveTheirOwnBuckets) {
  FakeClock clock;
  RateLimiter limiter(1, 2, clock.Fn());
  EXPECT_FALSE(limiter.Take(1).has_value());
  EXPECT_FALSE(limiter.Take(1).has_value());
  EXPECT_TRUE(limiter.Take(1).has_value()) << "business 1 is out of tokens";
  EXPECT_FALSE(limiter.Take(2).has_value()) << "business 2 is not affected by business 1";
}

TEST(RateLimiter, ZeroRateDisables) {
  RateLimiter limiter(0, 1);
  EXPECT_FALSE(limiter.enabled());
  for (int i = 0; i < 10000; ++i) ASSERT_FALSE(limiter.Take(1).has_value());
  EXPECT_EQ(limiter.Buckets(), 0u);
}

TEST(RateLimiter, FullBucketsAreForgotten) {
  FakeClock clock;
  RateLimiter limiter(10, 10, clock.Fn());
  for (std::int64_t key = 0; key < 1000; ++key) limiter.Take(key);
  EXPECT_EQ(limiter.Buckets(), 1000u);
  clock.now += 2min;  // every bucket refilled, and a prune is due
  limiter.Take(5000);
  EXPECT_EQ(limiter.Buckets(), 1u) << "only the bucket just used is kept";
}

TEST(RateLimiter, ConcurrentTakesNeverExceedTheBurst) {
  FakeClock clock;  // time stands still: exactly the burst may pass
  RateLimiter limiter(1, 1000, clock.Fn());
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (!limiter.Take(1)) ++allowed;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 1000);
}

}  // namespace
}  // namespace sb
