// Route table: patterns with {params}, exact methods, 404 vs 405, limits.
#include "sb/common/http/router.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>
#include <string>
#include <utility>
#include <vector>

namespace sb::http {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

/// A handler that answers with `tag` as its body, so a test can tell which
/// route was matched.
Handler Tagged(std::string tag) {
  return [tag = std::move(tag)](Request&) -> boost::asio::awaitable<Response> { co_return Response::Text(200, tag); };
}

std::string CallHandler(const Handler& handler) {
  boost::asio::io_context io;
  Request req;
  std::string body;
  std::exception_ptr error;
  boost::asio::co_spawn(io, handler(req), [&](std::exception_ptr e, Response r) {
    error = e;
    body = std::move(r.body);
  });
  io.run();
  if (error) std::rethrow_exception(error);
  return body;
}

class RouterTest : public testing::Test {
 protected:
  void SetUp() override {
    router_.Add("GET", "/healthz", Tagged("health"));
    router_.Add("GET", "/v1/conversations", Tagged("list_conversations"));
    router_.Add("GET", "/v1/conversations/{id}", Tagged("get_conversation"));
    router_.Add("PATCH", "/v1/conversations/{id}", Tagged("patch_conversation"), 4096);
    router_.Add("GET", "/v1/conversations/{id}/messages", Tagged("list_messages"));
    router_.Add("POST", "/v1/conversations/{id}/messages", Tagged("send_message"));
    router_.Add("GET", "/v1/conversations/{conversation_id}/messages/{message_id}", Tagged("get_message"));
    router_.Add("POST", "/webhooks/{channel}/{business_id}", Tagged("webhook"), kWebhookBodyLimit);
  }

  Router router_;
};

struct FindCase {
  const char* name;
  const char* method;
  const char* path;
  const char* tag;  // expected handler; null: no handler
  const char* pattern;
  Params params;
};

class RouterFind : public RouterTest, public testing::WithParamInterface<FindCase> {};

TEST_P(RouterFind, MatchesTheExpectedRoute) {
  const auto& c = GetParam();
  auto m = router_.Find(c.method, c.path);
  ASSERT_NE(m.handler, nullptr) << c.name << ": expected " << c.method << " " << c.path << " to reach " << c.tag;
  EXPECT_EQ(CallHandler(*m.handler), c.tag) << c.name << ": wrong handler for " << c.method << " " << c.path;
  EXPECT_EQ(m.pattern, c.pattern) << c.name;
  EXPECT_EQ(m.params, c.params) << c.name << ": path parameters";
}

INSTANTIATE_TEST_SUITE_P(
    Table, RouterFind,
    testing::Values(
        FindCase{"literal", "GET", "/healthz", "health", "/healthz", {}},
        FindCase{"collection", "GET", "/v1/conversations", "list_conversations", "/v1/conversations", {}},
        FindCase{
            "one_param", "GET", "/v1/conversations/42", "get_conversation", "/v1/conversations/{id}", {{"id", "42"}}},
        FindCase{"same_path_other_method",
                 "PATCH",
                 "/v1/conversations/42",
                 "patch_conversation",
                 "/v1/conversations/{id}",
                 {{"id", "42"}}},
        FindCase{"param_then_literal",
                 "POST",
                 "/v1/conversations/7/messages",
                 "send_message",
                 "/v1/conversations/{id}/messages",
                 {{"id", "7"}}},
        FindCase{"two_params",
                 "GET",
                 "/v1/conversations/7/messages/99",
                 "get_message",
                 "/v1/conversations/{conversation_id}/messages/{message_id}",
                 {{"conversation_id", "7"}, {"message_id", "99"}}},
        FindCase{"param_takes_any_segment",
                 "GET",
                 "/v1/conversations/not-a-number",
                 "get_conversation",
                 "/v1/conversations/{id}",
                 {{"id", "not-a-number"}}},
        FindCase{"trailing_slash", "GET", "/v1/conversations/", "list_conversations", "/v1/conversations", {}},
        FindCase{"trailing_slash_with_param",
                 "GET",
                 "/v1/conversations/42/",
                 "get_conversation",
                 "/v1/conversations/{id}",
                 {{"id", "42"}}},
        FindCase{"double_slashes",
                 "GET",
                 "//v1//conversations//42",
                 "get_conversation",
                 "/v1/conversations/{id}",
                 {{"id", "42"}}},
        FindCase{"no_leading_slash", "GET", "healthz", "health", "/healthz", {}},
        FindCase{"webhook",
                 "POST",
                 "/webhooks/messenger/123",
                 "webhook",
                 "/webhooks/{channel}/{business_id}",
                 {{"channel", "messenger"}, {"business_id", "123"}}}),
    [](const testing::TestParamInfo<FindCase>& info) { return std::string(info.param.name); });

struct MissCase {
  const char* name;
  const char* method;
  const char* path;
  bool path_known;  // true: 405, false: 404
};

class RouterMiss : public RouterTest, public testing::WithParamInterface<MissCase> {};

TEST_P(RouterMiss, HasNoHandler) {
  const auto& c = GetParam();
  auto m = router_.Find(c.method, c.path);
  EXPECT_EQ(m.handler, nullptr) << c.name << ": " << c.method << " " << c.path << " must not match";
  EXPECT_EQ(m.path_known, c.path_known) << c.name << ": expected "
                                        << (c.path_known ? "405 (path exists with another method)"
                                                         : "404 (unknown path)");
  EXPECT_TRUE(m.params.empty()) << c.name << ": no params without a match";
  EXPECT_TRUE(m.pattern.empty()) << c.name << ": no pattern without a match";
}

INSTANTIATE_TEST_SUITE_P(
    Table, RouterMiss,
    testing::Values(MissCase{"unknown_path", "GET", "/nope", false}, MissCase{"root", "GET", "/", false},
                    MissCase{"empty", "GET", "", false}, MissCase{"prefix_of_a_route", "GET", "/v1", false},
                    MissCase{"longer_than_any_route", "GET", "/v1/conversations/1/messages/2/x", false},
                    MissCase{"literal_segment_differs", "GET", "/v1/conversation/1", false},
                    MissCase{"literal_is_case_sensitive", "GET", "/V1/conversations", false},
                    MissCase{"method_not_allowed", "DELETE", "/v1/conversations/42", true},
                    MissCase{"post_on_get_only", "POST", "/healthz", true},
                    MissCase{"get_on_post_only", "GET", "/webhooks/whatsapp/9", true},
                    MissCase{"method_is_case_sensitive", "get", "/healthz", true},
                    MissCase{"head_is_not_get", "HEAD", "/healthz", true}),
    [](const testing::TestParamInfo<MissCase>& info) { return std::string(info.param.name); });

TEST_F(RouterTest, BodyLimitIsPerRoute) {
  EXPECT_EQ(router_.Find("GET", "/v1/conversations/1").body_limit, kApiBodyLimit) << "default limit";
  EXPECT_EQ(router_.Find("PATCH", "/v1/conversations/1").body_limit, 4096u) << "explicit limit of the PATCH route";
  EXPECT_EQ(router_.Find("POST", "/webhooks/messenger/1").body_limit, kWebhookBodyLimit);
}

TEST_F(RouterTest, BodyLimitOfA405IsTheLargestOfThePathsRoutes) {
  // The server reads (and discards) the body before answering 405; it must
  // not answer 413 for a body one of the path's routes would accept.
  auto m = router_.Find("PUT", "/webhooks/messenger/1");
  EXPECT_TRUE(m.path_known);
  EXPECT_EQ(m.body_limit, kWebhookBodyLimit);
}

TEST_F(RouterTest, BodyLimitOfA404IsTheDefault) { EXPECT_EQ(router_.Find("POST", "/nope").body_limit, kApiBodyLimit); }

TEST(Router, FirstAddedRouteWinsWhenPatternsOverlap) {
  Router router;
  router.Add("GET", "/v1/items/{id}", Tagged("by_id"));
  router.Add("GET", "/v1/items/search", Tagged("search"));
  auto m = router.Find("GET", "/v1/items/search");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(CallHandler(*m.handler), "by_id") << "routes are tried in the order they were added";
}

TEST(Router, ALaterRouteWithTheRightMethodIsFound) {
  Router router;
  router.Add("GET", "/v1/items/{id}", Tagged("get"), 10);
  router.Add("DELETE", "/v1/items/{id}", Tagged("delete"), 20);
  auto m = router.Find("DELETE", "/v1/items/3");
  ASSERT_NE(m.handler, nullptr) << "the DELETE route follows a GET route with the same pattern";
  EXPECT_EQ(CallHandler(*m.handler), "delete");
  EXPECT_EQ(m.body_limit, 20u) << "the matched route's own limit, not the max over the path";
  EXPECT_EQ(m.params, (Params{{"id", "3"}}));
}

TEST(Router, EmptyBracesAreALiteralSegment) {
  Router router;
  router.Add("GET", "/a/{}", Tagged("braces"));
  EXPECT_EQ(router.Find("GET", "/a/x").handler, nullptr) << "'{}' is not a parameter";
  EXPECT_NE(router.Find("GET", "/a/{}").handler, nullptr);
}

TEST(Router, EmptyRouterFindsNothing) {
  Router router;
  auto m = router.Find("GET", "/");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_FALSE(m.path_known);
  EXPECT_TRUE(router.Routes().empty());
}

TEST_F(RouterTest, RoutesListsEveryRouteInOrder) {
  struct Expected {
    const char* method;
    const char* pattern;
    std::size_t body_limit;
  };
  const std::vector<Expected> expected = {
      {"GET", "/healthz", kApiBodyLimit},
      {"GET", "/v1/conversations", kApiBodyLimit},
      {"GET", "/v1/conversations/{id}", kApiBodyLimit},
      {"PATCH", "/v1/conversations/{id}", 4096},
      {"GET", "/v1/conversations/{id}/messages", kApiBodyLimit},
      {"POST", "/v1/conversations/{id}/messages", kApiBodyLimit},
      {"GET", "/v1/conversations/{conversation_id}/messages/{message_id}", kApiBodyLimit},
      {"POST", "/webhooks/{channel}/{business_id}", kWebhookBodyLimit},
  };
  auto routes = router_.Routes();
  ASSERT_EQ(routes.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(routes[i].method, expected[i].method) << "route " << i;
    EXPECT_EQ(routes[i].pattern, expected[i].pattern) << "route " << i << ": pattern kept as written";
    EXPECT_EQ(routes[i].body_limit, expected[i].body_limit) << "route " << i;
  }
}

}  // namespace
}  // namespace sb::http
