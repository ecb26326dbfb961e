#include "utc_timestamp.hpp"

namespace sb::agents {
namespace {

// Reads exactly `digits` decimal digits at `pos`.
std::optional<int> Digits(std::string_view text, std::size_t pos, std::size_t digits) {
  if (pos + digits > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = pos; i < pos + digits; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

bool At(std::string_view text, std::size_t pos, char c) { return pos < text.size() && text[pos] == c; }

}  // namespace

std::optional<std::chrono::system_clock::time_point> ParseUtcTimestamp(std::string_view text) {
  using namespace std::chrono;
  const auto year = Digits(text, 0, 4);
  const auto month = Digits(text, 5, 2);
  const auto day = Digits(text, 8, 2);
  const auto hour = Digits(text, 11, 2);
  const auto minute = Digits(text, 14, 2);
  const auto second = Digits(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second || !At(text, 4, '-') || !At(text, 7, '-') ||
      !At(text, 10, 'T') || !At(text, 13, ':') || !At(text, 16, ':')) {
    return std::nullopt;
  }
  const year_month_day date{std::chrono::year{*year}, std::chrono::month{static_cast<unsigned>(*month)},
                            std::chrono::day{static_cast<unsigned>(*day)}};
  if (!date.ok() || *hour > 23 || *minute > 59 || *second > 60) return std::nullopt;

  std::size_t pos = 19;
  microseconds fraction{0};
  if (At(text, pos, '.')) {
    ++pos;
    std::int64_t scale = 100000;
    const std::size_t first = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (scale > 0) {
        fraction += microseconds{(text[pos] - '0') * scale};
        scale /= 10;
      }
      ++pos;
    }
    if (pos == first) return std::nullopt;
  }
  if (pos + 1 != text.size() || text[pos] != 'Z') return std::nullopt;
  return sys_days{date} + hours{*hour} + minutes{*minute} + seconds{*second} + fraction;
}

}  // namespace sb::agents
