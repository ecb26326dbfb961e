#include "sb/common/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <memory>
#include <stdexcept>

namespace sb::crypto {
namespace {

constexpr std::size_t kNonceSize = 12;
constexpr std::size_t kTagSize = 16;

std::string RawHmac(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out.data(), &len);
  return {reinterpret_cast<const char*>(out.data()), len};
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

}  // namespace

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

std::optional<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexValue(hex[i]);
    int lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::string HmacSha256Hex(std::string_view key, std::string_view data) { return HexEncode(RawHmac(key, data)); }

bool VerifyHubSignature(std::string_view header, std::string_view secret, std::string_view body) {
  constexpr std::string_view kPrefix = "sha256=";
  if (header.size() != kPrefix.size() + 64 || header.substr(0, kPrefix.size()) != kPrefix) return false;
  auto given = HexDecode(header.substr(kPrefix.size()));
  if (!given) return false;
  return ConstantTimeEqual(*given, RawHmac(secret, body));
}

std::string Sha256(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> out{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
  return {reinterpret_cast<const char*>(out.data()), out.size()};
}

std::string Sha256Hex(std::string_view data) { return HexEncode(Sha256(data)); }

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string RandomBytes(std::size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return out;
}

std::string Base64UrlEncode(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() * 8 + 5) / 6);
  unsigned bits = 0;
  int nbits = 0;
  for (unsigned char c : bytes) {
    bits = (bits << 8) | c;
    nbits += 8;
    while (nbits >= 6) {
      out.push_back(kAlphabet[(bits >> (nbits - 6)) & 0x3f]);
      nbits -= 6;
    }
  }
  if (nbits > 0) out.push_back(kAlphabet[(bits << (6 - nbits)) & 0x3f]);
  return out;
}

// 32 bytes -> 43 base64url characters.
std::string RandomToken(std::string_view prefix) { return std::string(prefix) + Base64UrlEncode(RandomBytes(32)); }

struct SecretBox::State {
  Keyring keys;
  unsigned char current = 1;
};

namespace {
void CheckKeyring(const SecretBox::Keyring& keys, unsigned char current) {
  for (const auto& [id, key] : keys) {
    if (key.size() != 32) throw std::invalid_argument("SecretBox key " + std::to_string(id) + " must be 32 bytes");
  }
  if (!keys.count(current)) throw std::invalid_argument("SecretBox: the current key id is not in the keyring");
}
}  // namespace

SecretBox::SecretBox(std::string key, unsigned char key_id) : SecretBox(Keyring{{key_id, std::move(key)}}, key_id) {}

SecretBox::SecretBox(Keyring keys, unsigned char current_id, Reloader reloader) : reloader_(std::move(reloader)) {
  CheckKeyring(keys, current_id);
  state_ = std::make_shared<const State>(State{std::move(keys), current_id});
}

SecretBox::SecretBox(SecretBox&& other) noexcept {
  std::lock_guard lock(other.mu_);
  state_ = std::move(other.state_);
  reloader_ = std::move(other.reloader_);
}

SecretBox::~SecretBox() = default;

std::shared_ptr<const SecretBox::State> SecretBox::Current() const {
  std::lock_guard lock(mu_);
  return state_;
}

unsigned char SecretBox::current_key_id() const { return Current()->current; }

std::optional<unsigned char> SecretBox::KeyIdOf(std::string_view sealed) {
  if (sealed.size() < 1 + kNonceSize + kTagSize) return std::nullopt;
  return static_cast<unsigned char>(sealed[0]);
}

std::string SecretBox::Seal(std::string_view plaintext) const {
  auto state = Current();
  const std::string& key_bytes = state->keys.at(state->current);
  std::string out(1 + kNonceSize + plaintext.size() + kTagSize, '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  p[0] = state->current;
  if (RAND_bytes(p + 1, kNonceSize) != 1) throw std::runtime_error("RAND_bytes failed");
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  auto* key = reinterpret_cast<const unsigned char*>(key_bytes.data());
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key, p + 1) != 1 ||
      EVP_EncryptUpdate(ctx.get(), p + 1 + kNonceSize, &len, reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), p + 1 + kNonceSize + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, p + 1 + kNonceSize + plaintext.size()) != 1) {
    throw std::runtime_error("AES-256-GCM encryption failed");
  }
  return out;
}

std::optional<std::string> SecretBox::Open(std::string_view sealed) const {
  auto id = KeyIdOf(sealed);
  if (!id) return std::nullopt;
  auto state = Current();
  auto found = state->keys.find(*id);
  if (found == state->keys.end() && reloader_) {
    // Another process may have rotated the key file: read it again, but not
    // on every request that names an unknown key.
    bool reload = false;
    {
      std::lock_guard lock(mu_);
      auto now = std::chrono::steady_clock::now();
      if (now - last_reload_ >= std::chrono::seconds(1)) {
        last_reload_ = now;
        reload = true;
      }
    }
    if (reload) {
      if (auto fresh = reloader_()) {
        CheckKeyring(fresh->first, fresh->second);
        auto next = std::make_shared<const State>(State{std::move(fresh->first), fresh->second});
        std::lock_guard lock(mu_);
        state_ = next;
      }
      state = Current();
      found = state->keys.find(*id);
    }
  }
  if (found == state->keys.end()) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(sealed.data());
  std::size_t n = sealed.size() - 1 - kNonceSize - kTagSize;
  std::string out(n, '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  auto* key = reinterpret_cast<const unsigned char*>(found->second.data());
  auto* tag = const_cast<unsigned char*>(p + 1 + kNonceSize + n);
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key, p + 1) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, p + 1 + kNonceSize,
                        static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, tag) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &len) != 1) {
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> SecretBox::OpenHex(std::string_view sealed_hex) const {
  auto sealed = HexDecode(sealed_hex);
  if (!sealed) return std::nullopt;
  return Open(*sealed);
}

}  // namespace sb::crypto
