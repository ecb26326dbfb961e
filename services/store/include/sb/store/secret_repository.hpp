#pragma once
/// Re-encryption of the secrets stored sealed (channel app secrets and access
/// tokens) under the current key, after a key rotation.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "sb/store/database.hpp"

namespace sb::store {

struct ReencryptReport {
  std::int64_t channels = 0;    // channels whose secrets were sealed again
  std::int64_t unreadable = 0;  // channels with a secret no configured key opens (left as they are)
};

class SecretRepository {
 public:
  explicit SecretRepository(Database& db) : db_(db) {}

  /// Every channel with a secret sealed under another key id than `current`
  /// gets `reseal(sealed hex)` (the value sealed with the current key, in
  /// hex; nullopt when it cannot be opened) stored in its place, a hundred
  /// channels a transaction. Safe to run from several processes at once.
  /// Blocks the calling thread.
  ReencryptReport ReencryptSync(unsigned char current,
                                const std::function<std::optional<std::string>(const std::string&)>& reseal);

 private:
  Database& db_;
};

}  // namespace sb::store
