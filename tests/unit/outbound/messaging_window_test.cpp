// The messaging window at its boundaries: 24 h for every channel, 7 days
// with HUMAN_AGENT on Messenger and Instagram where the channel has it.
#include "sb/outbound/messaging_window.hpp"

#include <gtest/gtest.h>

namespace sb::outbound {
namespace {

using namespace std::chrono_literals;
using gateway::ChannelKind;
using Time = std::chrono::system_clock::time_point;

const Time kNow = std::chrono::sys_days(std::chrono::year(2026) / 11 / 28) + 15h;

WindowDecision At(ChannelKind kind, std::chrono::milliseconds since_inbound, bool human_agent) {
  return MessagingWindow(kind, kNow - since_inbound, kNow, human_agent);
}

TEST(MessagingWindowTest, WithinTwentyFourHoursEveryChannelMayReplyWithoutTag) {
  for (auto kind : {ChannelKind::kWhatsapp, ChannelKind::kMessenger, ChannelKind::kInstagram}) {
    for (bool human_agent : {false, true}) {
      for (auto since : {0ms, std::chrono::milliseconds(1h), std::chrono::milliseconds(24h) - 1ms}) {
        auto d = At(kind, since, human_agent);
        EXPECT_TRUE(d.allowed) << gateway::ToString(kind) << " " << since.count() << " ms";
        EXPECT_EQ(d.tag, std::nullopt) << "expected no tag inside 24 h";
      }
    }
  }
}

TEST(MessagingWindowTest, WhatsAppClosesAtTwentyFourHours) {
  EXPECT_FALSE(At(ChannelKind::kWhatsapp, 24h, true).allowed) << "expected the window half-open at 24 h";
  EXPECT_FALSE(At(ChannelKind::kWhatsapp, 48h, true).allowed) << "expected no HUMAN_AGENT on WhatsApp";
}

TEST(MessagingWindowTest, MessengerAndInstagramUseHumanAgentUpToSevenDays) {
  for (auto kind : {ChannelKind::kMessenger, ChannelKind::kInstagram}) {
    auto d = At(kind, 24h, true);
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.tag, std::optional<std::string>("HUMAN_AGENT"));
    d = At(kind, std::chrono::milliseconds(24h * 7) - 1ms, true);
    EXPECT_TRUE(d.allowed) << "expected the last millisecond of day 7 allowed";
    EXPECT_EQ(d.tag, std::optional<std::string>("HUMAN_AGENT"));
    d = At(kind, 24h * 7, true);
    EXPECT_FALSE(d.allowed) << "expected the 7-day window half-open";
    EXPECT_EQ(d.tag, std::nullopt);
  }
}

TEST(MessagingWindowTest, WithoutHumanAgentMessengerClosesAtTwentyFourHours) {
  for (auto kind : {ChannelKind::kMessenger, ChannelKind::kInstagram}) {
    auto d = At(kind, 24h, false);
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.tag, std::nullopt);
  }
}

TEST(MessagingWindowTest, NoInboundMessageMeansNoWindow) {
  EXPECT_FALSE(MessagingWindow(ChannelKind::kMessenger, std::nullopt, kNow, true).allowed);
  EXPECT_FALSE(MessagingWindow(ChannelKind::kWhatsapp, std::nullopt, kNow, false).allowed);
}

TEST(MessagingWindowTest, InboundTimeAheadOfNowCountsAsJustNow) {
  auto d = MessagingWindow(ChannelKind::kWhatsapp, kNow + 5min, kNow, false);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.tag, std::nullopt);
}

}  // namespace
}  // namespace sb::outbound
