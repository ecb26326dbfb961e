// Validation of /v1 request bodies, query integers and path ids.
#include "sb/common/http/json_body.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

namespace sb::http {
namespace {

Request WithBody(std::string body) {
  Request req;
  req.method = "POST";
  req.body = std::move(body);
  return req;
}

/// Runs `fn` and checks it throws HttpError(status, code) whose message
/// contains `message_part`.
void ExpectHttpError(const std::function<void()>& fn, int status, std::string_view code, std::string_view message_part,
                     const std::string& context) {
  try {
    fn();
  } catch (const HttpError& e) {
    EXPECT_EQ(e.status(), status) << context << ": message '" << e.message() << "'";
    EXPECT_EQ(e.code(), code) << context << ": message '" << e.message() << "'";
    EXPECT_NE(e.message().find(message_part), std::string::npos)
        << context << ": expected the message to mention '" << message_part << "', got '" << e.message() << "'";
    return;
  } catch (const std::exception& e) {
    ADD_FAILURE() << context << ": expected HttpError " << status << " " << code
                  << ", got another exception: " << e.what();
    return;
  }
  ADD_FAILURE() << context << ": expected HttpError " << status << " " << code << ", nothing was thrown";
}

// ------------------------------------------------------- construction ----

TEST(JsonBody, AcceptsAnObjectWithAllowedFields) {
  auto req = WithBody(R"({"name":"Ada","limit":5})");
  JsonBody body(req, {"name", "limit", "extra"});
  EXPECT_TRUE(body.Has("name"));
  EXPECT_FALSE(body.Has("extra")) << "an allowed but absent field is not present";
  EXPECT_EQ(body.json()["limit"], 5);
}

TEST(JsonBody, EmptyObjectIsAccepted) {
  auto req = WithBody("{}");
  EXPECT_NO_THROW(JsonBody(req, {}));
}

TEST(JsonBody, UnknownFieldIsRefusedByName) {
  auto req = WithBody(R"({"name":"Ada","colour":"red"})");
  ExpectHttpError([&] { JsonBody(req, {"name", "limit"}); }, 400, "unknown_field", "'colour'", "unknown field");
}

TEST(JsonBody, UnknownFieldMessageListsTheAllowedFields) {
  auto req = WithBody(R"({"x":1})");
  ExpectHttpError([&] { JsonBody(req, {"name", "limit"}); }, 400, "unknown_field", "name, limit", "allowed list");
}

TEST(JsonBody, AnyFieldIsUnknownWhenNoneAreAllowed) {
  auto req = WithBody(R"({"a":null})");
  ExpectHttpError([&] { JsonBody(req, {}); }, 400, "unknown_field", "'a'", "nothing allowed");
}

TEST(JsonBody, FieldNamesAreCaseSensitive) {
  auto req = WithBody(R"({"Name":"Ada"})");
  ExpectHttpError([&] { JsonBody(req, {"name"}); }, 400, "unknown_field", "'Name'", "case");
}

struct BadBodyCase {
  const char* name;
  std::string body;
};

class JsonBodyInvalid : public testing::TestWithParam<BadBodyCase> {};

TEST_P(JsonBodyInvalid, IsInvalidJson) {
  auto req = WithBody(GetParam().body);
  ExpectHttpError([&] { JsonBody(req, {"a"}); }, 400, "invalid_json", "", GetParam().name);
}

INSTANTIATE_TEST_SUITE_P(Table, JsonBodyInvalid,
                         testing::Values(BadBodyCase{"empty", ""}, BadBodyCase{"syntax", R"({"a":)"},
                                         BadBodyCase{"trailing_garbage", R"({"a":1} x)"},
                                         BadBodyCase{"invalid_utf8", "{\"a\":\"\xff\"}"}, BadBodyCase{"array", "[1,2]"},
                                         BadBodyCase{"string", R"("a")"}, BadBodyCase{"number", "42"},
                                         BadBodyCase{"null", "null"}, BadBodyCase{"true", "true"}),
                         [](const testing::TestParamInfo<BadBodyCase>& info) { return std::string(info.param.name); });

TEST(JsonBody, NotAnObjectSaysSo) {
  auto req = WithBody("[]");
  ExpectHttpError([&] { JsonBody(req, {}); }, 400, "invalid_json", "must be a JSON object", "array body");
}

// ------------------------------------------------------------- strings ----

TEST(JsonBody, RequiredStringReturnsTheValue) {
  auto req = WithBody(R"({"name":"caf\u00e9 \ud83d\ude00","note":"tab\there\nnewline"})");
  JsonBody body(req, {"name", "note"});
  EXPECT_EQ(body.RequiredString("name"), "caf\xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(body.RequiredString("note"), "tab\there\nnewline") << "tab and newline are allowed";
}

TEST(JsonBody, RequiredStringMissingOrNullIsMissingField) {
  auto req = WithBody(R"({"other":null})");
  JsonBody body(req, {"name", "other"});
  ExpectHttpError([&] { body.RequiredString("name"); }, 400, "missing_field", "'name'", "absent");
  ExpectHttpError([&] { body.RequiredString("other"); }, 400, "missing_field", "'other'", "null");
}

struct WrongStringCase {
  const char* name;
  std::string value;  // JSON text of the field's value
  std::string message_part;
};

class RequiredStringInvalid : public testing::TestWithParam<WrongStringCase> {};

TEST_P(RequiredStringInvalid, IsInvalidFieldNamingTheField) {
  auto req = WithBody(R"({"title":)" + GetParam().value + "}");
  JsonBody body(req, {"title"});
  ExpectHttpError([&] { body.RequiredString("title", 10); }, 400, "invalid_field", "'title'", GetParam().name);
  ExpectHttpError([&] { body.RequiredString("title", 10); }, 400, "invalid_field", GetParam().message_part,
                  GetParam().name);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RequiredStringInvalid,
    testing::Values(WrongStringCase{"number", "5", "must be a string"},
                    WrongStringCase{"bool", "true", "must be a string"},
                    WrongStringCase{"array", R"(["a"])", "must be a string"},
                    WrongStringCase{"object", R"({"a":"b"})", "must be a string"},
                    WrongStringCase{"empty", R"("")", "must not be empty"},
                    WrongStringCase{"eleven_bytes", R"("abcdefghijk")", "at most 10 bytes"},
                    WrongStringCase{"six_two_byte_chars", "\"\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\"",
                                    "at most 10 bytes"},
                    WrongStringCase{"control_u0001", R"("a\u0001b")", "control characters"},
                    WrongStringCase{"control_escape", R"("\u001b[31m")", "control characters"},
                    WrongStringCase{"control_nul", R"("a\u0000b")", "control characters"},
                    WrongStringCase{"control_backspace", R"("a\bb")", "control characters"}),
    [](const testing::TestParamInfo<WrongStringCase>& info) { return std::string(info.param.name); });

TEST(JsonBody, RequiredStringAtExactlyMaxLengthIsAccepted) {
  auto req = WithBody(R"({"title":"abcdefghij"})");
  JsonBody body(req, {"title"});
  EXPECT_EQ(body.RequiredString("title", 10), "abcdefghij");
}

TEST(JsonBody, OptionalStringAbsentOrNullIsNullopt) {
  auto req = WithBody(R"({"a":null})");
  JsonBody body(req, {"a", "b"});
  EXPECT_EQ(body.OptionalString("a"), std::nullopt) << "null means absent";
  EXPECT_EQ(body.OptionalString("b"), std::nullopt) << "absent";
}

TEST(JsonBody, OptionalStringStillValidatesWhenPresent) {
  auto req = WithBody(R"({"a":7})");
  JsonBody body(req, {"a"});
  ExpectHttpError([&] { body.OptionalString("a"); }, 400, "invalid_field", "'a' must be a string", "number");
}

// --------------------------------------------------------------- enums ----

TEST(JsonBody, RequiredEnumAcceptsAChoice) {
  auto req = WithBody(R"({"status":"closed"})");
  JsonBody body(req, {"status"});
  EXPECT_EQ(body.RequiredEnum("status", {"open", "closed", "snoozed"}), "closed");
}

TEST(JsonBody, RequiredEnumRefusesOtherValuesListingTheChoices) {
  auto req = WithBody(R"({"status":"Closed"})");
  JsonBody body(req, {"status"});
  ExpectHttpError(
      [&] {
        body.RequiredEnum("status", {"open", "closed"});
      },
      400, "invalid_field", "'status'", "case differs");
  ExpectHttpError(
      [&] {
        body.RequiredEnum("status", {"open", "closed"});
      },
      400, "invalid_field", "must be one of: open, closed", "choices listed");
}

TEST(JsonBody, RequiredEnumMissingAndWrongType) {
  auto req = WithBody(R"({"kind":1})");
  JsonBody body(req, {"status", "kind"});
  ExpectHttpError([&] { body.RequiredEnum("status", {"a"}); }, 400, "missing_field", "'status'", "absent");
  ExpectHttpError([&] { body.RequiredEnum("kind", {"a"}); }, 400, "invalid_field", "'kind' must be a string", "number");
}

// ------------------------------------------------------------- integers ----

TEST(JsonBody, OptionalIntAbsentOrNullIsNullopt) {
  auto req = WithBody(R"({"n":null})");
  JsonBody body(req, {"n", "m"});
  EXPECT_EQ(body.OptionalInt("n", 0, 10), std::nullopt);
  EXPECT_EQ(body.OptionalInt("m", 0, 10), std::nullopt);
}

struct IntCase {
  const char* name;
  std::string value;  // JSON text
  std::int64_t min;
  std::int64_t max;
  std::optional<std::int64_t> expected;  // nullopt: 400 invalid_field
};

class OptionalIntTable : public testing::TestWithParam<IntCase> {};

TEST_P(OptionalIntTable, ChecksTypeAndRange) {
  const auto& c = GetParam();
  auto req = WithBody(R"({"limit":)" + c.value + "}");
  JsonBody body(req, {"limit"});
  if (c.expected) {
    std::optional<std::int64_t> got;
    ASSERT_NO_THROW(got = body.OptionalInt("limit", c.min, c.max)) << c.name;
    EXPECT_EQ(got, c.expected) << c.name << ": value " << c.value;
  } else {
    ExpectHttpError([&] { body.OptionalInt("limit", c.min, c.max); }, 400, "invalid_field", "'limit'",
                    std::string(c.name) + " (value " + c.value + ")");
  }
}

constexpr auto kMin64 = std::numeric_limits<std::int64_t>::min();
constexpr auto kMax64 = std::numeric_limits<std::int64_t>::max();

INSTANTIATE_TEST_SUITE_P(
    Table, OptionalIntTable,
    testing::Values(IntCase{"in_range", "5", 1, 100, 5}, IntCase{"at_min", "1", 1, 100, 1},
                    IntCase{"at_max", "100", 1, 100, 100}, IntCase{"below_min", "0", 1, 100, std::nullopt},
                    IntCase{"above_max", "101", 1, 100, std::nullopt}, IntCase{"negative_in_range", "-5", -10, 10, -5},
                    IntCase{"negative_below_min", "-11", -10, 10, std::nullopt},
                    IntCase{"float", "1.5", 0, 100, std::nullopt}, IntCase{"whole_float", "2.0", 0, 100, std::nullopt},
                    IntCase{"exponent", "1e2", 0, 1000, std::nullopt},
                    IntCase{"string", R"("5")", 0, 100, std::nullopt}, IntCase{"bool", "true", 0, 100, std::nullopt},
                    IntCase{"array", "[5]", 0, 100, std::nullopt},
                    IntCase{"int64_max", "9223372036854775807", 0, kMax64, kMax64},
                    IntCase{"int64_min", "-9223372036854775808", kMin64, 0, kMin64},
                    IntCase{"just_above_int64", "9223372036854775808", 0, kMax64, std::nullopt},
                    IntCase{"huge_unsigned", "18446744073709551615", 0, kMax64, std::nullopt},
                    IntCase{"huge_unsigned_small_range", "18446744073709551615", 0, 100, std::nullopt},
                    IntCase{"beyond_uint64", "18446744073709551616", 0, kMax64, std::nullopt}),
    [](const testing::TestParamInfo<IntCase>& info) { return std::string(info.param.name); });

TEST(JsonBody, OptionalIntRangeMessageNamesTheBounds) {
  auto req = WithBody(R"({"limit":0})");
  JsonBody body(req, {"limit"});
  ExpectHttpError([&] { body.OptionalInt("limit", 1, 100); }, 400, "invalid_field", "from 1 to 100", "range");
}

TEST(JsonBody, RequiredIntMissingIsMissingField) {
  auto req = WithBody("{}");
  JsonBody body(req, {"limit"});
  ExpectHttpError([&] { body.RequiredInt("limit", 0, 10); }, 400, "missing_field", "'limit'", "absent");
}

// A huge unsigned value must not wrap around into a negative range
// (18446744073709551615 as int64 is -1).
TEST(JsonBody, OptionalIntHugeUnsignedWithNegativeRangeIsRefused) {
  auto req = WithBody(R"({"offset":18446744073709551615})");
  JsonBody body(req, {"offset"});
  ExpectHttpError([&] { body.OptionalInt("offset", -10, -1); }, 400, "invalid_field", "'offset'",
                  "2^64-1 must not wrap to -1");
}

// --------------------------------------------------------------- bools ----

TEST(JsonBody, OptionalBool) {
  auto req = WithBody(R"({"t":true,"f":false,"n":null,"s":"true","i":1})");
  JsonBody body(req, {"t", "f", "n", "s", "i", "absent"});
  EXPECT_EQ(body.OptionalBool("t"), true);
  EXPECT_EQ(body.OptionalBool("f"), false);
  EXPECT_EQ(body.OptionalBool("n"), std::nullopt) << "null means absent";
  EXPECT_EQ(body.OptionalBool("absent"), std::nullopt);
  ExpectHttpError([&] { body.OptionalBool("s"); }, 400, "invalid_field", "'s' must be true or false", "string");
  ExpectHttpError([&] { body.OptionalBool("i"); }, 400, "invalid_field", "'i' must be true or false", "number");
}

// ------------------------------------------------------------ QueryInt ----

struct QueryCase {
  const char* name;
  std::optional<std::string> value;  // nullopt: parameter absent
  std::optional<std::int64_t> expected;
  bool throws;
};

class QueryIntTable : public testing::TestWithParam<QueryCase> {};

TEST_P(QueryIntTable, ParsesOrRefuses) {
  const auto& c = GetParam();
  Request req;
  req.query.emplace_back("other", "x");
  if (c.value) req.query.emplace_back("limit", *c.value);
  if (c.throws) {
    ExpectHttpError([&] { QueryInt(req, "limit", 1, 500); }, 400, "invalid_field", "'limit'",
                    std::string(c.name) + " (?limit=" + c.value.value_or("<absent>") + ")");
  } else {
    std::optional<std::int64_t> got;
    ASSERT_NO_THROW(got = QueryInt(req, "limit", 1, 500)) << c.name;
    EXPECT_EQ(got, c.expected) << c.name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, QueryIntTable,
    testing::Values(
        QueryCase{"absent", std::nullopt, std::nullopt, false}, QueryCase{"empty_is_absent", "", std::nullopt, false},
        QueryCase{"value", "50", 50, false}, QueryCase{"at_min", "1", 1, false}, QueryCase{"at_max", "500", 500, false},
        QueryCase{"below_min", "0", std::nullopt, true}, QueryCase{"above_max", "501", std::nullopt, true},
        QueryCase{"negative", "-1", std::nullopt, true}, QueryCase{"not_a_number", "abc", std::nullopt, true},
        QueryCase{"trailing_garbage", "12abc", std::nullopt, true}, QueryCase{"float", "1.5", std::nullopt, true},
        QueryCase{"plus_sign", "+5", std::nullopt, true}, QueryCase{"leading_space", " 5", std::nullopt, true},
        QueryCase{"overflow", "99999999999999999999", std::nullopt, true}),
    [](const testing::TestParamInfo<QueryCase>& info) { return std::string(info.param.name); });

TEST(QueryInt, MessageNamesTheRange) {
  Request req;
  req.query.emplace_back("limit", "abc");
  ExpectHttpError([&] { QueryInt(req, "limit", 1, 500); }, 400, "invalid_field", "from 1 to 500", "range in message");
}

// -------------------------------------------------------------- PathId ----

struct PathIdCase {
  const char* name;
  std::optional<std::string> value;      // nullopt: parameter absent
  std::optional<std::int64_t> expected;  // nullopt: 404 not_found
};

class PathIdTable : public testing::TestWithParam<PathIdCase> {};

TEST_P(PathIdTable, ParsesOrIsNotFound) {
  const auto& c = GetParam();
  Request req;
  if (c.value) req.params.emplace_back("conversation", *c.value);
  if (c.expected) {
    std::int64_t got = 0;
    ASSERT_NO_THROW(got = PathId(req, "conversation")) << c.name;
    EXPECT_EQ(got, *c.expected) << c.name;
  } else {
    ExpectHttpError([&] { PathId(req, "conversation"); }, 404, "not_found", "conversation",
                    std::string(c.name) + " (" + c.value.value_or("<absent>") + ")");
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, PathIdTable,
    testing::Values(PathIdCase{"one", "1", 1}, PathIdCase{"large", "9223372036854775807", kMax64},
                    PathIdCase{"absent", std::nullopt, std::nullopt}, PathIdCase{"empty", "", std::nullopt},
                    PathIdCase{"non_numeric", "abc", std::nullopt},
                    PathIdCase{"trailing_garbage", "12abc", std::nullopt}, PathIdCase{"zero", "0", std::nullopt},
                    PathIdCase{"negative", "-3", std::nullopt}, PathIdCase{"float", "1.5", std::nullopt},
                    PathIdCase{"overflow", "9223372036854775808", std::nullopt}),
    [](const testing::TestParamInfo<PathIdCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace sb::http
