#pragma once
/// Whether a business may still message a customer, measured from the
/// provider time of the customer's last inbound message (DESIGN.md
/// "Routing"). Pure; thread-safe.
#include <chrono>
#include <optional>
#include <string>

#include "sb/gateway/envelope.hpp"

namespace sb::outbound {

inline constexpr std::chrono::hours kStandardWindow{24};
inline constexpr std::chrono::hours kHumanAgentWindow{24 * 7};
inline constexpr const char* kHumanAgentTag = "HUMAN_AGENT";

struct WindowDecision {
  bool allowed = false;
  std::optional<std::string> tag;  // the message tag the reply must carry (HUMAN_AGENT)
};

/// WhatsApp: 24 h. Messenger / Instagram: 24 h, or, when the channel may use
/// the HUMAN_AGENT tag, up to 7 days with that tag. Windows are half-open:
/// a reply exactly 24 h after the customer's message is outside the 24 h
/// window. No inbound message yet: not allowed. A last_inbound_at ahead of
/// `now` (clock skew) counts as just now.
WindowDecision MessagingWindow(gateway::ChannelKind kind,
                               std::optional<std::chrono::system_clock::time_point> last_inbound_at,
                               std::chrono::system_clock::time_point now, bool human_agent_enabled);

}  // namespace sb::outbound
