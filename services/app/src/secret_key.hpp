#pragma once
// The key that encrypts channel secrets at rest.
#include <string>

#include "sb/common/config.hpp"

namespace sb::app {

/// 32 raw bytes: from SWITCHBOARD_SECRET_KEY (64 hex characters), else from
/// the key file, generated there once (mode 0600, with a warning) when
/// missing. Never held only in memory: secrets sealed with it must stay
/// readable after a restart. Throws std::runtime_error with the reason.
std::string LoadOrCreateSecretKey(const Config& config);

}  // namespace sb::app
