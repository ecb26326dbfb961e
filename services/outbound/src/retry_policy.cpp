#include "sb/outbound/retry_policy.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

namespace sb::outbound {

namespace {

using std::chrono::milliseconds;

bool Retryable(const SendResult& r) {
  return r.http_status == 0 || r.http_status == 429 || r.http_status >= 500 || r.transient;
}

std::string Describe(milliseconds d) {
  using namespace std::chrono;
  if (d % hours(1) == milliseconds(0)) return std::to_string(duration_cast<hours>(d).count()) + " h";
  if (d % seconds(1) == milliseconds(0)) return std::to_string(duration_cast<seconds>(d).count()) + " s";
  return std::to_string(d.count()) + " ms";
}

// Full jitter: uniform over [0, ceiling), ceiling = first_retry * 2^(attempt-1)
// capped (the first retry's ceiling is first_retry itself).
milliseconds Backoff(int attempt, double random01, const RetryPolicy& p) {
  double ceiling = static_cast<double>(p.first_retry.count()) * std::ldexp(1.0, std::clamp(attempt - 1, 0, 40));
  ceiling = std::min(ceiling, static_cast<double>(p.cap.count()));
  auto delay = milliseconds(static_cast<std::int64_t>(std::clamp(random01, 0.0, 1.0) * ceiling));
  return std::max(delay, p.min_delay);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> Split(std::string_view s, std::string_view separators) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && separators.find(s[i]) != std::string_view::npos) ++i;
    std::size_t start = i;
    while (i < s.size() && separators.find(s[i]) == std::string_view::npos) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::optional<int> Number(std::string_view s, std::size_t min_digits, std::size_t max_digits) {
  if (s.size() < min_digits || s.size() > max_digits) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::optional<unsigned> Month(std::string_view s) {
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (unsigned i = 0; i < kMonths.size(); ++i) {
    if (s == kMonths[i]) return i + 1;
  }
  return std::nullopt;
}

bool IsDayName(std::string_view s, bool long_form) {
  static constexpr std::array<std::string_view, 7> kShort = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr std::array<std::string_view, 7> kLong = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                            "Friday", "Saturday", "Sunday"};
  for (auto d : long_form ? kLong : kShort) {
    if (s == d) return true;
  }
  return false;
}

std::optional<std::chrono::system_clock::time_point> ToTime(int year, std::optional<unsigned> month,
                                                            std::optional<int> day, std::string_view clock) {
  auto hms = Split(clock, ":");
  if (!month || !day || hms.size() != 3) return std::nullopt;
  auto h = Number(hms[0], 2, 2), m = Number(hms[1], 2, 2), s = Number(hms[2], 2, 2);
  if (!h || !m || !s || *h > 23 || *m > 59 || *s > 60) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(*month),
                                  std::chrono::day(static_cast<unsigned>(*day))};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days(ymd) + std::chrono::hours(*h) + std::chrono::minutes(*m) + std::chrono::seconds(*s);
}

// RFC 9110 section 5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms.
std::optional<std::chrono::system_clock::time_point> ParseHttpDate(std::string_view v) {
  auto comma = v.find(',');
  if (comma != std::string_view::npos) {
    auto day_name = v.substr(0, comma);
    auto rest = Split(v.substr(comma + 1), " ");
    if (rest.size() == 5 && IsDayName(day_name, false) && rest[4] == "GMT") {  // Sun, 06 Nov 1994 08:49:37 GMT
      auto year = Number(rest[2], 4, 4);
      if (!year) return std::nullopt;
      return ToTime(*year, Month(rest[1]), Number(rest[0], 2, 2), rest[3]);
    }
    if (rest.size() == 3 && IsDayName(day_name, true) && rest[2] == "GMT") {  // Sunday, 06-Nov-94 08:49:37 GMT
      auto date = Split(rest[0], "-");
      if (date.size() != 3) return std::nullopt;
      auto yy = Number(date[2], 2, 2);
      if (!yy) return std::nullopt;
      return ToTime(*yy < 70 ? 2000 + *yy : 1900 + *yy, Month(date[1]), Number(date[0], 2, 2), rest[1]);
    }
    return std::nullopt;
  }
  auto parts = Split(v, " ");  // Sun Nov  6 08:49:37 1994
  if (parts.size() != 5 || !IsDayName(parts[0], false)) return std::nullopt;
  auto year = Number(parts[4], 4, 4);
  if (!year) return std::nullopt;
  return ToTime(*year, Month(parts[1]), Number(parts[2], 1, 2), parts[3]);
}

}  // namespace

RetryDecision DecideRetry(const SendResult& result, int attempt, milliseconds age, double random01,
                          const RetryPolicy& policy) {
  RetryDecision d;
  if (result.Accepted()) {
    d.action = RetryDecision::Action::kSent;
    return d;
  }
  d.error = result.error.empty() ? "HTTP " + std::to_string(result.http_status) : result.error;
  if (result.http_status >= 200 && result.http_status < 300) return d;  // accepted without an id: not resendable
  if (!Retryable(result)) return d;
  if (attempt >= policy.max_attempts) {
    d.error = "gave up after " + std::to_string(attempt) + " attempts: " + d.error;
    return d;
  }
  d.delay = Backoff(attempt, random01, policy);
  if (result.retry_after) d.delay = std::max(d.delay, *result.retry_after);
  if (age + d.delay >= policy.give_up_after) {
    d.error = "gave up after " + Describe(policy.give_up_after) + ": " + d.error;
    return d;
  }
  d.action = RetryDecision::Action::kRetry;
  return d;
}

std::optional<milliseconds> ParseRetryAfter(std::string_view value, std::chrono::system_clock::time_point now) {
  value = Trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    // Anything past ~30 years is "never" for a chat reply; clamp, don't overflow.
    std::int64_t seconds = 0;
    for (char c : value) {
      seconds = std::min<std::int64_t>(seconds * 10 + (c - '0'), 1'000'000'000);
    }
    return std::chrono::seconds(seconds);
  }
  auto at = ParseHttpDate(value);
  if (!at) return std::nullopt;
  if (*at <= now) return milliseconds(0);
  return std::chrono::ceil<milliseconds>(*at - now);
}

}  // namespace sb::outbound
