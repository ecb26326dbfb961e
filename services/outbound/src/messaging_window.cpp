#include "sb/outbound/messaging_window.hpp"

namespace sb::outbound {

WindowDecision MessagingWindow(gateway::ChannelKind kind,
                               std::optional<std::chrono::system_clock::time_point> last_inbound_at,
                               std::chrono::system_clock::time_point now, bool human_agent_enabled) {
  WindowDecision d;
  if (!last_inbound_at) return d;
  auto elapsed = now - *last_inbound_at;
  if (elapsed < std::chrono::system_clock::duration::zero()) elapsed = std::chrono::system_clock::duration::zero();
  if (elapsed < kStandardWindow) {
    d.allowed = true;
    return d;
  }
  if (kind != gateway::ChannelKind::kWhatsapp && human_agent_enabled && elapsed < kHumanAgentWindow) {
    d.allowed = true;
    d.tag = kHumanAgentTag;
  }
  return d;
}

}  // namespace sb::outbound
