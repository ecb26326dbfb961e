#pragma once
/// Hashing, signing, random tokens and encryption of secrets at rest.
/// All functions are thread-safe.
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

/// A random token: `prefix` followed by 256 bits as URL-safe base64.
std::string RandomToken(std::string_view prefix);

std::string HexEncode(std::string_view bytes);
std::optional<std::string> HexDecode(std::string_view hex);

/// AES-256-GCM with a 32-byte key. Output: key id byte, 12-byte nonce,
/// ciphertext, 16-byte tag. The key id lets keys rotate.
class SecretBox {
 public:
  /// `key` must be 32 bytes.
  SecretBox(std::string key, unsigned char key_id = 1);
  std::string Seal(std::string_view plaintext) const;
  /// nullopt when the key id does not match or authentication fails.
  std::optional<std::string> Open(std::string_view sealed) const;

 private:
  std::string key_;
  unsigned char key_id_;
};

}  // namespace sb::crypto
