// The checks shared by every kind (DESIGN.md "Channel webhooks"), provider
// times, and channel kind names.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "webhook_samples.hpp"

namespace sb::gateway {
namespace {

using samples::ParseBody;

struct ShapeCase {
  ChannelKind kind;
  const char* body;
  const char* message;  // nullptr: the body is accepted
};

class WebhookShape : public testing::TestWithParam<ShapeCase> {};

TEST_P(WebhookShape, AcceptsOrNamesThePath) {
  const auto& c = GetParam();
  auto r = ParseBody(c.kind, c.body);
  if (c.message == nullptr) {
    EXPECT_TRUE(r.ok()) << c.body << " -> " << (r.ok() ? "" : r.error().message);
    return;
  }
  ASSERT_FALSE(r.ok()) << c.body;
  EXPECT_EQ(r.error().code, "invalid_shape");
  EXPECT_EQ(r.error().message, c.message);
}

constexpr auto kM = ChannelKind::kMessenger;
constexpr auto kI = ChannelKind::kInstagram;
constexpr auto kW = ChannelKind::kWhatsapp;

INSTANTIATE_TEST_SUITE_P(
    Table, WebhookShape,
    testing::Values(
        ShapeCase{kM, R"({"object":"page","entry":[]})", nullptr},
        ShapeCase{kI, R"({"object":"instagram","entry":[{"id":"1"}]})", nullptr},
        ShapeCase{kW, R"({"object":"whatsapp_business_account","entry":[{"id":"1"}]})", nullptr},
        ShapeCase{kM, R"([1,2])", "the body must be a JSON object"},
        ShapeCase{kM, R"("page")", "the body must be a JSON object"},
        ShapeCase{kM, R"({"entry":[]})", "object must be \"page\" for messenger webhooks"},
        ShapeCase{kM, R"({"object":"instagram","entry":[]})", "object must be \"page\" for messenger webhooks"},
        ShapeCase{kI, R"({"object":"page","entry":[]})", "object must be \"instagram\" for instagram webhooks"},
        ShapeCase{kW, R"({"object":"page","entry":[]})",
                  "object must be \"whatsapp_business_account\" for whatsapp webhooks"},
        ShapeCase{kW, R"({"object":7,"entry":[]})",
                  "object must be \"whatsapp_business_account\" for whatsapp webhooks"},
        ShapeCase{kM, R"({"object":"page"})", "entry must be an array"},
        ShapeCase{kM, R"({"object":"page","entry":{"id":"1"}})", "entry must be an array"},
        ShapeCase{kM, R"({"object":"page","entry":[{"id":"1"},[]]})", "entry[1] must be an object"},
        ShapeCase{kM, R"({"object":"page","entry":[{"time":1}]})", "entry[0].id must be a non-empty string"},
        ShapeCase{kI, R"({"object":"instagram","entry":[{"id":"1"},{"id":17841400000}]})",
                  "entry[1].id must be a non-empty string"},
        ShapeCase{kW, R"({"object":"whatsapp_business_account","entry":[{"id":null}]})",
                  "entry[0].id must be a non-empty string"},
        ShapeCase{kM, R"({"object":"page","entry":[{"id":""}]})", "entry[0].id must be a non-empty string"},
        ShapeCase{kW,
                  R"({"object":"whatsapp_business_account","entry":[{"id":"W","changes":[
                  {"field":"messages","value":{"metadata":{"phone_number_id":""},"messages":[{"id":"x"}]}}]}]})",
                  "entry[0].changes[0].value.metadata.phone_number_id must be a non-empty string"},
        ShapeCase{kW,
                  R"({"object":"whatsapp_business_account","entry":[{"id":"W","changes":[
                  {"field":"messages","value":{"messages":[{"id":"x"}]}}]}]})",
                  "entry[0].changes[0].value.metadata.phone_number_id must be a non-empty string"},
        ShapeCase{kW,
                  R"({"object":"whatsapp_business_account","entry":[{"id":"W","changes":[
                  {"field":"messages","value":{"metadata":{},"statuses":[]}}]}]})",
                  "entry[0].changes[0].value.metadata.phone_number_id must be a non-empty string"},
        // Only "messages" changes need a phone number id; others are account-level.
        ShapeCase{kW,
                  R"({"object":"whatsapp_business_account","entry":[{"id":"W","changes":[
                  {"field":"message_template_status_update","value":{"event":"APPROVED"}},
                  {"field":"messages","value":{"errors":[]}}]}]})",
                  nullptr}));

TEST(WebhookShape, UnknownFieldsAreIgnored) {
  auto r = ParseBody(kM, R"({"object":"page","future":{"x":1},"entry":[{"id":"P","new":[1],
      "messaging":[{"sender":{"id":"U"},"brand_new_event":{"a":1}}]}]})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().ignored, 1);
  EXPECT_EQ(r.value().channels, (std::vector<ChannelRef>{{"P", false}}));
}

struct TimeCase {
  const char* json;
  std::optional<std::int64_t> ms;
};

class ProviderTime : public testing::TestWithParam<TimeCase> {};

TEST_P(ProviderTime, Converts) {
  const auto value = nlohmann::json::parse(GetParam().json);
  EXPECT_EQ(ProviderTimeMs(value), GetParam().ms) << GetParam().json;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ProviderTime,
    testing::Values(TimeCase{"1527459824", 1527459824000}, TimeCase{"1458668856463", 1458668856463},
                    TimeCase{R"("1527459824")", 1527459824000}, TimeCase{R"("1458668856463")", 1458668856463},
                    TimeCase{"1527459824.5", 1527459824500}, TimeCase{R"("1527459824.25")", 1527459824250},
                    TimeCase{"1458668856463.0", 1458668856463}, TimeCase{"0", 0},
                    TimeCase{"99999999999", 99999999999000}, TimeCase{"100000000000", 100000000000},
                    TimeCase{"253402300799999", 253402300799999}, TimeCase{"253402300800000", std::nullopt},
                    TimeCase{"18446744073709551615", std::nullopt}, TimeCase{"-1", std::nullopt},
                    TimeCase{"-9223372036854775808", std::nullopt}, TimeCase{"-0.5", std::nullopt},
                    TimeCase{"1e300", std::nullopt}, TimeCase{R"("2021-09-08T06:34:04+0000")", std::nullopt},
                    TimeCase{R"("")", std::nullopt}, TimeCase{R"(" 1527459824")", std::nullopt},
                    TimeCase{R"("+1527459824")", std::nullopt}, TimeCase{R"("-1527459824")", std::nullopt},
                    TimeCase{R"("1e9")", std::nullopt}, TimeCase{R"("inf")", std::nullopt},
                    TimeCase{R"("nan")", std::nullopt}, TimeCase{R"("1.2.3")", std::nullopt},
                    TimeCase{R"("99999999999999999999999")", std::nullopt}, TimeCase{"true", std::nullopt},
                    TimeCase{"null", std::nullopt}, TimeCase{"[1527459824]", std::nullopt},
                    TimeCase{R"({"t":1527459824})", std::nullopt}));

TEST(ProviderTime, NonFiniteFloatsAreRejected) {
  EXPECT_EQ(ProviderTimeMs(nlohmann::json(std::nan(""))), std::nullopt);
  EXPECT_EQ(ProviderTimeMs(nlohmann::json(std::numeric_limits<double>::infinity())), std::nullopt);
  EXPECT_EQ(ProviderTimeMs(nlohmann::json(-std::numeric_limits<double>::infinity())), std::nullopt);
}

TEST(ChannelKindNames, RoundTrip) {
  for (auto kind : {kM, kI, kW}) EXPECT_EQ(ChannelKindFromString(ToString(kind)), kind);
  EXPECT_EQ(ToString(kM), "messenger");
  EXPECT_EQ(ToString(kI), "instagram");
  EXPECT_EQ(ToString(kW), "whatsapp");
  EXPECT_EQ(ChannelKindFromString("Messenger"), std::nullopt);
  EXPECT_EQ(ChannelKindFromString("page"), std::nullopt);
  EXPECT_EQ(ChannelKindFromString(""), std::nullopt);
}

TEST(WebhookShape, EverySampleParsesWithItsKindOnly) {
  for (const auto& s : samples::kAll) {
    for (auto kind : {kM, kI, kW}) {
      auto r = ParseBody(kind, s.body);
      if (kind == s.kind) {
        EXPECT_TRUE(r.ok()) << s.name << ": " << (r.ok() ? "" : r.error().message);
      } else {
        EXPECT_FALSE(r.ok()) << s.name << " must not parse as " << ToString(kind);
      }
    }
  }
}

}  // namespace
}  // namespace sb::gateway
