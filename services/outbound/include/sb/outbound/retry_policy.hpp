#pragma once
/// When to try a failed send again, and when to give up. Pure functions;
/// thread-safe.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "sb/outbound/graph_request.hpp"

namespace sb::outbound {

struct RetryPolicy {
  /// The first retry comes within this (unless Retry-After says later).
  std::chrono::milliseconds first_retry{2000};
  /// Later retries: full jitter over first_retry * 2^(n-1), at most `cap`.
  std::chrono::milliseconds cap{std::chrono::minutes(5)};
  /// Give up once the reply has waited this long, or after this many attempts.
  std::chrono::milliseconds give_up_after{std::chrono::hours(24)};
  int max_attempts = 12;
  /// Never retry sooner than this (no hot loop at a jitter of zero).
  std::chrono::milliseconds min_delay{100};
};

struct RetryDecision {
  enum class Action { kSent, kRetry, kFail };
  Action action = Action::kFail;
  std::chrono::milliseconds delay{0};  // kRetry: from now
  std::string error;                   // kRetry, kFail: what to record on the reply
};

/// Retryable: no HTTP answer (timeout, connection error), 429, 5xx, or an
/// error the provider marks transient. Any other answer that is not an
/// accepted send is permanent. `attempt` is the number of the attempt that
/// produced `result` (1 for the first); `age` how long the reply has been
/// queued; `random01` uniform in [0, 1) for the jitter.
RetryDecision DecideRetry(const SendResult& result, int attempt, std::chrono::milliseconds age, double random01,
                          const RetryPolicy& policy = {});

/// A Retry-After header value as a delay from `now`: delta-seconds or an
/// HTTP date (IMF-fixdate, RFC 850 or asctime form); a date in the past is
/// zero. nullopt when malformed.
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value,
                                                         std::chrono::system_clock::time_point now);

}  // namespace sb::outbound
