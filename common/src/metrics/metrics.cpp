#include "sb/common/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace sb::metrics {
namespace {

std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string RenderLabels(const Labels& labels, const std::string& extra = {}) {
  if (labels.empty() && extra.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k + "=\"" + EscapeLabel(v) + "\"";
  }
  if (!extra.empty()) {
    if (!first) out += ',';
    out += extra;
  }
  return out + "}";
}

// HELP text escapes backslash and newline only (exposition format 0.0.4).
std::string EscapeHelp(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  return fmt::format("{}", v);
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  std::sort(bounds_.begin(), bounds_.end());
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i] = 0;
}

void Histogram::Observe(double v) {
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
  buckets_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

void Histogram::Snapshot(std::vector<std::uint64_t>& buckets, double& sum, std::uint64_t& count) const {
  buckets.resize(bounds_.size() + 1);
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets[i] = buckets_[i].load(std::memory_order_relaxed);
  sum = sum_.load(std::memory_order_relaxed);
  count = 0;
  for (auto b : buckets) count += b;  // consistent with the buckets read
}

Registry::Family& Registry::GetFamily(const std::string& name, const std::string& help, const char* type) {
  auto& family = families_[name];
  if (family.type.empty()) {
    family.help = help;
    family.type = type;
  }
  // One name, one type: anything else is a programming error that would
  // render samples under the wrong TYPE line.
  if (family.type != type) {
    std::fprintf(stderr, "metric %s registered as %s and as %s\n", name.c_str(), family.type.c_str(), type);
    std::abort();
  }
  return family;
}

Counter& Registry::GetCounter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& slot = GetFamily(name, help, "counter").counters[RenderLabels(labels)];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Registry::GetGauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& slot = GetFamily(name, help, "gauge").gauges[RenderLabels(labels)];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& Registry::GetHistogram(const std::string& name, const std::string& help, const std::vector<double>& bounds,
                                  const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& slot = GetFamily(name, help, "histogram").histograms[RenderLabels(labels)];
  if (!slot) slot = std::make_unique<Histogram>(bounds);
  return *slot;
}

void Registry::AddCallback(std::function<void(Registry&)> refresh) {
  std::lock_guard lock(mu_);
  callbacks_.push_back(std::move(refresh));
}

void Registry::ReplaceGauges(const std::string& name, const std::string& help,
                             const std::vector<std::pair<Labels, double>>& series) {
  std::lock_guard lock(mu_);
  auto& family = GetFamily(name, help, "gauge");
  family.gauges.clear();
  for (const auto& [labels, value] : series) {
    auto& slot = family.gauges[RenderLabels(labels)];
    slot = std::make_unique<Gauge>();
    slot->Set(value);
  }
}

std::string Registry::Render() {
  std::vector<std::function<void(Registry&)>> callbacks;
  {
    std::lock_guard lock(mu_);
    callbacks = callbacks_;
  }
  for (auto& refresh : callbacks) refresh(*this);

  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    out += "# HELP " + name + " " + EscapeHelp(family.help) + "\n# TYPE " + name + " " + family.type + "\n";
    for (const auto& [labels, c] : family.counters) out += name + labels + " " + Number(c->Value()) + "\n";
    for (const auto& [labels, g] : family.gauges) out += name + labels + " " + Number(g->Value()) + "\n";
    for (const auto& [labels, h] : family.histograms) {
      std::vector<std::uint64_t> buckets;
      double sum = 0;
      std::uint64_t count = 0;
      h->Snapshot(buckets, sum, count);
      // Series labels are rendered "{a="b"}"; splice "le" into them.
      std::string inner = labels.empty() ? "" : labels.substr(1, labels.size() - 2);
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i <= h->bounds().size(); ++i) {
        cumulative += buckets[i];
        std::string le = i < h->bounds().size() ? Number(h->bounds()[i]) : "+Inf";
        std::string l = "{" + inner + (inner.empty() ? "" : ",") + "le=\"" + le + "\"}";
        out += name + "_bucket" + l + " " + std::to_string(cumulative) + "\n";
      }
      out += name + "_sum" + labels + " " + Number(sum) + "\n";
      out += name + "_count" + labels + " " + std::to_string(count) + "\n";
    }
  }
  return out;
}

std::vector<double> LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace sb::metrics
