// Hashing, webhook signatures, hex, random tokens and AES-GCM secret boxes.
#include "sb/common/crypto.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace sb::crypto {
namespace {

std::string Repeat(char c, std::size_t n) { return std::string(n, c); }

std::string Key25() {
  std::string k;
  for (int i = 1; i <= 25; ++i) k.push_back(static_cast<char>(i));
  return k;
}

// ---------------------------------------------------------------- HMAC ----

struct HmacCase {
  const char* name;
  std::string key;
  std::string data;
  const char* expected_hex;
};

class HmacSha256Rfc4231 : public testing::TestWithParam<HmacCase> {};

TEST_P(HmacSha256Rfc4231, MatchesTheKnownVector) {
  const auto& c = GetParam();
  EXPECT_EQ(HmacSha256Hex(c.key, c.data), c.expected_hex) << "RFC 4231 " << c.name;
}

INSTANTIATE_TEST_SUITE_P(Rfc4231, HmacSha256Rfc4231,
                         testing::Values(HmacCase{"test_case_1", Repeat('\x0b', 20), "Hi There",
                                                  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
                                         HmacCase{"test_case_2", "Jefe", "what do ya want for nothing?",
                                                  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
                                         HmacCase{"test_case_3", Repeat('\xaa', 20), Repeat('\xdd', 50),
                                                  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
                                         HmacCase{"test_case_4", Key25(), Repeat('\xcd', 50),
                                                  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"}),
                         [](const testing::TestParamInfo<HmacCase>& info) { return std::string(info.param.name); });

TEST(HmacSha256Hex, IsLowerCaseHexOf32Bytes) {
  auto mac = HmacSha256Hex("key", "data");
  ASSERT_EQ(mac.size(), 64u) << "expected 64 hex digits, got '" << mac << "'";
  EXPECT_TRUE(
      std::all_of(mac.begin(), mac.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
      << "expected lower-case hex only, got '" << mac << "'";
}

// ------------------------------------------------- VerifyHubSignature ----

constexpr std::string_view kSecret = "app-secret-123";
constexpr std::string_view kBody = R"({"object":"page","entry":[{"id":"1","time":1458692752478}]})";

std::string GoodHeader() { return "sha256=" + HmacSha256Hex(kSecret, kBody); }

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

TEST(VerifyHubSignature, AcceptsTheCorrectSignature) {
  EXPECT_TRUE(VerifyHubSignature(GoodHeader(), kSecret, kBody)) << "header " << GoodHeader();
}

TEST(VerifyHubSignature, AcceptsUpperCaseHex) {
  std::string header = "sha256=" + Upper(HmacSha256Hex(kSecret, kBody));
  EXPECT_TRUE(VerifyHubSignature(header, kSecret, kBody)) << "upper-case hex must be accepted: " << header;
}

TEST(VerifyHubSignature, AcceptsMixedCaseHex) {
  std::string hex = HmacSha256Hex(kSecret, kBody);
  for (std::size_t i = 0; i < hex.size(); i += 2) hex[i] = static_cast<char>(std::toupper(hex[i]));
  EXPECT_TRUE(VerifyHubSignature("sha256=" + hex, kSecret, kBody)) << "mixed-case hex must be accepted: " << hex;
}

TEST(VerifyHubSignature, AcceptsAnEmptyBodyWhenSignedAsSuch) {
  EXPECT_TRUE(VerifyHubSignature("sha256=" + HmacSha256Hex(kSecret, ""), kSecret, ""));
}

TEST(VerifyHubSignature, RejectsAWrongSecret) {
  EXPECT_FALSE(VerifyHubSignature(GoodHeader(), "app-secret-124", kBody));
  EXPECT_FALSE(VerifyHubSignature(GoodHeader(), "", kBody));
}

TEST(VerifyHubSignature, RejectsTheBodyWithAnyOneByteFlipped) {
  const std::string header = GoodHeader();
  for (std::size_t i = 0; i < kBody.size(); ++i) {
    std::string body(kBody);
    body[i] = static_cast<char>(body[i] ^ 0x01);
    EXPECT_FALSE(VerifyHubSignature(header, kSecret, body)) << "body with byte " << i << " flipped must be rejected";
  }
}

TEST(VerifyHubSignature, RejectsTheBodyTruncatedOrExtended) {
  const std::string header = GoodHeader();
  EXPECT_FALSE(VerifyHubSignature(header, kSecret, kBody.substr(0, kBody.size() - 1)));
  EXPECT_FALSE(VerifyHubSignature(header, kSecret, std::string(kBody) + " "));
}

TEST(VerifyHubSignature, RejectsAnyOneHexDigitChanged) {
  const std::string good = GoodHeader();
  for (std::size_t i = 7; i < good.size(); ++i) {
    std::string header = good;
    // A different hex value (not merely a case change of the same digit).
    header[i] = header[i] == '0' ? '1' : '0';
    EXPECT_FALSE(VerifyHubSignature(header, kSecret, kBody)) << "digit " << (i - 7) << " changed: " << header;
  }
}

struct BadHeaderCase {
  const char* name;
  std::string header;
};

class VerifyHubSignatureRejects : public testing::TestWithParam<BadHeaderCase> {};

TEST_P(VerifyHubSignatureRejects, MalformedHeader) {
  EXPECT_FALSE(VerifyHubSignature(GetParam().header, kSecret, kBody))
      << GetParam().name << ": expected rejection of header '" << GetParam().header << "'";
}

std::string Hex() { return HmacSha256Hex(kSecret, kBody); }

INSTANTIATE_TEST_SUITE_P(
    Table, VerifyHubSignatureRejects,
    testing::Values(BadHeaderCase{"missing_prefix", Hex()}, BadHeaderCase{"sha1_prefix", "sha1=" + Hex()},
                    BadHeaderCase{"sha1_prefix_40_digits", "sha1=" + Hex().substr(0, 40)},
                    BadHeaderCase{"prefix_without_equals", "sha256" + Hex()},
                    BadHeaderCase{"colon_instead_of_equals", "sha256:" + Hex()}, BadHeaderCase{"empty", ""},
                    BadHeaderCase{"prefix_only", "sha256="},
                    BadHeaderCase{"too_short_by_one_digit", "sha256=" + Hex().substr(0, 63)},
                    BadHeaderCase{"too_short_by_one_byte", "sha256=" + Hex().substr(0, 62)},
                    BadHeaderCase{"too_long_by_one_digit", "sha256=" + Hex() + "0"},
                    BadHeaderCase{"too_long_by_one_byte", "sha256=" + Hex() + "00"},
                    BadHeaderCase{"non_hex_g", "sha256=" + Hex().substr(0, 63) + "g"},
                    BadHeaderCase{"non_hex_z_first", "sha256=z" + Hex().substr(1)},
                    BadHeaderCase{"non_hex_space", "sha256=" + Hex().substr(0, 32) + " " + Hex().substr(33)},
                    BadHeaderCase{"non_hex_nul",
                                  "sha256=" + Hex().substr(0, 32) + std::string(1, '\0') + Hex().substr(33)},
                    BadHeaderCase{"leading_space", " sha256=" + Hex().substr(1)},
                    BadHeaderCase{"trailing_newline", "sha256=" + Hex().substr(1) + "\n"},
                    BadHeaderCase{"hex_of_another_body", "sha256=" + HmacSha256Hex(kSecret, "{}")}),
    [](const testing::TestParamInfo<BadHeaderCase>& info) { return std::string(info.param.name); });

// -------------------------------------------------------------- SHA-256 ----

TEST(Sha256Hex, MatchesFips180Vectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") << "SHA-256 of ''";
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") << "SHA-256 of 'abc'";
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
      << "SHA-256 of the 448-bit message";
}

TEST(Sha256, IsTheRaw32BytesOfSha256Hex) {
  for (std::string_view input : {"", "abc", "token_abc123"}) {
    auto raw = Sha256(input);
    EXPECT_EQ(raw.size(), 32u) << "input '" << input << "'";
    EXPECT_EQ(HexEncode(raw), Sha256Hex(input)) << "input '" << input << "'";
  }
}

// ---------------------------------------------------- ConstantTimeEqual ----

struct EqualCase {
  const char* name;
  std::string a;
  std::string b;
  bool equal;
};

class ConstantTimeEqualTable : public testing::TestWithParam<EqualCase> {};

TEST_P(ConstantTimeEqualTable, ComparesBytes) {
  const auto& c = GetParam();
  EXPECT_EQ(ConstantTimeEqual(c.a, c.b), c.equal) << c.name << ": expected " << (c.equal ? "equal" : "not equal");
  EXPECT_EQ(ConstantTimeEqual(c.b, c.a), c.equal) << c.name << " (swapped): expected symmetric result";
}

INSTANTIATE_TEST_SUITE_P(
    Table, ConstantTimeEqualTable,
    testing::Values(EqualCase{"both_empty", "", "", true}, EqualCase{"same", "secret", "secret", true},
                    EqualCase{"last_byte_differs", "secret", "secreu", false},
                    EqualCase{"first_byte_differs", "secret", "Secret", false},
                    EqualCase{"prefix", "secret", "secre", false}, EqualCase{"empty_vs_nonempty", "", "x", false},
                    EqualCase{"embedded_nul_same", std::string("a\0b", 3), std::string("a\0b", 3), true},
                    EqualCase{"embedded_nul_differs", std::string("a\0b", 3), std::string("a\0c", 3), false},
                    EqualCase{"high_bytes", "\xff\x80", "\xff\x81", false}),
    [](const testing::TestParamInfo<EqualCase>& info) { return std::string(info.param.name); });

// ------------------------------------------------ Base64UrlEncode, RandomBytes ----

TEST(Base64UrlEncode, MatchesRfc4648VectorsWithoutPadding) {
  // RFC 4648 section 10, padding dropped; then the two characters that
  // differ from plain base64 ('+' and '/' become '-' and '_').
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(Base64UrlEncode(in), want) << "input of " << in.size() << " bytes";
}

TEST(RandomBytes, GivesTheBytesAskedForAndNewOnesEachTime) {
  EXPECT_TRUE(RandomBytes(0).empty());
  const std::string a = RandomBytes(16), b = RandomBytes(16);
  EXPECT_EQ(a.size(), 16u);
  EXPECT_NE(a, b) << "two draws of 128 bits were equal";
}

// ---------------------------------------------------------- RandomToken ----

bool IsUrlSafeBase64(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

TEST(RandomToken, KeepsThePrefixAndAppends43UrlSafeCharacters) {
  for (std::string_view prefix : {"sbk_", "", "whsec_"}) {
    auto token = RandomToken(prefix);
    ASSERT_EQ(token.size(), prefix.size() + 43) << "expected prefix + 43 characters, got '" << token << "'";
    EXPECT_EQ(token.substr(0, prefix.size()), prefix) << "prefix must be kept verbatim";
    auto rest = token.substr(prefix.size());
    EXPECT_TRUE(std::all_of(rest.begin(), rest.end(), IsUrlSafeBase64))
        << "expected only [A-Za-z0-9_-] after the prefix, got '" << rest << "'";
  }
}

TEST(RandomToken, TwoTokensDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto token = RandomToken("t_");
    EXPECT_TRUE(seen.insert(token).second) << "token repeated after " << i << " draws: " << token;
  }
}

TEST(RandomToken, LastCharacterCarriesOnlyFourBits) {
  // 256 bits = 42 * 6 + 4: the 43rd character encodes 4 bits followed by two
  // zero bits, so it is one of the 16 characters at even-by-4 alphabet indexes.
  const std::string_view kAllowedLast = "AEIMQUYcgkosw048";
  for (int i = 0; i < 50; ++i) {
    auto token = RandomToken("");
    EXPECT_NE(kAllowedLast.find(token.back()), std::string_view::npos)
        << "last character '" << token.back() << "' has non-zero padding bits in " << token;
  }
}

// ---------------------------------------------------------------- Hex ----

TEST(Hex, RoundTripsEveryByteValue) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  auto hex = HexEncode(all);
  ASSERT_EQ(hex.size(), 512u);
  EXPECT_EQ(hex.substr(0, 8), "00010203");
  EXPECT_EQ(hex.substr(504), "fcfdfeff");
  auto back = HexDecode(hex);
  ASSERT_TRUE(back.has_value()) << "HexDecode of HexEncode output must succeed";
  EXPECT_EQ(*back, all) << "round trip must give back every byte";
}

TEST(Hex, EmptyRoundTrips) {
  EXPECT_EQ(HexEncode(""), "");
  auto back = HexDecode("");
  ASSERT_TRUE(back.has_value()) << "empty hex is a valid empty byte string";
  EXPECT_EQ(*back, "");
}

TEST(Hex, DecodeAcceptsUpperCase) {
  auto back = HexDecode("DEADbeef");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, "\xde\xad\xbe\xef");
}

struct BadHexCase {
  const char* name;
  std::string hex;
};

class HexDecodeRejects : public testing::TestWithParam<BadHexCase> {};

TEST_P(HexDecodeRejects, ReturnsNullopt) {
  EXPECT_EQ(HexDecode(GetParam().hex), std::nullopt)
      << GetParam().name << ": expected nullopt for '" << GetParam().hex << "'";
}

INSTANTIATE_TEST_SUITE_P(Table, HexDecodeRejects,
                         testing::Values(BadHexCase{"odd_length_1", "a"}, BadHexCase{"odd_length_3", "abc"},
                                         BadHexCase{"g", "0g"}, BadHexCase{"zz", "zz"}, BadHexCase{"space", " 1"},
                                         BadHexCase{"prefix_0x", "0x12"}, BadHexCase{"minus", "-1"},
                                         BadHexCase{"nul", std::string("0\0", 2)}, BadHexCase{"high_byte", "\xc3\xa9"},
                                         BadHexCase{"bad_digit_at_end", "00112233445566778g"}),
                         [](const testing::TestParamInfo<BadHexCase>& info) { return std::string(info.param.name); });

// ------------------------------------------------------------ SecretBox ----

std::string TestKey(char fill = 'k') {
  std::string key(32, fill);
  key[0] = '\x01';
  key[31] = '\xff';
  return key;
}

constexpr std::size_t kOverhead = 1 + 12 + 16;  // key id, nonce, tag

TEST(SecretBox, RoundTripsEmptyPlaintext) {
  SecretBox box(TestKey());
  auto sealed = box.Seal("");
  EXPECT_EQ(sealed.size(), kOverhead) << "expected key id + nonce + tag only";
  auto opened = box.Open(sealed);
  ASSERT_TRUE(opened.has_value()) << "sealed empty plaintext must open";
  EXPECT_EQ(*opened, "");
}

TEST(SecretBox, RoundTrips10KilobytePlaintext) {
  std::string plaintext;
  for (int i = 0; i < 10 * 1024; ++i) plaintext.push_back(static_cast<char>(i * 7 + 3));
  SecretBox box(TestKey());
  auto sealed = box.Seal(plaintext);
  EXPECT_EQ(sealed.size(), plaintext.size() + kOverhead);
  EXPECT_EQ(sealed.find(plaintext.substr(0, 64)), std::string::npos) << "plaintext must not appear in the sealed text";
  auto opened = box.Open(sealed);
  ASSERT_TRUE(opened.has_value()) << "sealed 10 KB plaintext must open";
  EXPECT_EQ(*opened, plaintext);
}

TEST(SecretBox, FirstByteIsTheKeyId) {
  EXPECT_EQ(static_cast<unsigned char>(SecretBox(TestKey()).Seal("x")[0]), 1) << "default key id is 1";
  EXPECT_EQ(static_cast<unsigned char>(SecretBox(TestKey(), 7).Seal("x")[0]), 7);
  EXPECT_EQ(static_cast<unsigned char>(SecretBox(TestKey(), 255).Seal("x")[0]), 255);
}

TEST(SecretBox, TamperingWithAnyByteIsDetected) {
  SecretBox box(TestKey());
  const auto sealed = box.Seal("page-access-token-EAAB12345");
  ASSERT_TRUE(box.Open(sealed).has_value());
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    for (unsigned char mask : {0x01, 0x80}) {
      std::string tampered = sealed;
      tampered[i] = static_cast<char>(tampered[i] ^ mask);
      EXPECT_EQ(box.Open(tampered), std::nullopt)
          << "byte " << i << " of " << sealed.size() << " xor " << int(mask) << " must fail to open";
    }
  }
}

TEST(SecretBox, TruncatedOrExtendedSealedTextIsRejected) {
  SecretBox box(TestKey());
  const auto sealed = box.Seal("hello");
  for (std::size_t n = 0; n < sealed.size(); ++n) {
    EXPECT_EQ(box.Open(sealed.substr(0, n)), std::nullopt) << "truncated to " << n << " bytes must fail";
  }
  EXPECT_EQ(box.Open(sealed + "x"), std::nullopt) << "an appended byte must fail";
}

TEST(SecretBox, WrongKeyIsRejected) {
  auto sealed = SecretBox(TestKey('a')).Seal("secret");
  EXPECT_EQ(SecretBox(TestKey('b')).Open(sealed), std::nullopt) << "a different key with the same id must fail";
}

TEST(SecretBox, DifferentKeyIdIsRejected) {
  auto sealed = SecretBox(TestKey(), 1).Seal("secret");
  EXPECT_EQ(SecretBox(TestKey(), 2).Open(sealed), std::nullopt) << "same key bytes but key id 2 must refuse id 1";
  EXPECT_TRUE(SecretBox(TestKey(), 1).Open(sealed).has_value());
}

TEST(SecretBox, TwoSealsOfTheSamePlaintextDiffer) {
  SecretBox box(TestKey());
  auto a = box.Seal("same plaintext");
  auto b = box.Seal("same plaintext");
  EXPECT_NE(a, b) << "a random nonce must make two seals differ";
  EXPECT_NE(a.substr(1, 12), b.substr(1, 12)) << "the nonces (bytes 1..12) must differ";
  EXPECT_EQ(box.Open(a), box.Open(b));
}

TEST(SecretBox, ConstructorRejectsKeysThatAreNot32Bytes) {
  for (std::size_t n : {0u, 1u, 16u, 31u, 33u, 64u}) {
    EXPECT_THROW(SecretBox(std::string(n, 'k')), std::invalid_argument) << "a " << n << "-byte key must be refused";
  }
  EXPECT_NO_THROW(SecretBox(std::string(32, 'k')));
}

// ------------------------------------------------------------- Keyring ----

TEST(SecretBoxKeyring, SealsWithTheCurrentKeyAndOpensWithAnyKeyOfTheRing) {
  SecretBox old_box(TestKey('a'), 1);
  auto sealed_by_old = old_box.Seal("app secret");
  SecretBox ring(SecretBox::Keyring{{1, TestKey('a')}, {2, TestKey('b')}}, 2);
  EXPECT_EQ(ring.current_key_id(), 2);
  auto sealed_by_new = ring.Seal("app secret");
  EXPECT_EQ(SecretBox::KeyIdOf(sealed_by_new), 2) << "new values carry the current key id";
  EXPECT_EQ(ring.Open(sealed_by_old), "app secret") << "a retired key still opens what it sealed";
  EXPECT_EQ(ring.Open(sealed_by_new), "app secret");
  EXPECT_EQ(old_box.Open(sealed_by_new), std::nullopt) << "a box without key 2 cannot open its values";
}

TEST(SecretBoxKeyring, KeyIdOfNeedsAWholeSealedValue) {
  EXPECT_EQ(SecretBox::KeyIdOf(""), std::nullopt);
  EXPECT_EQ(SecretBox::KeyIdOf(std::string(kOverhead - 1, '\x05')), std::nullopt);
  EXPECT_EQ(SecretBox::KeyIdOf(std::string(kOverhead, '\x05')), 5);
}

TEST(SecretBoxKeyring, RejectsABadRing) {
  EXPECT_THROW(SecretBox(SecretBox::Keyring{{1, TestKey()}}, 2), std::invalid_argument)
      << "the current id must be in the ring";
  EXPECT_THROW(SecretBox(SecretBox::Keyring{{1, TestKey()}, {2, "short"}}, 1), std::invalid_argument);
}

TEST(SecretBoxKeyring, AnUnknownKeyIdReloadsTheRingAtMostOnceASecond) {
  SecretBox rotated(SecretBox::Keyring{{1, TestKey('a')}, {2, TestKey('b')}}, 2);
  auto sealed = rotated.Seal("token");
  int reloads = 0;
  bool rotated_yet = false;
  SecretBox box(SecretBox::Keyring{{1, TestKey('a')}}, 1,
                [&]() -> std::optional<std::pair<SecretBox::Keyring, unsigned char>> {
                  ++reloads;
                  if (!rotated_yet) return std::nullopt;
                  return std::make_pair(SecretBox::Keyring{{1, TestKey('a')}, {2, TestKey('b')}}, 2);
                });
  EXPECT_EQ(box.Open(sealed), std::nullopt) << "the ring has no key 2 and the reload found none";
  EXPECT_EQ(reloads, 1);
  rotated_yet = true;
  EXPECT_EQ(box.Open(sealed), std::nullopt) << "within a second of the last reload: no new reload";
  EXPECT_EQ(reloads, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(1050));
  EXPECT_EQ(box.Open(sealed), "token") << "the reloaded ring has key 2";
  EXPECT_EQ(reloads, 2);
  EXPECT_EQ(box.current_key_id(), 2) << "and seals with it from now on";
  EXPECT_EQ(box.Open(sealed), "token");
  EXPECT_EQ(reloads, 2) << "a known key id does not reload";
}

}  // namespace
}  // namespace sb::crypto
