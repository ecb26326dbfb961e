#pragma once
/// Parses the API's timestamps (ISO 8601 UTC, `2026-11-28T15:04:05.123Z`).
#include <chrono>
#include <optional>
#include <string_view>

namespace sb::agents {

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`; nullopt for anything else. Fraction
/// digits past microseconds are ignored.
std::optional<std::chrono::system_clock::time_point> ParseUtcTimestamp(std::string_view text);

}  // namespace sb::agents
