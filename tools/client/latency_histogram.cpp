#include "latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace sb::client {

// Values below kSubBuckets µs get one bucket each; above, every power of two
// is split into kHalfBuckets equal buckets.
std::size_t LatencyHistogram::IndexOf(std::uint64_t us) {
  if (us < kSubBuckets) return static_cast<std::size_t>(us);
  const unsigned exponent = static_cast<unsigned>(std::bit_width(us)) - kSubBucketBits;
  const std::uint64_t mantissa = us >> exponent;  // in [kHalfBuckets, kSubBuckets)
  return static_cast<std::size_t>(kSubBuckets + (exponent - 1) * kHalfBuckets + (mantissa - kHalfBuckets));
}

std::uint64_t LatencyHistogram::HighestEquivalent(std::size_t index) {
  if (index < kSubBuckets) return index;
  const std::uint64_t offset = index - kSubBuckets;
  const std::uint64_t exponent = offset / kHalfBuckets + 1;
  const std::uint64_t mantissa = offset % kHalfBuckets + kHalfBuckets;
  return ((mantissa + 1) << exponent) - 1;
}

LatencyHistogram::LatencyHistogram() : buckets_(IndexOf(kMaxTrackedUs) + 1, 0) {}

void LatencyHistogram::Record(std::chrono::nanoseconds latency) {
  const auto ns = std::max<std::int64_t>(latency.count(), 0);
  const std::uint64_t us = std::min<std::uint64_t>(static_cast<std::uint64_t>(ns) / 1000, kMaxTrackedUs);
  ++buckets_[IndexOf(us)];
  ++count_;
  max_us_ = std::max(max_us_, us);
  sum_us_ += static_cast<long double>(us);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_us_ = std::max(max_us_, other.max_us_);
  sum_us_ += other.sum_us_;
}

double LatencyHistogram::QuantileMs(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      return static_cast<double>(std::min(HighestEquivalent(i), max_us_)) / 1000.0;
    }
  }
  return MaxMs();
}

double LatencyHistogram::MeanMs() const {
  if (count_ == 0) return 0;
  return static_cast<double>(sum_us_ / static_cast<long double>(count_)) / 1000.0;
}

}  // namespace sb::client
