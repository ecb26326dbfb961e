// The retry policy: what is retried, how long it waits, when it gives up;
// and Retry-After in both its forms.
#include "sb/outbound/retry_policy.hpp"

#include <gtest/gtest.h>

namespace sb::outbound {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using Action = RetryDecision::Action;

SendResult Answer(int status, std::string error = "", std::optional<milliseconds> retry_after = std::nullopt) {
  SendResult r;
  r.http_status = status;
  r.error = std::move(error);
  r.retry_after = retry_after;
  return r;
}

SendResult Accepted(std::string id) {
  SendResult r = Answer(200);
  r.provider_message_id = std::move(id);
  return r;
}

TEST(RetryPolicyTest, AcceptedSendIsSent) {
  auto d = DecideRetry(Accepted("wamid.1"), 1, 0ms, 0.5);
  EXPECT_EQ(d.action, Action::kSent);
  EXPECT_TRUE(d.error.empty());
}

TEST(RetryPolicyTest, RetryableAnswers) {
  for (int status : {0, 429, 500, 502, 503, 504}) {
    auto d = DecideRetry(Answer(status, "boom"), 1, 0ms, 0.5);
    EXPECT_EQ(d.action, Action::kRetry) << "expected HTTP " << status << " to be retried";
    EXPECT_EQ(d.error, "boom");
  }
}

TEST(RetryPolicyTest, OtherClientErrorsArePermanent) {
  for (int status : {400, 401, 403, 404, 409, 413, 422}) {
    auto d = DecideRetry(Answer(status, "(#100) Invalid parameter"), 1, 0ms, 0.5);
    EXPECT_EQ(d.action, Action::kFail) << "expected HTTP " << status << " to fail at once";
    EXPECT_EQ(d.error, "(#100) Invalid parameter") << "expected the provider's error kept verbatim";
  }
}

TEST(RetryPolicyTest, ProviderMarkedTransientErrorIsRetriedWhateverTheStatus) {
  SendResult r = Answer(400, "(#613) Calls to this api have exceeded the rate limit");
  r.transient = true;
  EXPECT_EQ(DecideRetry(r, 1, 0ms, 0.5).action, Action::kRetry);
}

TEST(RetryPolicyTest, SuccessWithoutMessageIdFailsRatherThanSendingTwice) {
  auto d = DecideRetry(Answer(200, "the send API answered without a message id"), 1, 0ms, 0.5);
  EXPECT_EQ(d.action, Action::kFail);
  EXPECT_EQ(d.error, "the send API answered without a message id");
}

TEST(RetryPolicyTest, FirstRetryComesWithinTwoSeconds) {
  for (double r : {0.0, 0.25, 0.5, 0.999}) {
    auto d = DecideRetry(Answer(503), 1, 0ms, r);
    ASSERT_EQ(d.action, Action::kRetry);
    EXPECT_LE(d.delay, 2000ms) << "random " << r;
    EXPECT_GE(d.delay, 100ms) << "expected the minimum delay, not a hot loop, at random " << r;
  }
  EXPECT_EQ(DecideRetry(Answer(503), 1, 0ms, 0.5).delay, 1000ms) << "expected full jitter over 2 s";
}

TEST(RetryPolicyTest, FirstRetryWaitsForRetryAfter) {
  auto d = DecideRetry(Answer(429, "slow down", 7s), 1, 0ms, 0.5);
  ASSERT_EQ(d.action, Action::kRetry);
  EXPECT_EQ(d.delay, 7000ms) << "expected the provider's Retry-After, not the 2 s default";
  EXPECT_EQ(DecideRetry(Answer(429, "", 0ms), 1, 0ms, 0.5).delay, 1000ms)
      << "expected a Retry-After of 0 to leave the jittered delay";
}

TEST(RetryPolicyTest, BackoffGrowsExponentiallyWithFullJitter) {
  // Ceiling first_retry * 2^(n-1): 2 s, 4 s, 8 s, 16 s, ... capped at 5 min.
  EXPECT_EQ(DecideRetry(Answer(500), 2, 0ms, 0.999999).delay.count() / 100, 39);
  EXPECT_EQ(DecideRetry(Answer(500), 3, 0ms, 0.5).delay, 4000ms);
  EXPECT_EQ(DecideRetry(Answer(500), 4, 0ms, 0.5).delay, 8000ms);
  EXPECT_EQ(DecideRetry(Answer(500), 9, 0ms, 0.5).delay, 150000ms) << "expected the 300 s cap halved";
  EXPECT_EQ(DecideRetry(Answer(500), 11, 0ms, 0.99).delay, 297000ms);
  EXPECT_EQ(DecideRetry(Answer(500), 11, 0ms, 0.0).delay, 100ms) << "expected the minimum at zero jitter";
}

TEST(RetryPolicyTest, LaterRetriesStillHonourRetryAfter) {
  EXPECT_EQ(DecideRetry(Answer(429, "", 60s), 3, 0ms, 0.1).delay, 60000ms);
}

TEST(RetryPolicyTest, GivesUpAfterTwelveAttempts) {
  auto d = DecideRetry(Answer(500, "HTTP 500"), 11, 0ms, 0.5);
  EXPECT_EQ(d.action, Action::kRetry) << "expected the 11th failure to get a 12th attempt";
  d = DecideRetry(Answer(500, "HTTP 500"), 12, 0ms, 0.5);
  EXPECT_EQ(d.action, Action::kFail);
  EXPECT_EQ(d.error, "gave up after 12 attempts: HTTP 500");
}

TEST(RetryPolicyTest, GivesUpWhenTheRetryWouldPassTwentyFourHours) {
  auto d = DecideRetry(Answer(503, "HTTP 503"), 2, 24h - 10s, 0.9);  // delay 3.6 s: still inside
  EXPECT_EQ(d.action, Action::kRetry);
  d = DecideRetry(Answer(503, "HTTP 503"), 2, 24h - 1s, 0.9);
  EXPECT_EQ(d.action, Action::kFail);
  EXPECT_EQ(d.error, "gave up after 24 h: HTTP 503");
  d = DecideRetry(Answer(429, "HTTP 429", 2h), 1, 23h, 0.5);
  EXPECT_EQ(d.action, Action::kFail) << "expected a Retry-After beyond the 24 h to give up now";
}

TEST(RetryPolicyTest, PolicyIsConfigurable) {
  RetryPolicy p;
  p.first_retry = 50ms;
  p.min_delay = 10ms;
  p.max_attempts = 3;
  EXPECT_EQ(DecideRetry(Answer(500), 1, 0ms, 0.5, p).delay, 25ms);
  EXPECT_EQ(DecideRetry(Answer(500), 2, 0ms, 0.5, p).delay, 50ms);
  EXPECT_EQ(DecideRetry(Answer(500), 3, 0ms, 0.5, p).action, Action::kFail);
}

TEST(RetryPolicyTest, MissingErrorTextNamesTheStatus) {
  EXPECT_EQ(DecideRetry(Answer(403), 1, 0ms, 0.5).error, "HTTP 403");
}

// Retry-After

const auto kNow = std::chrono::sys_days(std::chrono::year(2026) / 11 / 28) + 12h;  // Sat, 28 Nov 2026 12:00:00 GMT

TEST(RetryAfterTest, DeltaSeconds) {
  EXPECT_EQ(ParseRetryAfter("1", kNow), 1000ms);
  EXPECT_EQ(ParseRetryAfter("0", kNow), 0ms);
  EXPECT_EQ(ParseRetryAfter(" 120 ", kNow), 120000ms) << "expected surrounding whitespace ignored";
  EXPECT_EQ(ParseRetryAfter("99999999999999999999999", kNow), std::chrono::seconds(1'000'000'000))
      << "expected a huge value clamped, not overflowed";
}

TEST(RetryAfterTest, ImfFixdate) {
  EXPECT_EQ(ParseRetryAfter("Sat, 28 Nov 2026 12:00:30 GMT", kNow), 30000ms);
  EXPECT_EQ(ParseRetryAfter("Sun, 29 Nov 2026 12:00:00 GMT", kNow), milliseconds(24h));
  EXPECT_EQ(ParseRetryAfter("Sat, 28 Nov 2026 11:00:00 GMT", kNow), 0ms) << "expected a past date to mean now";
}

TEST(RetryAfterTest, ObsoleteDateForms) {
  EXPECT_EQ(ParseRetryAfter("Saturday, 28-Nov-26 12:01:00 GMT", kNow), 60000ms);
  EXPECT_EQ(ParseRetryAfter("Sat Nov 28 12:00:05 2026", kNow), 5000ms);
  EXPECT_EQ(ParseRetryAfter("Sat Dec  5 12:00:00 2026", kNow), milliseconds(24h * 7)) << "space-padded day";
}

TEST(RetryAfterTest, MalformedValues) {
  for (const char* bad :
       {"", "   ", "-1", "1.5", "soon", "Sat, 31 Nov 2026 12:00:00 GMT", "Sat, 28 Nov 2026 25:00:00 GMT",
        "Sat, 28 Foo 2026 12:00:00 GMT", "Sat, 28 Nov 2026 12:00:00 PST", "Xyz, 28 Nov 2026 12:00:00 GMT",
        "Sat, 28 Nov 2026 12:00 GMT", "Sat,28"}) {
    EXPECT_EQ(ParseRetryAfter(bad, kNow), std::nullopt) << "expected '" << bad << "' rejected";
  }
}

}  // namespace
}  // namespace sb::outbound
