#include "sb/admin/erasure_api.hpp"

#include <gtest/gtest.h>

#include <string>

#include "sb/common/crypto.hpp"

namespace sb::admin {
namespace {

std::string Base64Url(const std::string& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (i + 1 == bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (i + 2 == bytes.size()) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

// As Meta builds it: base64url(HMAC-SHA256(secret, base64url(payload))) "." base64url(payload).
std::string Signed(const std::string& payload, const std::string& secret) {
  std::string encoded = Base64Url(payload);
  auto mac = crypto::HexDecode(crypto::HmacSha256Hex(secret, encoded));
  return Base64Url(*mac) + "." + encoded;
}

constexpr char kPayload[] =
    R"({"algorithm":"HMAC-SHA256","expires":1291840400,"issued_at":1291836800,"user_id":"218471"})";

TEST(SignedRequestTest, VerifiesWithTheAppSecretAndReturnsThePayload) {
  auto out = VerifySignedRequest(Signed(kPayload, "app-secret"), "app-secret");
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, kPayload);
}

TEST(SignedRequestTest, AcceptsPaddedSignatures) {
  // Meta's signatures often carry a trailing '='.
  std::string request = Signed(kPayload, "app-secret");
  auto dot = request.find('.');
  request.insert(dot, "=");
  EXPECT_TRUE(VerifySignedRequest(request, "app-secret").has_value());
}

TEST(SignedRequestTest, RefusesAnotherSecretATamperedPayloadAndOtherAlgorithms) {
  EXPECT_FALSE(VerifySignedRequest(Signed(kPayload, "app-secret"), "other-secret").has_value());
  std::string request = Signed(kPayload, "app-secret");
  std::string tampered =
      request.substr(0, request.find('.') + 1) + Base64Url(R"({"algorithm":"HMAC-SHA256","user_id":"999"})");
  EXPECT_FALSE(VerifySignedRequest(tampered, "app-secret").has_value());
  EXPECT_FALSE(VerifySignedRequest(Signed(R"({"algorithm":"none","user_id":"1"})", "s"), "s").has_value());
  EXPECT_FALSE(VerifySignedRequest(Signed("not json", "s"), "s").has_value());
}

TEST(SignedRequestTest, MalformedInputIsRefusedNotThrown) {
  for (const char* bad : {"", ".", "abc", "abc.", ".abc", "!!!.@@@", "a.b.c", "====.===="}) {
    EXPECT_FALSE(VerifySignedRequest(bad, "s").has_value()) << bad;
  }
}

}  // namespace
}  // namespace sb::admin
