// Untrusted JSON: depth limit, UTF-8 validity, error offsets, no throw.
#include "sb/common/json/limited_parse.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

namespace sb::json {
namespace {

std::string Nested(int depth, char open, char close) { return std::string(depth, open) + std::string(depth, close); }

std::string NestedObjects(int depth) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += R"({"a":)";
  s += "1";
  s += std::string(depth, '}');
  return s;
}

TEST(ParseLimited, ParsesAValidDocument) {
  auto r = ParseLimited(R"({"object":"page","entry":[{"id":"1","time":1458692752478,
                            "n":-1.5,"b":true,"z":null,"u":18446744073709551615}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& j = r.value();
  EXPECT_EQ(j["object"], "page");
  EXPECT_EQ(j["entry"][0]["time"].get<std::int64_t>(), 1458692752478);
  EXPECT_TRUE(j["entry"][0]["u"].is_number_unsigned());
  EXPECT_TRUE(j["entry"][0]["z"].is_null());
}

TEST(ParseLimited, ScalarsAtTheTopAreDepthZero) {
  EXPECT_TRUE(ParseLimited("42", 0).ok());
  EXPECT_TRUE(ParseLimited(R"("x")", 0).ok());
  EXPECT_FALSE(ParseLimited("[]", 0).ok());
  EXPECT_TRUE(ParseLimited("[]", 1).ok());
}

TEST(ParseLimited, ExactlyMaxDepthIsAccepted) {
  EXPECT_TRUE(ParseLimited(Nested(64, '[', ']')).ok());
  EXPECT_TRUE(ParseLimited(NestedObjects(64)).ok());
}

TEST(ParseLimited, OneLevelDeeperIsTooDeep) {
  for (const auto& text : {Nested(65, '[', ']'), NestedObjects(65)}) {
    auto r = ParseLimited(text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "too_deep");
    EXPECT_NE(r.error().message.find("64"), std::string::npos) << r.error().message;
  }
}

TEST(ParseLimited, TooDeepNamesTheOffsetOfTheRefusedBracket) {
  auto r = ParseLimited(Nested(10, '[', ']'), 3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "too_deep");
  EXPECT_EQ(r.error().message, "JSON nested more than 3 levels at byte 3");
  // Brackets inside strings do not count.
  r = ParseLimited(R"([" [[[ \" [[ ",{"a":[[1]]}])", 3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "JSON nested more than 3 levels at byte 21");
}

TEST(ParseLimited, HundredThousandDeepIsRefusedQuickly) {
  const auto start = std::chrono::steady_clock::now();
  for (const auto& text : {Nested(100'000, '[', ']'), std::string(100'000, '['), NestedObjects(100'000)}) {
    auto r = ParseLimited(text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "too_deep");
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

struct BadCase {
  const char* name;
  std::string text;
};

class ParseLimitedInvalid : public testing::TestWithParam<BadCase> {};

TEST_P(ParseLimitedInvalid, IsInvalidJsonWithAnOffset) {
  auto r = ParseLimited(GetParam().text);
  ASSERT_FALSE(r.ok()) << GetParam().name;
  EXPECT_EQ(r.error().code, "invalid_json") << GetParam().name;
  EXPECT_NE(r.error().message.find(" at byte "), std::string::npos) << r.error().message;
  for (unsigned char c : r.error().message) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << GetParam().name << ": message must be printable ASCII";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseLimitedInvalid,
    testing::Values(BadCase{"empty", ""}, BadCase{"whitespace", "  \n"}, BadCase{"truncated", R"({"a":)"},
                    BadCase{"trailing_garbage", R"({"a":1} x)"}, BadCase{"two_documents", "{} {}"},
                    BadCase{"trailing_comma", "[1,]"}, BadCase{"single_quotes", "{'a':1}"},
                    BadCase{"comment", "/* c */ {}"}, BadCase{"nan_literal", "[NaN]"}, BadCase{"leading_zero", "[01]"},
                    BadCase{"raw_newline_in_string", "[\"a\nb\"]"},
                    BadCase{"raw_nul_in_string", std::string("[\"a\0b\"]", 7)},
                    BadCase{"nul_after_document", std::string("{}\0", 3)},
                    BadCase{"nul_then_garbage", std::string("{\"a\":1}\0{{{", 11)},
                    BadCase{"nul_inside_document", std::string("{\"a\":1\0}", 8)},
                    BadCase{"invalid_utf8_ff", "[\"\xff\"]"}, BadCase{"invalid_utf8_continuation", "[\"\x80\"]"},
                    BadCase{"overlong_slash", "[\"\xc0\xaf\"]"}, BadCase{"truncated_sequence", "[\"\xe2\x82\"]"},
                    BadCase{"utf8_encoded_surrogate", "[\"\xed\xa0\x80\"]"},
                    BadCase{"above_u10ffff", "[\"\xf4\x90\x80\x80\"]"}, BadCase{"lone_high_surrogate", R"(["\ud800"])"},
                    BadCase{"lone_low_surrogate", R"(["\udc00"])"}, BadCase{"high_then_letter", R"(["\ud800\u0041"])"},
                    BadCase{"high_then_high", R"(["\ud83d\ud83d"])"}, BadCase{"bad_escape", R"(["\x41"])"},
                    BadCase{"short_unicode_escape", R"(["\u12"])"}, BadCase{"invalid_utf8_in_key", "{\"\xff\":1}"}));

TEST(ParseLimited, SyntaxErrorOffsetIsZeroBased) {
  auto r = ParseLimited(R"({"a":1} x)");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("at byte 8"), std::string::npos) << r.error().message;
  r = ParseLimited("[\"ok\",\"\xff\"]");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("at byte 7"), std::string::npos) << r.error().message;
}

TEST(ParseLimited, TrailingNulIsNamed) {
  auto r = ParseLimited(std::string("{}\0", 3));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "unexpected NUL byte at byte 2");
}

TEST(ParseLimited, SurrogatePairsAndRawUtf8Decode) {
  auto r = ParseLimited(R"(["\ud83d\ude00","\u00e9","\u4f60","caf)"
                        "\xc3\xa9"
                        R"(","\/"])");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& j = r.value();
  EXPECT_EQ(j[0], "\xF0\x9F\x98\x80");
  EXPECT_EQ(j[1], "\xC3\xA9");
  EXPECT_EQ(j[2], "\xE4\xBD\xA0");
  EXPECT_EQ(j[3], "caf\xC3\xA9");
  EXPECT_EQ(j[4], "/");
}

TEST(ParseLimited, EscapedNulIsKeptForTheCallerToReplace) {
  auto r = ParseLimited(R"(["a\u0000b"])");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value()[0].get<std::string>(), std::string("a\0b", 3));
}

TEST(ParseLimited, HugeNumbersDoNotThrow) {
  auto r = ParseLimited("[1e400, -1e400, 123456789012345678901234567890]");
  // nlohmann accepts out-of-range floats as infinities; either way no throw.
  if (r.ok()) {
    EXPECT_TRUE(r.value().is_array());
  }
}

TEST(ParseLimited, NegativeMaxDepthAllowsOnlyScalars) {
  EXPECT_TRUE(ParseLimited("1", -5).ok());
  EXPECT_FALSE(ParseLimited("{}", -5).ok());
}

}  // namespace
}  // namespace sb::json
