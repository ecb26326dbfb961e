#pragma once
/// A log-linear latency histogram in the spirit of HdrHistogram: microsecond
/// resolution, at most 0.8 % relative error, fixed memory (~35 KiB) however
/// many samples are recorded. Not thread-safe; merge per-thread copies.
#include <chrono>
#include <cstdint>
#include <vector>

namespace sb::client {

class LatencyHistogram {
 public:
  LatencyHistogram();

  void Record(std::chrono::nanoseconds latency);
  void Merge(const LatencyHistogram& other);

  std::uint64_t Count() const { return count_; }
  /// Latency in milliseconds at quantile `q` (0..1); 0 when empty. Reports the
  /// highest value equivalent to the sample's bucket, never above the maximum.
  double QuantileMs(double q) const;
  double MaxMs() const { return static_cast<double>(max_us_) / 1000.0; }
  double MeanMs() const;

 private:
  static constexpr unsigned kSubBucketBits = 8;
  static constexpr std::uint64_t kSubBuckets = 1u << kSubBucketBits;
  static constexpr std::uint64_t kHalfBuckets = kSubBuckets / 2;
  static constexpr std::uint64_t kMaxTrackedUs = (std::uint64_t{1} << 40) - 1;

  static std::size_t IndexOf(std::uint64_t us);
  static std::uint64_t HighestEquivalent(std::size_t index);

  std::vector<std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
  std::uint64_t max_us_ = 0;
  long double sum_us_ = 0;
};

}  // namespace sb::client
