#include "sb/gateway/envelope.hpp"

namespace sb::gateway {

std::string_view ToString(ChannelKind kind) {
  switch (kind) {
    case ChannelKind::kMessenger:
      return "messenger";
    case ChannelKind::kInstagram:
      return "instagram";
    case ChannelKind::kWhatsapp:
      return "whatsapp";
  }
  return "unknown";
}

std::optional<ChannelKind> ChannelKindFromString(std::string_view text) {
  if (text == "messenger") return ChannelKind::kMessenger;
  if (text == "instagram") return ChannelKind::kInstagram;
  if (text == "whatsapp") return ChannelKind::kWhatsapp;
  return std::nullopt;
}

}  // namespace sb::gateway
