// The Instagram webhook parser over arbitrary bytes (see webhook_fuzz.hpp).
#include "webhook_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return sb::fuzz::FuzzWebhook(sb::gateway::ChannelKind::kInstagram, data, size);
}
