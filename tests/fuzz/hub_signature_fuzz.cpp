// The webhook signature check (X-Hub-Signature-256 over the raw body) over
// arbitrary headers, secrets and bodies. Input: `secret NUL header NUL body`
// (missing fields are empty). The check must agree with a plain reading of
// the contract: exactly "sha256=" and 64 hex digits, either case, equal to
// HMAC-SHA256(secret, body); the right signature always verifies, and one
// changed digit never does.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string>

#include "fuzz_checks.hpp"
#include "sb/common/crypto.hpp"

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto fields = sb::fuzz::SplitFields(sb::fuzz::AsText(data, size), 3);
  const std::string_view secret = fields[0];
  const std::string_view header = fields.size() > 1 ? fields[1] : std::string_view();
  const std::string_view body = fields.size() > 2 ? fields[2] : std::string_view();

  const std::string expected_hex = sb::crypto::HmacSha256Hex(secret, body);
  SB_FUZZ_CHECK(expected_hex.size() == 64, expected_hex);

  const bool expected = header.size() == 71 && header.substr(0, 7) == "sha256=" &&
                        std::all_of(header.begin() + 7, header.end(),
                                    [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }) &&
                        Lower(header.substr(7)) == expected_hex;
  SB_FUZZ_CHECK(sb::crypto::VerifyHubSignature(header, secret, body) == expected,
                std::string("verdict differs from the contract for header ") + std::string(header));

  const std::string right = "sha256=" + expected_hex;
  SB_FUZZ_CHECK(sb::crypto::VerifyHubSignature(right, secret, body), "the right signature fails");
  SB_FUZZ_CHECK(sb::crypto::VerifyHubSignature("sha256=" + Upper(expected_hex), secret, body),
                "the right signature in upper case fails");
  std::string wrong = right;
  const std::size_t at = 7 + (size % 64);
  wrong[at] = wrong[at] == '0' ? '1' : '0';
  SB_FUZZ_CHECK(!sb::crypto::VerifyHubSignature(wrong, secret, body), "a changed digit still verifies");

  // Hex decoding is the other half of the check.
  const auto decoded = sb::crypto::HexDecode(header);
  if (decoded) SB_FUZZ_CHECK(sb::crypto::HexEncode(*decoded) == Lower(header), "hex does not round-trip");
  SB_FUZZ_CHECK(sb::crypto::HexDecode(sb::crypto::HexEncode(body)) == std::string(body), "hex encode round trip");
  return 0;
}
