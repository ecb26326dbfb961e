#include "sb/admin/metrics_api.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

#include "field_bounds.hpp"
#include "path_key.hpp"
#include "sb/admin/audit_api.hpp"
#include "sb/common/http/json_body.hpp"

namespace sb::admin {

namespace {

constexpr auto kDefaultRange = std::chrono::days(7);
constexpr auto kMaxRange = std::chrono::days(400);
constexpr std::int64_t kMaxBuckets = 1000;

// Reads `n` digits at `pos` into `out`; false when they are not all digits.
bool Digits(std::string_view s, std::size_t& pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += n;
  return true;
}

bool Expect(std::string_view s, std::size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

Instant QueryInstant(const http::Request& req, std::string_view name, Instant fallback) {
  auto raw = req.Query(name);
  if (!raw || raw->empty()) return fallback;
  auto parsed = ParseInstant(*raw);
  if (!parsed) {
    throw http::HttpError(400, "invalid_field",
                          "query parameter '" + std::string(name) +
                              "' must be an ISO 8601 time such as 2026-11-28T00:00:00Z (with Z or an offset)");
  }
  return *parsed;
}

}  // namespace

std::optional<Instant> ParseInstant(std::string_view s) {
  using namespace std::chrono;
  std::size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!Digits(s, pos, 4, y) || !Expect(s, pos, '-') || !Digits(s, pos, 2, mo) || !Expect(s, pos, '-') ||
      !Digits(s, pos, 2, d)) {
    return std::nullopt;
  }
  year_month_day date{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (y < 1970 || !date.ok()) return std::nullopt;
  Instant t = time_point_cast<milliseconds>(sys_days{date});
  if (pos == s.size()) return t;
  if (!Expect(s, pos, 'T') && !Expect(s, pos, 't')) return std::nullopt;
  if (!Digits(s, pos, 2, h) || !Expect(s, pos, ':') || !Digits(s, pos, 2, mi)) return std::nullopt;
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    if (!Digits(s, pos, 2, sec)) return std::nullopt;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      std::int64_t ms = 0;
      std::size_t digits = 0;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        if (digits < 3) ms = ms * 10 + (s[pos] - '0');
        ++digits;
        ++pos;
      }
      if (digits == 0 || digits > 9) return std::nullopt;
      for (std::size_t i = digits; i < 3; ++i) ms *= 10;
      t += milliseconds(ms);
    }
  }
  if (h > 23 || mi > 59 || sec > 59) return std::nullopt;
  t += hours(h) + minutes(mi) + seconds(sec);
  if (pos == s.size()) return std::nullopt;  // a zone is required: local times are ambiguous
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int sign = s[pos] == '+' ? 1 : -1;
    ++pos;
    int oh = 0, om = 0;
    if (!Digits(s, pos, 2, oh)) return std::nullopt;
    if (pos < s.size() && s[pos] == ':') ++pos;
    if (!Digits(s, pos, 2, om) || oh > 23 || om > 59) return std::nullopt;
    t -= sign * (hours(oh) + minutes(om));
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  if (t < sys_days{year{1970} / 1 / 1} || t >= sys_days{year{10000} / 1 / 1}) return std::nullopt;
  return t;
}

std::string FormatInstant(Instant t) {
  using namespace std::chrono;
  auto day_start = floor<days>(t);
  year_month_day date{day_start};
  hh_mm_ss<milliseconds> time{t - day_start};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()), static_cast<int>(time.subseconds().count()));
  return buf;
}

boost::asio::awaitable<http::Response> MetricsApi::PutAd(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  auto ad_id = PathKey(req, "ad_id");
  http::JsonBody body(req, {"name", "campaign", "spend_cents", "currency"});
  nlohmann::json p = {{"business_id", who.business_id},
                      {"ad_id", ad_id},
                      {"name", Nullable(body.OptionalString("name", 300))},
                      {"campaign", Nullable(body.OptionalString("campaign", 300))},
                      {"spend_cents", body.RequiredInt("spend_cents", 0, kMaxMoney)},
                      {"currency", body.RequiredCurrency("currency")}};
  nlohmann::json summary = p;
  summary.erase("business_id");
  auto audit = AuditEntryFor(who, req, "put", "ad", summary);
  audit.resource_id = ad_id;
  http::Response res;
  res.body = co_await metrics_.PutAd(p.dump(), audit);
  co_return res;
}

boost::asio::awaitable<http::Response> MetricsApi::Summary(http::Request& req) {
  Principal who = co_await auth_.RequireBusiness(req);
  auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  Instant to = QueryInstant(req, "to", now);
  Instant from = QueryInstant(req, "from", to - kDefaultRange);
  if (from >= to) throw http::HttpError(400, "invalid_field", "query parameter 'from' must be before 'to'");
  if (to - from > kMaxRange) {
    throw http::HttpError(400, "invalid_field", "the range from 'from' to 'to' must be at most 400 days");
  }
  store::SummaryQuery q;
  q.business_id = who.business_id;
  q.from = FormatInstant(from);
  q.to = FormatInstant(to);
  if (auto bucket = req.Query("bucket"); bucket && !bucket->empty()) {
    std::chrono::milliseconds width{0};
    if (*bucket == "hour") {
      width = std::chrono::hours(1);
    } else if (*bucket == "day") {
      width = std::chrono::days(1);
    } else {
      throw http::HttpError(400, "invalid_field", "query parameter 'bucket' must be one of: hour, day");
    }
    if ((to - from + width - std::chrono::milliseconds(1)) / width > kMaxBuckets) {
      throw http::HttpError(400, "invalid_field",
                            "query parameter 'bucket': at most 1000 buckets; use a shorter range or bucket=day");
    }
    q.bucket = std::string(*bucket);
  }
  http::Response res;
  res.body = co_await metrics_.Summary(q);
  co_return res;
}

}  // namespace sb::admin
