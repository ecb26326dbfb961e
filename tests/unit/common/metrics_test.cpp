// The Prometheus registry: text exposition syntax, families, histograms.
#include "sb/common/metrics.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace sb::metrics {
namespace {

// ------------------------------------------------ exposition-format check ----

struct Sample {
  std::string name;
  std::string labels;  // inside the braces, as rendered
  std::string value;
};

const std::regex& SampleLine() {
  // name{label="value",...} value   (timestamps are never rendered)
  static const std::regex re(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*))"
      R"((?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*)?\})?)"
      R"( ([-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?Inf|NaN)$)");
  return re;
}

const std::regex& HelpLine() {
  static const std::regex re(R"(^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) ((?:[^\\\n]|\\[\\n])*)$)");
  return re;
}

const std::regex& TypeLine() {
  static const std::regex re(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$)");
  return re;
}

/// The family a sample belongs to, given the declared types.
std::string FamilyOf(const std::string& sample, const std::map<std::string, std::string>& types) {
  if (types.count(sample)) return sample;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    std::string s(suffix);
    if (sample.size() > s.size() && sample.compare(sample.size() - s.size(), s.size(), s) == 0) {
      auto base = sample.substr(0, sample.size() - s.size());
      auto it = types.find(base);
      if (it != types.end() && it->second == "histogram") return base;
    }
  }
  return {};
}

/// Checks `text` line by line against the text exposition format and returns
/// the samples. Reports every violation as a test failure.
std::vector<Sample> CheckExposition(const std::string& text) {
  std::vector<Sample> samples;
  if (text.empty()) return samples;
  EXPECT_EQ(text.back(), '\n') << "exposition must end with a newline";
  std::map<std::string, std::string> types;
  std::set<std::string> helped;
  std::set<std::string> finished;  // families whose sample block has ended
  std::string current;             // family whose block we are in
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::smatch m;
    if (line.rfind("# HELP ", 0) == 0) {
      if (!std::regex_match(line, m, HelpLine())) {
        ADD_FAILURE() << "line " << n << ": malformed HELP: " << line;
        continue;
      }
      std::string name = m[1];
      EXPECT_TRUE(helped.insert(name).second) << "line " << n << ": second HELP for " << name;
      EXPECT_FALSE(finished.count(name)) << "line " << n << ": HELP for " << name << " after its samples";
      if (!current.empty() && current != name) finished.insert(current);
      current = name;
    } else if (line.rfind("# TYPE ", 0) == 0) {
      if (!std::regex_match(line, m, TypeLine())) {
        ADD_FAILURE() << "line " << n << ": malformed TYPE: " << line;
        continue;
      }
      std::string name = m[1];
      EXPECT_TRUE(types.emplace(name, m[2]).second) << "line " << n << ": second TYPE for " << name;
      EXPECT_EQ(current, name) << "line " << n << ": TYPE for " << name << " must follow its HELP";
    } else if (!line.empty() && line[0] == '#') {
      ADD_FAILURE() << "line " << n << ": unexpected comment: " << line;
    } else {
      if (!std::regex_match(line, m, SampleLine())) {
        ADD_FAILURE() << "line " << n << ": not `name{labels} value`: " << line;
        continue;
      }
      Sample s{m[1], m[2], m[3]};
      std::string family = FamilyOf(s.name, types);
      EXPECT_FALSE(family.empty()) << "line " << n << ": sample " << s.name << " before its TYPE line";
      EXPECT_EQ(family, current) << "line " << n << ": sample " << s.name << " outside its family's block";
      EXPECT_TRUE(helped.count(family)) << "line " << n << ": sample " << s.name << " without HELP";
      samples.push_back(std::move(s));
    }
  }
  return samples;
}

const Sample* FindSample(const std::vector<Sample>& samples, const std::string& name, const std::string& labels) {
  for (const auto& s : samples) {
    if (s.name == name && s.labels == labels) return &s;
  }
  return nullptr;
}

std::string ValueOf(const std::vector<Sample>& samples, const std::string& name, const std::string& labels = {}) {
  const Sample* s = FindSample(samples, name, labels);
  EXPECT_NE(s, nullptr) << "expected a sample " << name << "{" << labels << "}";
  return s ? s->value : "<missing>";
}

// The checker itself must refuse what it should refuse.
TEST(ExpositionChecker, RejectsMalformedLines) {
  for (const char* bad : {"a b", "a{x=\"1\"}", "a{x=1} 2", "a{x=\"\n\"} 1", "1a 2", "a{x=\"1\",} 2", "a 1 2 3"}) {
    EXPECT_FALSE(std::regex_match(std::string(bad), SampleLine())) << "checker accepted: " << bad;
  }
  for (const char* good : {"a 1", "a_b:c{x=\"1\"} 2.5", "a{x=\"q\\\"\\\\\\n\",y=\"\"} +Inf", "a NaN", "a 1e-05"}) {
    EXPECT_TRUE(std::regex_match(std::string(good), SampleLine())) << "checker refused: " << good;
  }
}

// --------------------------------------------------------------- tests ----

TEST(Registry, EmptyRegistryRendersNothing) {
  Registry registry;
  EXPECT_EQ(registry.Render(), "");
}

TEST(Registry, CountersAndGaugesRenderAsValidExposition) {
  Registry registry;
  registry.GetCounter("sb_requests_total", "HTTP requests.", {{"route", "/healthz"}, {"status", "200"}}).Inc();
  registry.GetCounter("sb_requests_total", "HTTP requests.", {{"route", "/healthz"}, {"status", "200"}}).Inc(2);
  registry.GetCounter("sb_requests_total", "HTTP requests.", {{"route", "/v1"}, {"status", "404"}}).Inc();
  registry.GetGauge("sb_connections", "Open connections.").Set(3);
  registry.GetGauge("sb_temperature", "A negative fraction.").Set(-0.25);
  registry.GetCounter("sb_plain_total", "No labels.");

  auto text = registry.Render();
  auto samples = CheckExposition(text);
  EXPECT_EQ(samples.size(), 5u) << text;
  EXPECT_EQ(ValueOf(samples, "sb_requests_total", R"(route="/healthz",status="200")"), "3") << text;
  EXPECT_EQ(ValueOf(samples, "sb_requests_total", R"(route="/v1",status="404")"), "1") << text;
  EXPECT_EQ(ValueOf(samples, "sb_connections"), "3") << text;
  EXPECT_EQ(ValueOf(samples, "sb_temperature"), "-0.25") << text;
  EXPECT_EQ(ValueOf(samples, "sb_plain_total"), "0") << "a series exists from its first Get";
  EXPECT_NE(text.find("# TYPE sb_requests_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE sb_connections gauge\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# HELP sb_requests_total HTTP requests.\n"), std::string::npos) << text;
}

TEST(Registry, GetReturnsTheSameSeriesForTheSameLabels) {
  Registry registry;
  auto& a = registry.GetCounter("c_total", "h", {{"k", "v"}});
  auto& b = registry.GetCounter("c_total", "h", {{"k", "v"}});
  auto& other = registry.GetCounter("c_total", "h", {{"k", "w"}});
  EXPECT_EQ(&a, &b) << "same name and labels must return the same counter";
  EXPECT_NE(&a, &other);
  auto& g1 = registry.GetGauge("g", "h");
  g1.Add(2);
  g1.Add(-0.5);
  EXPECT_EQ(&g1, &registry.GetGauge("g", "h"));
  EXPECT_DOUBLE_EQ(g1.Value(), 1.5);
}

TEST(Registry, HelpAndTypeAppearOncePerFamilyBeforeItsSamples) {
  Registry registry;
  for (int i = 0; i < 5; ++i) {
    registry.GetCounter("many_total", "Many series.", {{"i", std::to_string(i)}}).Inc(i);
    registry.GetGauge("other", "Another family.", {{"i", std::to_string(i)}}).Set(i);
  }
  auto text = registry.Render();
  CheckExposition(text);  // once per family, before samples, blocks contiguous
  auto count = [&](const std::string& needle) {
    std::size_t n = 0;
    for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("# HELP many_total "), 1u) << text;
  EXPECT_EQ(count("# TYPE many_total "), 1u) << text;
  EXPECT_EQ(count("# HELP other "), 1u) << text;
  EXPECT_EQ(count("\nmany_total{"), 5u) << text;
}

TEST(Registry, LabelValuesAreEscaped) {
  Registry registry;
  registry.GetCounter("escaped_total", "Escaping.", {{"q", "say \"hi\""}, {"b", "C:\\dir"}, {"n", "two\nlines"}}).Inc();
  auto text = registry.Render();
  auto samples = CheckExposition(text);
  ASSERT_EQ(samples.size(), 1u) << text;
  EXPECT_EQ(samples[0].labels, R"(q="say \"hi\"",b="C:\\dir",n="two\nlines")") << text;
}

TEST(Registry, HistogramBucketsAreCumulativeAndEndWithInfEqualToCount) {
  Registry registry;
  auto& h = registry.GetHistogram("latency_seconds", "Latency.", {0.1, 0.5, 1}, {{"route", "/x"}});
  for (double v : {0.05, 0.1, 0.2, 0.5, 0.7, 3.0, 10.0}) h.Observe(v);
  auto text = registry.Render();
  auto samples = CheckExposition(text);

  // Upper bounds are inclusive: 0.1 falls in le="0.1", 0.5 in le="0.5".
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"0.1", "2"}, {"0.5", "4"}, {"1", "5"}, {"+Inf", "7"}};
  std::vector<std::pair<std::string, std::string>> buckets;
  std::regex le_re(R"re(^route="/x",le="([^"]*)"$)re");
  for (const auto& s : samples) {
    if (s.name != "latency_seconds_bucket") continue;
    std::smatch m;
    ASSERT_TRUE(std::regex_match(s.labels, m, le_re))
        << "bucket labels must be the series labels then le: " << s.labels;
    buckets.emplace_back(m[1], s.value);
  }
  EXPECT_EQ(buckets, expected) << "buckets must be cumulative, in order, ending with +Inf\n" << text;
  for (std::size_t i = 1; i < buckets.size(); ++i) {
    EXPECT_LE(std::stoull(buckets[i - 1].second), std::stoull(buckets[i].second)) << "bucket " << i << " decreased";
  }
  ASSERT_FALSE(buckets.empty());
  EXPECT_EQ(buckets.back().first, "+Inf");
  EXPECT_EQ(buckets.back().second, ValueOf(samples, "latency_seconds_count", R"(route="/x")"))
      << "le=\"+Inf\" must equal _count";
  EXPECT_DOUBLE_EQ(std::stod(ValueOf(samples, "latency_seconds_sum", R"(route="/x")")), 14.55);
}

TEST(Registry, HistogramWithoutLabelsHasOnlyLe) {
  Registry registry;
  registry.GetHistogram("h_seconds", "H.", LatencyBuckets()).Observe(0.003);
  auto text = registry.Render();
  auto samples = CheckExposition(text);
  EXPECT_EQ(ValueOf(samples, "h_seconds_bucket", R"(le="0.0025")"), "0") << text;
  EXPECT_EQ(ValueOf(samples, "h_seconds_bucket", R"(le="0.005")"), "1") << text;
  EXPECT_EQ(ValueOf(samples, "h_seconds_bucket", R"(le="+Inf")"), "1") << text;
  EXPECT_EQ(ValueOf(samples, "h_seconds_count"), "1") << text;
  EXPECT_EQ(ValueOf(samples, "h_seconds_sum"), "0.003") << text;
  std::size_t buckets = 0;
  for (const auto& s : samples) buckets += s.name == "h_seconds_bucket" ? 1 : 0;
  EXPECT_EQ(buckets, LatencyBuckets().size() + 1) << "one bucket per bound plus +Inf";
}

TEST(Registry, EmptyHistogramRendersZeros) {
  Registry registry;
  registry.GetHistogram("empty_seconds", "Nothing yet.", {1, 2});
  auto samples = CheckExposition(registry.Render());
  EXPECT_EQ(ValueOf(samples, "empty_seconds_bucket", R"(le="+Inf")"), "0");
  EXPECT_EQ(ValueOf(samples, "empty_seconds_count"), "0");
  EXPECT_EQ(ValueOf(samples, "empty_seconds_sum"), "0");
}

TEST(Histogram, UnsortedBoundsAreSorted) {
  Histogram h({5, 1, 2});
  EXPECT_EQ(h.bounds(), (std::vector<double>{1, 2, 5}));
  h.Observe(1.5);
  std::vector<std::uint64_t> buckets;
  double sum = 0;
  std::uint64_t count = 0;
  h.Snapshot(buckets, sum, count);
  EXPECT_EQ(buckets, (std::vector<std::uint64_t>{0, 1, 0, 0})) << "1.5 belongs in (1, 2]";
  EXPECT_EQ(count, 1u);
  EXPECT_DOUBLE_EQ(sum, 1.5);
}

TEST(Registry, CallbacksRunAtEveryRender) {
  Registry registry;
  int calls = 0;
  registry.AddCallback([&calls](Registry& r) {
    ++calls;
    r.GetGauge("sb_queue_depth", "Computed at scrape.").Set(calls * 10);
  });
  EXPECT_EQ(calls, 0) << "AddCallback must not run the callback";
  auto first = CheckExposition(registry.Render());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(ValueOf(first, "sb_queue_depth"), "10") << "the callback's value must be in the same render";
  auto second = CheckExposition(registry.Render());
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(ValueOf(second, "sb_queue_depth"), "20");
}

TEST(Registry, SpecialValuesRender) {
  Registry registry;
  registry.GetGauge("g_inf", "h").Set(std::numeric_limits<double>::infinity());
  registry.GetGauge("g_ninf", "h").Set(-std::numeric_limits<double>::infinity());
  registry.GetGauge("g_nan", "h").Set(std::numeric_limits<double>::quiet_NaN());
  registry.GetGauge("g_big", "h").Set(1e20);
  registry.GetGauge("g_small", "h").Set(1e-9);
  auto samples = CheckExposition(registry.Render());
  EXPECT_EQ(ValueOf(samples, "g_inf"), "+Inf");
  EXPECT_EQ(ValueOf(samples, "g_ninf"), "-Inf");
  EXPECT_EQ(ValueOf(samples, "g_nan"), "NaN");
  EXPECT_DOUBLE_EQ(std::stod(ValueOf(samples, "g_big")), 1e20);
  EXPECT_DOUBLE_EQ(std::stod(ValueOf(samples, "g_small")), 1e-9);
}

// The exposition format requires "\\" and "\n" in HELP to be escaped; a
// help string with a newline would otherwise split the HELP line.
TEST(Registry, HelpTextIsEscaped) {
  Registry registry;
  registry.GetCounter("x_total", "first line\nsecond line with \\ backslash").Inc();
  auto text = registry.Render();
  CheckExposition(text);
  EXPECT_NE(text.find("# HELP x_total first line\\nsecond line with \\\\ backslash\n"), std::string::npos) << text;
}

TEST(Registry, ReplaceGaugesKeepsExactlyTheSeriesGiven) {
  Registry registry;
  registry.ReplaceGauges("sb_queue_depth", "Waiting.", {{{{"queue", "1"}}, 4}, {{{"queue", "2"}}, 7}});
  auto first = CheckExposition(registry.Render());
  EXPECT_EQ(ValueOf(first, "sb_queue_depth", R"(queue="1")"), "4");
  EXPECT_EQ(ValueOf(first, "sb_queue_depth", R"(queue="2")"), "7");

  registry.ReplaceGauges("sb_queue_depth", "Waiting.", {{{{"queue", "2"}}, 1}});
  auto text = registry.Render();
  auto second = CheckExposition(text);
  EXPECT_EQ(FindSample(second, "sb_queue_depth", R"(queue="1")"), nullptr) << "a queue not named again must go\n"
                                                                           << text;
  EXPECT_EQ(ValueOf(second, "sb_queue_depth", R"(queue="2")"), "1");

  registry.ReplaceGauges("sb_queue_depth", "Waiting.", {});
  text = registry.Render();
  EXPECT_TRUE(CheckExposition(text).empty()) << text;
  EXPECT_NE(text.find("# TYPE sb_queue_depth gauge\n"), std::string::npos) << "the family stays declared: " << text;
}

}  // namespace
}  // namespace sb::metrics
