#pragma once
// The keys that encrypt channel secrets at rest, and their rotation.
#include <string>

#include "sb/common/config.hpp"
#include "sb/common/crypto.hpp"

namespace sb::app {

/// The keyring secrets are sealed and opened with.
///
/// With SWITCHBOARD_SECRET_KEY (64 hex characters) set, it is the current
/// key, with id SWITCHBOARD_SECRET_KEY_ID (default 1). Otherwise the key file
/// (SWITCHBOARD_SECRET_KEY_FILE, default var/secret.key) holds one key a
/// line, `<id>:<64 hex>` (a bare `<64 hex>` is id 1), the current key first;
/// it is generated once (mode 0600, with a warning) when missing, never held
/// only in memory, and read again when a value names a key it lacks (another
/// process rotated it). SWITCHBOARD_OLD_SECRET_KEYS (`<id>:<hex>,...`) adds
/// keys that only open. Throws std::runtime_error with the reason.
crypto::SecretBox LoadSecretKeys(const Config& config);

/// Puts a new random key first in the key file (id one above the highest),
/// keeping the others so existing values still open. Refuses (throws) when
/// SWITCHBOARD_SECRET_KEY is set: the environment's keys are the operator's.
/// Returns the new key id.
int RotateKeyFile(const Config& config);

}  // namespace sb::app
