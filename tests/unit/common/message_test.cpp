// The handler-facing request/response types and the JSON error body.
#include "sb/common/http/message.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace sb::http {
namespace {

using nlohmann::json;

int CountHeaders(const Response& r, std::string_view name) {
  int n = 0;
  for (const auto& [k, v] : r.headers) n += k == name ? 1 : 0;
  return n;
}

std::string HeaderValue(const Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

json ParseBody(const Response& r) {
  auto j = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "body is not valid JSON: " << r.body;
  return j;
}

// -------------------------------------------------------- ErrorResponse ----

struct ErrorCase {
  const char* name;
  int status;
  std::string code;
  std::string message;
};

class ErrorBody : public testing::TestWithParam<ErrorCase> {};

TEST_P(ErrorBody, ErrorResponseIsExactlyTheErrorObject) {
  const auto& c = GetParam();
  auto r = ErrorResponse(c.status, c.code, c.message);
  EXPECT_EQ(r.status, c.status);
  EXPECT_EQ(r.content_type, "application/json");
  json expected = {{"error", {{"code", c.code}, {"message", c.message}}}};
  EXPECT_EQ(ParseBody(r), expected) << c.name << ": body " << r.body;
  EXPECT_EQ(CountHeaders(r, "Retry-After"), 0) << "ErrorResponse never adds Retry-After";
}

TEST_P(ErrorBody, HttpErrorToResponseIsTheSameBody) {
  const auto& c = GetParam();
  HttpError error(c.status, c.code, c.message);
  auto r = error.ToResponse();
  EXPECT_EQ(r.status, c.status);
  EXPECT_EQ(r.content_type, "application/json");
  json expected = {{"error", {{"code", c.code}, {"message", c.message}}}};
  EXPECT_EQ(ParseBody(r), expected) << c.name << ": body " << r.body;
  EXPECT_EQ(r.body, ErrorResponse(c.status, c.code, c.message).body) << "one function renders every error body";
  EXPECT_TRUE(r.headers.empty()) << "no headers expected without WithRetryAfter, got " << r.headers.size();
}

INSTANTIATE_TEST_SUITE_P(
    Table, ErrorBody,
    testing::Values(ErrorCase{"bad_request", 400, "invalid_json", "request body must be a JSON object"},
                    ErrorCase{"not_found", 404, "not_found", "no such conversation"},
                    ErrorCase{"service_unavailable", 503, "overloaded", "try again"},
                    ErrorCase{"quotes_and_backslashes", 400, "invalid_field", R"('name' has "quotes" and \ slash)"},
                    ErrorCase{"control_characters", 400, "invalid_field", "line1\nline2\t\x01"},
                    ErrorCase{"utf8", 400, "invalid_field", "caf\xC3\xA9 \xF0\x9F\x98\x80"},
                    ErrorCase{"empty_message", 500, "internal", ""}),
    [](const testing::TestParamInfo<ErrorCase>& info) { return std::string(info.param.name); });

TEST(ErrorResponse, InvalidUtf8InTheMessageDoesNotThrow) {
  Response r;
  ASSERT_NO_THROW(r = ErrorResponse(400, "invalid_field", "bad \xff byte"));
  auto j = ParseBody(r);
  ASSERT_TRUE(j.contains("error")) << r.body;
  EXPECT_EQ(j["error"]["code"], "invalid_field");
  EXPECT_EQ(j["error"]["message"], "bad \xEF\xBF\xBD byte") << "invalid byte expected as U+FFFD";
}

TEST(HttpError, WithRetryAfterAddsExactlyOneHeader) {
  auto r = HttpError(503, "overloaded", "busy").WithRetryAfter(30).ToResponse();
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(CountHeaders(r, "Retry-After"), 1) << "expected one Retry-After header";
  EXPECT_EQ(HeaderValue(r, "Retry-After"), "30");
  EXPECT_EQ(r.headers.size(), 1u) << "Retry-After should be the only header";
  json expected = {{"error", {{"code", "overloaded"}, {"message", "busy"}}}};
  EXPECT_EQ(ParseBody(r), expected) << "Retry-After must not change the body";
}

TEST(HttpError, RetryAfterZeroIsStillSent) {
  auto r = HttpError(429, "rate_limited", "slow down").WithRetryAfter(0).ToResponse();
  EXPECT_EQ(HeaderValue(r, "Retry-After"), "0") << "WithRetryAfter(0) was called, so the header must be present";
}

TEST(HttpError, LastWithRetryAfterWins) {
  HttpError error(503, "overloaded", "busy");
  error.WithRetryAfter(5).WithRetryAfter(7);
  auto r = error.ToResponse();
  EXPECT_EQ(CountHeaders(r, "Retry-After"), 1);
  EXPECT_EQ(HeaderValue(r, "Retry-After"), "7");
}

TEST(HttpError, AccessorsAndWhat) {
  HttpError error(409, "conflict", "already exists");
  EXPECT_EQ(error.status(), 409);
  EXPECT_EQ(error.code(), "conflict");
  EXPECT_EQ(error.message(), "already exists");
  EXPECT_STREQ(error.what(), "already exists");
  EXPECT_EQ(error.retry_after_s(), std::nullopt);
  error.WithRetryAfter(3);
  EXPECT_EQ(error.retry_after_s(), 3);
}

TEST(Response, FactoriesSetStatusAndContentType) {
  auto j = Response::Json(201, json{{"id", 5}});
  EXPECT_EQ(j.status, 201);
  EXPECT_EQ(j.content_type, "application/json");
  EXPECT_EQ(ParseBody(j), (json{{"id", 5}}));

  auto t = Response::Text(200, "ok");
  EXPECT_EQ(t.body, "ok");
  EXPECT_EQ(t.content_type, "text/plain; charset=utf-8");

  auto e = Response::Empty(204);
  EXPECT_EQ(e.status, 204);
  EXPECT_TRUE(e.body.empty());
  EXPECT_TRUE(e.content_type.empty()) << "an empty response has no content type";
}

// -------------------------------------------------------------- Request ----

TEST(Request, HeaderReturnsTheFirstMatchOrEmpty) {
  Request req;
  req.headers = {{"content-type", "application/json"}, {"x-dup", "first"}, {"x-dup", "second"}, {"x-empty", ""}};
  EXPECT_EQ(req.Header("content-type"), "application/json");
  EXPECT_EQ(req.Header("x-dup"), "first") << "the first of repeated headers is returned";
  EXPECT_EQ(req.Header("x-empty"), "");
  EXPECT_EQ(req.Header("x-missing"), "") << "a missing header is empty";
}

TEST(Request, QueryDistinguishesAbsentFromEmpty) {
  Request req;
  req.query = {{"limit", "10"}, {"empty", ""}, {"limit", "20"}};
  EXPECT_EQ(req.Query("limit"), "10") << "the first occurrence wins";
  auto empty = req.Query("empty");
  ASSERT_TRUE(empty.has_value()) << "?empty= is present with an empty value";
  EXPECT_EQ(*empty, "");
  EXPECT_EQ(req.Query("missing"), std::nullopt);
  EXPECT_EQ(req.Query("LIMIT"), std::nullopt) << "query names are case-sensitive";
}

TEST(Request, ParamReturnsTheValueOrEmpty) {
  Request req;
  req.params = {{"id", "42"}, {"message_id", "7"}};
  EXPECT_EQ(req.Param("id"), "42");
  EXPECT_EQ(req.Param("message_id"), "7");
  EXPECT_EQ(req.Param("missing"), "");
}

struct BearerCase {
  const char* name;
  std::optional<std::string> authorization;
  std::string expected;
};

class BearerToken : public testing::TestWithParam<BearerCase> {};

TEST_P(BearerToken, Extracts) {
  const auto& c = GetParam();
  Request req;
  req.headers.emplace_back("x-other", "Bearer not-this-one");
  if (c.authorization) req.headers.emplace_back("authorization", *c.authorization);
  EXPECT_EQ(req.BearerToken(), c.expected)
      << c.name << ": Authorization '" << c.authorization.value_or("<absent>") << "'";
}

INSTANTIATE_TEST_SUITE_P(
    Table, BearerToken,
    testing::Values(BearerCase{"canonical", "Bearer abc123", "abc123"},
                    BearerCase{"lower_case_scheme", "bearer abc123", "abc123"},
                    BearerCase{"upper_case_scheme", "BEARER abc123", "abc123"},
                    BearerCase{"mixed_case_scheme", "bEaReR abc123", "abc123"},
                    BearerCase{"surrounding_spaces", "Bearer    abc123   ", "abc123"},
                    BearerCase{"token_with_symbols", "Bearer sbk_A-b_c.d~e+f/g=", "sbk_A-b_c.d~e+f/g="},
                    BearerCase{"basic_scheme", "Basic dXNlcjpwYXNz", ""}, BearerCase{"basic_x", "Basic x", ""},
                    BearerCase{"scheme_alone", "Bearer", ""}, BearerCase{"scheme_and_space", "Bearer ", ""},
                    BearerCase{"scheme_and_spaces", "Bearer     ", ""},
                    BearerCase{"no_space_after_scheme", "Bearerabc123", ""}, BearerCase{"empty_header", "", ""},
                    BearerCase{"absent_header", std::nullopt, ""}),
    [](const testing::TestParamInfo<BearerCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace sb::http
