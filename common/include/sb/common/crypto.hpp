#pragma once
/// Hashing, signing, random tokens and encryption of secrets at rest.
/// All functions are thread-safe.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace sb::crypto {

/// Lower-case hex of HMAC-SHA256(key, data).
std::string HmacSha256Hex(std::string_view key, std::string_view data);

/// Checks an `X-Hub-Signature-256` header value (`sha256=<hex>`, hex in
/// either case) against HMAC-SHA256(secret, body), in constant time.
bool VerifyHubSignature(std::string_view header, std::string_view secret, std::string_view body);

/// Raw 32-byte SHA-256 of `data`, as used for token lookups.
std::string Sha256(std::string_view data);
std::string Sha256Hex(std::string_view data);

/// Constant-time equality of two byte strings (length may leak).
bool ConstantTimeEqual(std::string_view a, std::string_view b);

/// `n` bytes from the system's cryptographic generator.
std::string RandomBytes(std::size_t n);

/// URL-safe base64 without padding (RFC 4648 section 5).
std::string Base64UrlEncode(std::string_view bytes);

/// A random token: `prefix` followed by 256 bits as URL-safe base64.
std::string RandomToken(std::string_view prefix);

std::string HexEncode(std::string_view bytes);
std::optional<std::string> HexDecode(std::string_view hex);

/// AES-256-GCM with 32-byte keys. Output: key id byte, 12-byte nonce,
/// ciphertext, 16-byte tag. The key id lets keys rotate: values are sealed
/// with the current key, and any key of the ring opens what it sealed.
/// Thread-safe.
class SecretBox {
 public:
  using Keyring = std::map<unsigned char, std::string>;  // key id -> 32 raw bytes
  /// Reads the keyring again (say, from a key file another process rotated);
  /// returns it and its current key id, or nullopt when nothing changed.
  using Reloader = std::function<std::optional<std::pair<Keyring, unsigned char>>()>;

  /// `key` must be 32 bytes.
  SecretBox(std::string key, unsigned char key_id = 1);
  /// Every key must be 32 bytes and `current_id` one of them.
  SecretBox(Keyring keys, unsigned char current_id, Reloader reloader = nullptr);
  SecretBox(SecretBox&& other) noexcept;
  ~SecretBox();

  std::string Seal(std::string_view plaintext) const;
  /// nullopt when no key of the ring has the value's key id (after one
  /// reload, at most once a second) or authentication fails.
  std::optional<std::string> Open(std::string_view sealed) const;
  /// Open of a sealed value stored as hex (a bytea column read as hex);
  /// nullopt also when `sealed_hex` is not hex.
  std::optional<std::string> OpenHex(std::string_view sealed_hex) const;

  unsigned char current_key_id() const;
  /// The key id byte of a sealed value; nullopt when it is too short to be one.
  static std::optional<unsigned char> KeyIdOf(std::string_view sealed);

 private:
  struct State;
  std::shared_ptr<const State> Current() const;
  mutable std::mutex mu_;
  mutable std::shared_ptr<const State> state_;  // replaced when the keyring is reloaded
  Reloader reloader_;
  mutable std::chrono::steady_clock::time_point last_reload_{};
};

}  // namespace sb::crypto
