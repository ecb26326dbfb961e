// The streaming JSON writer and string quoting.
#include "sb/common/json/writer.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>
#include <string>

namespace sb::json {
namespace {

using nlohmann::json;

json Parse(const std::string& text) {
  auto j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "writer output is not valid JSON: " << text;
  return j;
}

std::string Quoted(std::string_view value) {
  std::string out;
  AppendQuoted(out, value);
  return out;
}

// -------------------------------------------------------------- Writer ----

TEST(Writer, EmptyObjectAndArray) {
  std::string a;
  Writer(a).BeginObject().EndObject();
  EXPECT_EQ(a, "{}");
  std::string b;
  Writer(b).BeginArray().EndArray();
  EXPECT_EQ(b, "[]");
}

TEST(Writer, FlatObjectHasCommasBetweenMembersOnly) {
  std::string out;
  Writer(out).BeginObject().Key("a").Int(1).Key("b").String("x").Key("c").Null().EndObject();
  EXPECT_EQ(out, R"({"a":1,"b":"x","c":null})");
}

TEST(Writer, NestedDocumentEqualsTheExpectedJson) {
  std::string out;
  Writer w(out);
  w.BeginObject()
      .Key("batch")
      .BeginArray()
      .BeginObject()
      .Key("id")
      .Int(1)
      .Key("tags")
      .BeginArray()
      .String("a")
      .String("b")
      .EndArray()
      .Key("meta")
      .BeginObject()
      .EndObject()
      .EndObject()
      .BeginObject()
      .Key("id")
      .Int(-2)
      .Key("empty")
      .BeginArray()
      .EndArray()
      .Key("nested")
      .BeginArray()
      .BeginArray()
      .Int(1)
      .EndArray()
      .BeginArray()
      .EndArray()
      .EndArray()
      .EndObject()
      .EndArray()
      .Key("count")
      .Int(2)
      .EndObject();
  json expected = {{"batch",
                    {{{"id", 1}, {"tags", {"a", "b"}}, {"meta", json::object()}},
                     {{"id", -2}, {"empty", json::array()}, {"nested", {{1}, json::array()}}}}},
                   {"count", 2}};
  EXPECT_EQ(Parse(out), expected) << out;
  EXPECT_EQ(out, R"({"batch":[{"id":1,"tags":["a","b"],"meta":{}},{"id":-2,"empty":[],"nested":[[1],[]]}],"count":2})")
      << "no whitespace, commas only between elements";
}

TEST(Writer, ArrayOfScalars) {
  std::string out;
  Writer(out).BeginArray().Int(0).String("").Null().OptionalString("x").OptionalString(std::nullopt).EndArray();
  EXPECT_EQ(out, R"([0,"",null,"x",null])");
  EXPECT_EQ(Parse(out), json::parse(R"([0,"",null,"x",null])"));
}

TEST(Writer, OptionalStringNulloptIsNull) {
  std::string out;
  Writer(out).BeginObject().Key("a").OptionalString(std::nullopt).Key("b").OptionalString("v").EndObject();
  EXPECT_EQ(Parse(out), (json{{"a", nullptr}, {"b", "v"}})) << out;
}

TEST(Writer, IntExtremes) {
  std::string out;
  Writer(out)
      .BeginArray()
      .Int(std::numeric_limits<std::int64_t>::min())
      .Int(std::numeric_limits<std::int64_t>::max())
      .EndArray();
  EXPECT_EQ(out, "[-9223372036854775808,9223372036854775807]");
  auto j = Parse(out);
  EXPECT_EQ(j[0].get<std::int64_t>(), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(j[1].get<std::int64_t>(), std::numeric_limits<std::int64_t>::max());
}

TEST(Writer, RawIsInsertedAsAValue) {
  std::string out;
  Writer(out).BeginObject().Key("payload").Raw(R"({"x":[1,2]})").Key("n").Int(1).EndObject();
  EXPECT_EQ(out, R"({"payload":{"x":[1,2]},"n":1})");
  std::string arr;
  Writer(arr).BeginArray().Raw("true").Raw("1.5").EndArray();
  EXPECT_EQ(arr, "[true,1.5]");
}

TEST(Writer, KeysAreEscaped) {
  std::string out;
  Writer(out).BeginObject().Key("a\"b").Int(1).Key("c\\d\n").Int(2).EndObject();
  EXPECT_EQ(Parse(out), (json{{"a\"b", 1}, {"c\\d\n", 2}})) << out;
}

TEST(Writer, AppendsToExistingText) {
  std::string out = "prefix:";
  Writer(out).BeginArray().Int(1).EndArray();
  EXPECT_EQ(out, "prefix:[1]") << "the writer appends, never clears";
}

// -------------------------------------------------------- AppendQuoted ----

struct QuoteCase {
  const char* name;
  std::string input;
  std::string expected;  // exact output, quotes included
};

class AppendQuotedTable : public testing::TestWithParam<QuoteCase> {};

TEST_P(AppendQuotedTable, EscapesExactly) {
  const auto& c = GetParam();
  auto out = Quoted(c.input);
  EXPECT_EQ(out, c.expected) << c.name;
  auto parsed = Parse(out);
  ASSERT_TRUE(parsed.is_string()) << c.name << ": " << out;
}

INSTANTIATE_TEST_SUITE_P(
    Table, AppendQuotedTable,
    testing::Values(
        QuoteCase{"empty", "", R"("")"}, QuoteCase{"plain", "hello world", R"("hello world")"},
        QuoteCase{"quote", R"(say "hi")", R"("say \"hi\"")"}, QuoteCase{"backslash", R"(C:\dir\)", R"("C:\\dir\\")"},
        QuoteCase{"slash_not_escaped", "a/b", R"("a/b")"}, QuoteCase{"newline_cr_tab", "a\nb\rc\td", R"("a\nb\rc\td")"},
        QuoteCase{"u0001", "\x01", R"("\u0001")"}, QuoteCase{"u001f", "\x1f", R"("\u001f")"},
        QuoteCase{"backspace_formfeed", "\b\f", R"("\u0008\u000c")"},
        QuoteCase{"escape_sequence", "\x1b[0m", R"("\u001b[0m")"}, QuoteCase{"del_kept", "\x7f", "\"\x7f\""},
        QuoteCase{"nul_to_replacement", std::string("a\0b", 3), R"("a\ufffdb")"},
        QuoteCase{"only_nul", std::string(1, '\0'), R"("\ufffd")"},
        QuoteCase{"emoji_verbatim", "hi \xF0\x9F\x98\x80!", "\"hi \xF0\x9F\x98\x80!\""},
        QuoteCase{"accents_verbatim", "caf\xC3\xA9", "\"caf\xC3\xA9\""},
        QuoteCase{"escape_at_both_ends", "\"x\"", R"("\"x\"")"}),
    [](const testing::TestParamInfo<QuoteCase>& info) { return std::string(info.param.name); });

TEST(AppendQuoted, EveryControlCharacterRoundTrips) {
  for (int c = 1; c < 0x20; ++c) {
    std::string input = "a" + std::string(1, static_cast<char>(c)) + "b";
    auto out = Quoted(input);
    for (unsigned char byte : out) {
      EXPECT_GE(byte, 0x20) << "control character 0x" << std::hex << c << " must be escaped, got " << out;
    }
    EXPECT_EQ(Parse(out), input) << "control character 0x" << std::hex << c;
  }
}

TEST(AppendQuoted, NulBecomesUPlusFffd) {
  auto out = Quoted(std::string("x\0y\0", 4));
  EXPECT_EQ(Parse(out).get<std::string>(), "x\xEF\xBF\xBDy\xEF\xBF\xBD") << "each NUL becomes U+FFFD: " << out;
}

TEST(AppendQuoted, AllPrintableAsciiRoundTrips) {
  std::string input;
  for (int c = 0x20; c < 0x7f; ++c) input.push_back(static_cast<char>(c));
  EXPECT_EQ(Parse(Quoted(input)), input);
}

TEST(AppendQuoted, AppendsToExistingText) {
  std::string out = "[";
  AppendQuoted(out, "a");
  out += ",";
  AppendQuoted(out, "b\"");
  out += "]";
  EXPECT_EQ(out, R"(["a","b\""])");
}

}  // namespace
}  // namespace sb::json
