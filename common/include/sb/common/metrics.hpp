#pragma once
/// A small Prometheus registry: counters, gauges and histograms with
/// labels, rendered in the text exposition format. Thread-safe; updates are
/// lock-free after a series' first use.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sb::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Inc(double v = 1) { value_.fetch_add(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  /// Per-bucket (not cumulative) counts, +Inf last; sum; count.
  void Snapshot(std::vector<std::uint64_t>& buckets, double& sum, std::uint64_t& count) const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<double> sum_{0};
  std::atomic<std::uint64_t> count_{0};
};

class Registry {
 public:
  /// Returns the series for (name, labels), creating it on first use. The
  /// reference stays valid for the registry's lifetime.
  Counter& GetCounter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& GetGauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& GetHistogram(const std::string& name, const std::string& help, const std::vector<double>& bounds,
                          const Labels& labels = {});
  /// A gauge computed at scrape time.
  void AddCallback(std::function<void(Registry&)> refresh);
  /// Makes the gauge family `name` hold exactly `series` (series not named
  /// again disappear): for per-entity gauges read at scrape time, whose set
  /// of entities changes.
  void ReplaceGauges(const std::string& name, const std::string& help,
                     const std::vector<std::pair<Labels, double>>& series);

  std::string Render();

 private:
  struct Family {
    std::string help;
    std::string type;
    std::map<std::string, std::unique_ptr<Counter>> counters;  // key: rendered labels
    std::map<std::string, std::unique_ptr<Gauge>> gauges;
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
  };
  Family& GetFamily(const std::string& name, const std::string& help, const char* type);

  std::mutex mu_;
  std::map<std::string, Family> families_;
  std::vector<std::function<void(Registry&)>> callbacks_;
};

/// Latency buckets in seconds, from 0.5 ms to 10 s.
std::vector<double> LatencyBuckets();

}  // namespace sb::metrics
