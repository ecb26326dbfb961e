// The send call's shape per channel kind, and reading its answer: provider
// ids, Graph errors, Retry-After; the answer is untrusted.
#include "sb/outbound/graph_request.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sb/outbound/graph_client.hpp"

namespace sb::outbound {
namespace {

using namespace std::chrono_literals;
using gateway::ChannelKind;
using nlohmann::json;

const auto kNow = std::chrono::sys_days(std::chrono::year(2026) / 11 / 28) + 12h;

TEST(GraphRequestTest, WhatsAppTextMessage) {
  auto r = BuildTextMessage(ChannelKind::kWhatsapp, "/v21.0", "106540352242922", "15551234567", "Your order shipped",
                            std::nullopt);
  EXPECT_EQ(r.target, "/v21.0/106540352242922/messages");
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"messaging_product":"whatsapp","recipient_type":"individual",
      "to":"15551234567","type":"text","text":{"body":"Your order shipped"}})"));
}

TEST(GraphRequestTest, WhatsAppIgnoresTags) {
  auto r = BuildTextMessage(ChannelKind::kWhatsapp, "/v21.0", "1065", "1555", "hi", std::string("HUMAN_AGENT"));
  EXPECT_FALSE(json::parse(r.body).contains("tag"));
}

TEST(GraphRequestTest, MessengerAndInstagramResponse) {
  for (auto kind : {ChannelKind::kMessenger, ChannelKind::kInstagram}) {
    auto r = BuildTextMessage(kind, "/v21.0", "17841400000000", "psid-1", "hello", std::nullopt);
    EXPECT_EQ(r.target, "/v21.0/17841400000000/messages");
    EXPECT_EQ(json::parse(r.body),
              json::parse(R"({"recipient":{"id":"psid-1"},"messaging_type":"RESPONSE","message":{"text":"hello"}})"));
  }
}

TEST(GraphRequestTest, MessengerHumanAgentTag) {
  auto r =
      BuildTextMessage(ChannelKind::kMessenger, "/v21.0", "1234", "psid-2", "still here", std::string("HUMAN_AGENT"));
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"recipient":{"id":"psid-2"},"messaging_type":"MESSAGE_TAG",
      "tag":"HUMAN_AGENT","message":{"text":"still here"}})"));
  r = BuildTextMessage(ChannelKind::kMessenger, "/v21.0", "1234", "psid-2", "x", std::string(""));
  EXPECT_EQ(json::parse(r.body)["messaging_type"], "RESPONSE") << "expected an empty tag to mean none";
}

TEST(GraphRequestTest, WhatsAppTemplateMessage) {
  std::vector<std::string> params = {"A1001", "Friday"};
  auto r = BuildTemplateMessage("/v21.0/", "106540352242922", "15551234567", "order_update", "en_US", params);
  EXPECT_EQ(r.target, "/v21.0/106540352242922/messages");
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"messaging_product":"whatsapp","recipient_type":"individual",
      "to":"15551234567","type":"template","template":{"name":"order_update","language":{"code":"en_US"},
      "components":[{"type":"body","parameters":[{"type":"text","text":"A1001"},{"type":"text","text":"Friday"}]}]}})"));
  r = BuildTemplateMessage("/v21.0", "1065", "1555", "hello_again", "en", {});
  EXPECT_EQ(json::parse(r.body)["template"], json::parse(R"({"name":"hello_again","language":{"code":"en"}})"))
      << "expected no components without parameters";
}

TEST(GraphRequestTest, MediaMessages) {
  auto r = BuildMediaMessage(ChannelKind::kWhatsapp, "/v21.0", "1065", "1555", "document", "https://x.example/a.pdf",
                             "invoice", std::nullopt);
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"messaging_product":"whatsapp","recipient_type":"individual",
      "to":"1555","type":"document","document":{"link":"https://x.example/a.pdf","caption":"invoice"}})"));
  r = BuildMediaMessage(ChannelKind::kWhatsapp, "/v21.0", "1065", "1555", "audio", "https://x.example/a.ogg", "hi",
                        std::nullopt);
  EXPECT_EQ(json::parse(r.body)["audio"], json::parse(R"({"link":"https://x.example/a.ogg"})"))
      << "expected no caption on audio (WhatsApp refuses it)";
  r = BuildMediaMessage(ChannelKind::kInstagram, "/v21.0", "1784", "igsid", "image", "https://x.example/a.jpg", "",
                        std::string("HUMAN_AGENT"));
  EXPECT_EQ(r.target, "/v21.0/1784/messages");
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"recipient":{"id":"igsid"},"messaging_type":"MESSAGE_TAG",
      "tag":"HUMAN_AGENT","message":{"attachment":{"type":"image","payload":{"url":"https://x.example/a.jpg",
      "is_reusable":true}}}})"));
}

TEST(GraphRequestTest, TargetIsBuiltSafely) {
  EXPECT_EQ(BuildTextMessage(ChannelKind::kWhatsapp, "", "123", "1", "x", std::nullopt).target, "/123/messages");
  EXPECT_EQ(BuildTextMessage(ChannelKind::kWhatsapp, "/v21.0/", "123", "1", "x", std::nullopt).target,
            "/v21.0/123/messages");
  EXPECT_EQ(BuildTextMessage(ChannelKind::kMessenger, "/v21.0", "../me?x=1 #", "1", "x", std::nullopt).target,
            "/v21.0/..%2Fme%3Fx%3D1%20%23/messages")
      << "expected the channel id percent-encoded as one path segment";
}

TEST(GraphRequestTest, ProfileLookupAndName) {
  EXPECT_EQ(BuildProfileLookup(ChannelKind::kMessenger, "/v21.0", "ps id/\xC3\xA9~"),
            "/v21.0/ps%20id%2F%C3%A9~?fields=first_name,last_name");
  EXPECT_EQ(BuildProfileLookup(ChannelKind::kInstagram, "/v21.0", "17"), "/v21.0/17?fields=name,username");
  EXPECT_EQ(ParseProfileAnswer(ChannelKind::kMessenger, R"({"first_name":"Ana","last_name":"Silva"})"), "Ana Silva");
  EXPECT_EQ(ParseProfileAnswer(ChannelKind::kMessenger, R"({"last_name":"Silva"})"), "Silva");
  EXPECT_EQ(ParseProfileAnswer(ChannelKind::kInstagram, R"({"name":"","username":"ana.s"})"), "ana.s");
  EXPECT_EQ(ParseProfileAnswer(ChannelKind::kInstagram, R"({"name":7})"), "");
  EXPECT_EQ(ParseProfileAnswer(ChannelKind::kMessenger, "not json"), "");
  std::string long_name(199, 'a');
  long_name += "\xC3\xA9";  // a two-byte character across byte 200
  EXPECT_EQ(ParseProfileAnswer(ChannelKind::kInstagram, json({{"name", long_name}}).dump()), std::string(199, 'a'));
}

TEST(GraphRequestTest, PayloadsRoundTrip) {
  TemplatePayload t{"order_update", "en_US", {"A-1"}};
  auto back = TemplatePayload::Parse(t.Dump());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->name, "order_update");
  EXPECT_EQ(back->params, std::vector<std::string>{"A-1"});
  EXPECT_FALSE(TemplatePayload::Parse(R"({"name":"x","language":"en","params":[1]})"));
  EXPECT_EQ(MediaPayload::Parse(MediaPayload{"https://x.example/a.jpg"}.Dump())->url, "https://x.example/a.jpg");
  EXPECT_FALSE(MediaPayload::Parse(R"({"link":"https://x.example/a.jpg"})"));
  EXPECT_TRUE(IsMediaType("sticker"));
  EXPECT_FALSE(IsMediaType("template"));
}

TEST(GraphRequestTest, TextIsEscapedAndNeverThrows) {
  auto r = BuildTextMessage(ChannelKind::kWhatsapp, "/v1", "1", "2", "quote \" newline \n emoji \xF0\x9F\x93\xA6",
                            std::nullopt);
  EXPECT_EQ(json::parse(r.body)["text"]["body"], "quote \" newline \n emoji \xF0\x9F\x93\xA6");
  r = BuildTextMessage(ChannelKind::kWhatsapp, "/v1", "1", "2", "bad \xC3", std::nullopt);
  EXPECT_TRUE(json::accept(r.body)) << "expected invalid UTF-8 replaced, not thrown";
}

TEST(SendAnswerTest, WhatsAppSuccess) {
  auto r = ParseSendAnswer(ChannelKind::kWhatsapp, 200,
                           R"({"messaging_product":"whatsapp","contacts":[{"input":"1555","wa_id":"1555"}],
                               "messages":[{"id":"wamid.HBgL"}]})",
                           std::nullopt, kNow);
  EXPECT_TRUE(r.Accepted());
  EXPECT_EQ(r.provider_message_id, "wamid.HBgL");
}

TEST(SendAnswerTest, MessengerSuccess) {
  auto r = ParseSendAnswer(ChannelKind::kMessenger, 200, R"({"recipient_id":"psid","message_id":"m_AG5Hz"})",
                           std::nullopt, kNow);
  EXPECT_TRUE(r.Accepted());
  EXPECT_EQ(r.provider_message_id, "m_AG5Hz");
}

TEST(SendAnswerTest, BothShapesPickTheKindsId) {
  std::string both = R"({"messages":[{"id":"wamid.fake.1"}],"message_id":"m_fake.1"})";
  EXPECT_EQ(ParseSendAnswer(ChannelKind::kWhatsapp, 200, both, std::nullopt, kNow).provider_message_id, "wamid.fake.1");
  EXPECT_EQ(ParseSendAnswer(ChannelKind::kInstagram, 200, both, std::nullopt, kNow).provider_message_id, "m_fake.1");
}

TEST(SendAnswerTest, SuccessWithoutId) {
  for (const char* body : {"", "{}", "not json", R"({"messages":[]})", R"({"messages":[{"id":5}]})", "[1,2]"}) {
    auto r = ParseSendAnswer(ChannelKind::kWhatsapp, 200, body, std::nullopt, kNow);
    EXPECT_FALSE(r.Accepted()) << body;
    EXPECT_EQ(r.error, "the send API answered without a message id") << body;
  }
}

TEST(SendAnswerTest, GraphErrorBecomesCodeAndMessage) {
  auto r = ParseSendAnswer(ChannelKind::kMessenger, 400,
                           R"({"error":{"message":"Invalid parameter","type":"OAuthException","code":100,
                               "error_subcode":2018001,"fbtrace_id":"Axyz"}})",
                           std::nullopt, kNow);
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(r.error, "(#100) Invalid parameter");
  EXPECT_FALSE(r.transient);
}

TEST(SendAnswerTest, MessageAlreadyCarryingTheCodeIsNotDoubled) {
  auto r = ParseSendAnswer(ChannelKind::kMessenger, 400,
                           R"({"error":{"message":"(#100) The parameter recipient is required","code":100}})",
                           std::nullopt, kNow);
  EXPECT_EQ(r.error, "(#100) The parameter recipient is required");
}

TEST(SendAnswerTest, WhatsAppErrorDetailsAreKept) {
  auto r = ParseSendAnswer(ChannelKind::kWhatsapp, 400,
                           R"({"error":{"message":"Re-engagement message","code":131047,
                               "error_data":{"messaging_product":"whatsapp","details":"More than 24 hours have passed"}}})",
                           std::nullopt, kNow);
  EXPECT_EQ(r.error, "(#131047) Re-engagement message: More than 24 hours have passed");
}

TEST(SendAnswerTest, ThrottlingCodesAndTransientFlagAreRetryable) {
  EXPECT_TRUE(ParseSendAnswer(ChannelKind::kWhatsapp, 400, R"({"error":{"message":"Rate limit hit","code":130429}})",
                              std::nullopt, kNow)
                  .transient);
  EXPECT_TRUE(
      ParseSendAnswer(ChannelKind::kMessenger, 400, R"({"error":{"message":"x","code":613}})", std::nullopt, kNow)
          .transient);
  EXPECT_TRUE(ParseSendAnswer(ChannelKind::kMessenger, 400, R"({"error":{"message":"x","code":9,"is_transient":true}})",
                              std::nullopt, kNow)
                  .transient);
  EXPECT_FALSE(ParseSendAnswer(ChannelKind::kMessenger, 400,
                               R"({"error":{"message":"x","code":9,"is_transient":false}})", std::nullopt, kNow)
                   .transient);
}

TEST(SendAnswerTest, UnreadableErrorNamesTheStatus) {
  for (const char* body : {"", "<html>bad gateway</html>", R"({"error":"flat"})", R"({"error":{"code":"100"}})"}) {
    EXPECT_EQ(ParseSendAnswer(ChannelKind::kWhatsapp, 502, body, std::nullopt, kNow).error, "HTTP 502") << body;
  }
  std::string deep(100000, '[');
  EXPECT_EQ(ParseSendAnswer(ChannelKind::kWhatsapp, 500, deep, std::nullopt, kNow).error, "HTTP 500")
      << "expected deeply nested JSON refused without recursion";
}

TEST(SendAnswerTest, LongErrorIsCutAtACharacterBoundary) {
  std::string message;
  for (int i = 0; i < 400; ++i) message += "\xC3\xA9";  // é, two bytes each
  auto r =
      ParseSendAnswer(ChannelKind::kMessenger, 400, json{{"error", {{"message", message}}}}.dump(), std::nullopt, kNow);
  EXPECT_LE(r.error.size(), 500u);
  EXPECT_EQ(r.error.size() % 2, 0u) << "expected no split character";
}

TEST(SendAnswerTest, RetryAfterIsRead) {
  auto r = ParseSendAnswer(ChannelKind::kWhatsapp, 429, "{}", std::string_view("3"), kNow);
  EXPECT_EQ(r.retry_after, std::optional<std::chrono::milliseconds>(3000ms));
  r = ParseSendAnswer(ChannelKind::kWhatsapp, 503, "{}", std::string_view("Sat, 28 Nov 2026 12:00:10 GMT"), kNow);
  EXPECT_EQ(r.retry_after, std::optional<std::chrono::milliseconds>(10000ms));
  r = ParseSendAnswer(ChannelKind::kWhatsapp, 503, "{}", std::string_view("whenever"), kNow);
  EXPECT_EQ(r.retry_after, std::nullopt);
}

TEST(BaseUrlTest, HttpsAndHttp) {
  auto b = ParseBaseUrl("https://graph.facebook.com/v21.0");
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_TRUE(b.value().tls);
  EXPECT_EQ(b.value().host, "graph.facebook.com");
  EXPECT_EQ(b.value().port, "443");
  EXPECT_EQ(b.value().host_header, "graph.facebook.com");
  EXPECT_EQ(b.value().path, "/v21.0");

  b = ParseBaseUrl("http://127.0.0.1:43210/v21.0/");
  ASSERT_TRUE(b);
  EXPECT_FALSE(b.value().tls);
  EXPECT_EQ(b.value().host, "127.0.0.1");
  EXPECT_EQ(b.value().port, "43210");
  EXPECT_EQ(b.value().host_header, "127.0.0.1:43210");
  EXPECT_EQ(b.value().path, "/v21.0");

  b = ParseBaseUrl("http://[::1]:8080");
  ASSERT_TRUE(b);
  EXPECT_EQ(b.value().host, "::1");
  EXPECT_EQ(b.value().host_header, "[::1]:8080");
  EXPECT_EQ(b.value().path, "");
}

TEST(BaseUrlTest, Rejected) {
  for (const char* bad : {"", "graph.facebook.com/v21.0", "ftp://graph.facebook.com", "https:///v21.0",
                          "https://user:pw@graph.facebook.com", "https://graph.facebook.com/v21.0?x=1",
                          "https://graph.facebook.com/#frag"}) {
    auto b = ParseBaseUrl(bad);
    EXPECT_FALSE(b) << "expected '" << bad << "' rejected";
    if (!b) {
      EXPECT_EQ(b.error().code, "invalid_graph_api_base");
    }
  }
}

}  // namespace
}  // namespace sb::outbound
