// Routing rules: validation of the PUT /v1/routing body with exact field
// paths, first-match-wins evaluation, RE2 safety and sharing across threads.
#include "sb/router/rules.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace sb::router {
namespace {

using nlohmann::json;

std::shared_ptr<const RuleSet> MustCompile(const json& body) {
  auto compiled = RuleSet::Compile(body);
  if (!compiled.ok()) {
    ADD_FAILURE() << "expected " << body.dump() << " to compile, got " << compiled.error().code << ": "
                  << compiled.error().message;
    return nullptr;
  }
  return compiled.value();
}

json Body(json rules) { return {{"default_queue_id", 1}, {"rules", std::move(rules)}}; }

json Rule(json match, json target = {{"queue_id", 2}}) { return {{"match", std::move(match)}, {"target", target}}; }

struct ErrorCase {
  std::string name;
  json body;
  std::string code;
  std::string path;  // the message starts with "<path>: "
};

std::vector<ErrorCase> ErrorCases() {
  return {
      {"body_not_object", json::array(), "invalid_json", "request body"},
      {"default_missing", {{"rules", json::array()}}, "missing_field", "default_queue_id"},
      {"default_null", {{"default_queue_id", nullptr}}, "missing_field", "default_queue_id"},
      {"default_string", {{"default_queue_id", "one"}}, "invalid_field", "default_queue_id"},
      {"default_zero", {{"default_queue_id", 0}}, "invalid_field", "default_queue_id"},
      {"default_negative", {{"default_queue_id", -3}}, "invalid_field", "default_queue_id"},
      {"default_fraction", {{"default_queue_id", 1.5}}, "invalid_field", "default_queue_id"},
      {"default_bool", {{"default_queue_id", true}}, "invalid_field", "default_queue_id"},
      {"default_too_big", {{"default_queue_id", 18446744073709551615ull}}, "invalid_field", "default_queue_id"},
      {"unknown_top_level", {{"default_queue_id", 1}, {"fallback", 1}}, "unknown_field", "fallback"},
      {"rules_object", Body(json::object()), "invalid_field", "rules"},
      {"rules_string", Body("all"), "invalid_field", "rules"},
      {"rule_not_object", Body({Rule(json::object()), 5}), "invalid_field", "rules[1]"},
      {"match_missing", Body({{{"target", {{"queue_id", 2}}}}}), "missing_field", "rules[0].match"},
      {"match_array", Body({Rule(json::array())}), "invalid_field", "rules[0].match"},
      {"target_missing", Body({{{"match", json::object()}}}), "missing_field", "rules[0].target"},
      {"rule_unknown_key", Body({{{"match", json::object()}, {"target", {{"queue_id", 2}}}, {"priority", 1}}}),
       "unknown_field", "rules[0].priority"},
      {"match_unknown_key", Body({Rule({{"colour", "red"}})}), "unknown_field", "rules[0].match.colour"},
      {"regex_unclosed", Body({Rule({{"text_regex", "(unclosed"}})}), "invalid_field", "rules[0].match.text_regex"},
      {"regex_number", Body({Rule({{"text_regex", 5}})}), "invalid_field", "rules[0].match.text_regex"},
      {"regex_empty", Body({Rule({{"text_regex", ""}})}), "invalid_field", "rules[0].match.text_regex"},
      {"regex_too_long", Body({Rule({{"text_regex", std::string(1001, 'a')}})}), "invalid_field",
       "rules[0].match.text_regex"},
      {"regex_big_repeat", Body({Rule(json::object()), Rule({{"text_regex", "a{2000}"}})}), "invalid_field",
       "rules[1].match.text_regex"},
      {"regex_nested_repeat", Body({Rule({{"text_regex", "a{1000}{1000}"}})}), "invalid_field",
       "rules[0].match.text_regex"},
      {"regex_backreference", Body({Rule({{"text_regex", "(a)\\1"}})}), "invalid_field", "rules[0].match.text_regex"},
      {"intent_unknown", Body({Rule({{"intent", "shopping"}})}), "invalid_field", "rules[0].match.intent"},
      {"intent_case", Body({Rule({{"intent", "ORDER_STATUS"}})}), "invalid_field", "rules[0].match.intent"},
      {"channel_unknown", Body({Rule({{"channel_kind", "telegram"}})}), "invalid_field", "rules[0].match.channel_kind"},
      {"ad_id_number", Body({Rule({{"ad_id", 42}})}), "invalid_field", "rules[0].match.ad_id"},
      {"ad_id_empty", Body({Rule({{"ad_id", ""}})}), "invalid_field", "rules[0].match.ad_id"},
      {"bot_unknown", Body({Rule(json::object(), {{"bot", "weather"}})}), "invalid_field", "rules[0].target.bot"},
      {"bot_purchase", Body({Rule(json::object(), {{"bot", "purchase"}})}), "invalid_field", "rules[0].target.bot"},
      {"queue_string", Body({Rule(json::object(), {{"queue_id", "q"}})}), "invalid_field", "rules[0].target.queue_id"},
      {"queue_zero", Body({Rule(json::object(), {{"queue_id", 0}})}), "invalid_field", "rules[0].target.queue_id"},
      {"target_both", Body({Rule(json::object(), {{"queue_id", 2}, {"bot", "order_status"}})}), "invalid_field",
       "rules[0].target"},
      {"target_empty", Body({Rule(json::object(), json::object())}), "missing_field", "rules[0].target"},
      {"target_not_object", Body({Rule(json::object(), 7)}), "invalid_field", "rules[0].target"},
      {"target_unknown_key", Body({Rule(json::object(), {{"queue", 2}})}), "unknown_field", "rules[0].target.queue"},
      {"error_in_fourth_rule",
       Body({Rule(json::object()), Rule(json::object()), Rule(json::object()), Rule({{"intent", 3}})}), "invalid_field",
       "rules[3].match.intent"},
  };
}

TEST(RuleSetCompile, ErrorsNameTheFieldPath) {
  for (const auto& c : ErrorCases()) {
    auto compiled = RuleSet::Compile(c.body);
    ASSERT_FALSE(compiled.ok()) << c.name << ": " << c.body.dump() << " must be rejected";
    EXPECT_EQ(compiled.error().code, c.code) << c.name << ": " << compiled.error().message;
    EXPECT_EQ(compiled.error().message.rfind(c.path + ": ", 0), 0u)
        << c.name << ": message must start with \"" << c.path << ": \", got \"" << compiled.error().message << "\"";
  }
}

TEST(RuleSetCompile, TooManyRules) {
  json rules = json::array();
  for (int i = 0; i < 200; ++i) rules.push_back(Rule(json::object()));
  EXPECT_NE(MustCompile(Body(rules)), nullptr) << "200 rules are allowed";
  rules.push_back(Rule(json::object()));
  auto compiled = RuleSet::Compile(Body(rules));
  ASSERT_FALSE(compiled.ok());
  EXPECT_EQ(compiled.error().code, "invalid_field");
  EXPECT_EQ(compiled.error().message.rfind("rules: ", 0), 0u) << compiled.error().message;
}

TEST(RuleSetCompile, PatternLengthCountsCharacters) {
  std::string accented;
  for (int i = 0; i < 1000; ++i) accented += "\xC3\xA9";  // é, two bytes
  EXPECT_NE(MustCompile(Body({Rule({{"text_regex", accented}})})), nullptr) << "1,000 characters are allowed";
}

TEST(RuleSetCompile, PatternBeyondTheMemoryBudgetIsTooComplex) {
  // Each \pL is hundreds of instructions; a thousand of them need far more than 1 MiB.
  auto compiled = RuleSet::Compile(Body({Rule({{"text_regex", "\\pL{1000}"}})}));
  ASSERT_FALSE(compiled.ok());
  EXPECT_EQ(compiled.error().code, "invalid_field");
  EXPECT_EQ(compiled.error().message, "rules[0].match.text_regex: too complex");
}

TEST(RuleSetCompile, RulesMayBeOmittedOrEmpty) {
  for (const json& body : {json{{"default_queue_id", 7}}, json{{"default_queue_id", 7}, {"rules", nullptr}},
                           json{{"default_queue_id", 7}, {"rules", json::array()}}}) {
    auto set = MustCompile(body);
    ASSERT_NE(set, nullptr);
    EXPECT_EQ(set->default_queue_id(), 7);
    EXPECT_TRUE(set->QueueIds().empty());
    auto target = set->Match({"whatsapp", "support", "help", std::nullopt});
    EXPECT_EQ(target.queue_id, 7);
    EXPECT_FALSE(target.bot.has_value());
  }
}

TEST(RuleSetCompile, QueueIdsAreTheTargetsSortedAndUnique) {
  auto set = MustCompile(Body({Rule(json::object(), {{"queue_id", 9}}), Rule(json::object(), {{"bot", "in_stock"}}),
                               Rule(json::object(), {{"queue_id", 3}}), Rule(json::object(), {{"queue_id", 9}})}));
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->QueueIds(), (std::vector<std::int64_t>{3, 9}));
}

MessageFacts Facts(std::string channel, std::string intent, std::string text,
                   std::optional<std::string> ad_id = std::nullopt) {
  return {std::move(channel), std::move(intent), std::move(text), std::move(ad_id)};
}

TEST(RuleSetMatch, FirstMatchWinsAndEveryConditionMustHold) {
  auto set = MustCompile(Body({
      Rule({{"channel_kind", "whatsapp"}, {"intent", "order_status"}}, {{"bot", "order_status"}}),  // 0
      Rule({{"intent", "order_status"}}, {{"queue_id", 10}}),                                       // 1
      Rule({{"ad_id", "AD-77"}}, {{"queue_id", 11}}),                                               // 2
      Rule({{"text_regex", "\\bwholesale\\b"}}, {{"queue_id", 12}}),                                // 3
      Rule({{"channel_kind", "instagram"}, {"text_regex", "collab"}}, {{"queue_id", 13}}),          // 4
      Rule({{"intent", "in_stock"}}, {{"bot", "in_stock"}}),                                        // 5
      Rule({{"channel_kind", "messenger"}}, {{"queue_id", 14}}),                                    // 6
  }));
  ASSERT_NE(set, nullptr);
  struct Case {
    MessageFacts facts;
    std::optional<std::int64_t> queue;
    std::optional<std::string> bot;
  };
  const std::vector<Case> cases = {
      {Facts("whatsapp", "order_status", "where is my order"), std::nullopt, "order_status"},
      {Facts("instagram", "order_status", "where is my order"), 10, std::nullopt},
      {Facts("whatsapp", "purchase", "hi", "AD-77"), 11, std::nullopt},
      {Facts("whatsapp", "purchase", "hi", "ad-77"), 1, std::nullopt},
      {Facts("whatsapp", "purchase", "hi", "AD-777"), 1, std::nullopt},
      {Facts("whatsapp", "purchase", "hi"), 1, std::nullopt},
      {Facts("whatsapp", "purchase", "Do you sell WHOLESALE?"), 12, std::nullopt},
      {Facts("whatsapp", "purchase", "wholesaler here"), 1, std::nullopt},
      {Facts("instagram", "other", "let's do a collab"), 13, std::nullopt},
      {Facts("whatsapp", "other", "let's do a collab"), 1, std::nullopt},
      {Facts("whatsapp", "in_stock", "is it in stock?"), std::nullopt, "in_stock"},
      {Facts("messenger", "support", "it broke"), 14, std::nullopt},
      {Facts("whatsapp", "support", "it broke"), 1, std::nullopt},
      {Facts("", "", ""), 1, std::nullopt},
  };
  for (const auto& c : cases) {
    RuleTarget t = set->Match(c.facts);
    EXPECT_EQ(t.queue_id, c.queue) << c.facts.channel_kind << "/" << c.facts.intent << "/\"" << c.facts.text << "\"";
    EXPECT_EQ(t.bot, c.bot) << c.facts.channel_kind << "/" << c.facts.intent << "/\"" << c.facts.text << "\"";
  }
}

TEST(RuleSetMatch, EmptyMatchMatchesEverything) {
  auto set = MustCompile(Body({Rule(json::object(), {{"queue_id", 5}}), Rule(json::object(), {{"queue_id", 6}})}));
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->Match(Facts("messenger", "other", "")).queue_id, 5);
  EXPECT_EQ(set->Match(Facts("whatsapp", "support", "x", "ad")).queue_id, 5);
}

TEST(RuleSetMatch, RegexIsCaseInsensitiveOnNonAsciiText) {
  auto set = MustCompile(
      Body({Rule({{"text_regex", "ÉTÉ"}}, {{"queue_id", 2}}), Rule({{"text_regex", "привет"}}, {{"queue_id", 3}}),
            Rule({{"text_regex", "^pedido\\s+\\d+$"}}, {{"queue_id", 4}})}));
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->Match(Facts("whatsapp", "other", "un été chaud")).queue_id, 2);
  EXPECT_EQ(set->Match(Facts("whatsapp", "other", "ПРИВЕТ!")).queue_id, 3);
  EXPECT_EQ(set->Match(Facts("whatsapp", "other", "PEDIDO 123")).queue_id, 4);
  EXPECT_EQ(set->Match(Facts("whatsapp", "other", "ete")).queue_id, 1) << "accents are not folded by regexes";
  EXPECT_EQ(set->Match(Facts("whatsapp", "other", "invalid \xff utf-8")).queue_id, 1);
}

TEST(RuleSetCompile, PathologicalAndOversizePatternsAreRejected) {
  struct Case {
    const char* name;
    std::string pattern;
    std::string message;
  };
  std::vector<Case> cases = {
      {"nested counted repetition", "((a{100}){100}){100}", "invalid regular expression: invalid repetition size"},
      {"wide class repeated: over the memory budget", "[\\p{L}\\p{N}]{500}", "too complex"},
      {"letters repeated: fits the memory budget, over the program size bound", "\\pL{30}", "too complex"},
      {"backreference", "(a+)\\1", "invalid regular expression"},
      {"lookahead", "(?=a)a", "invalid regular expression"},
      {"repeat count over RE2's maximum", "a{1001}", "invalid regular expression"},
      {"oversize: 1,001 characters", std::string(1001, 'a'), "must be at most 1000 characters"},
  };
  for (const auto& c : cases) {
    auto compiled = RuleSet::Compile(Body({Rule({{"text_regex", c.pattern}})}));
    ASSERT_FALSE(compiled.ok()) << c.name << ": /" << c.pattern.substr(0, 80) << "/ must be rejected";
    EXPECT_EQ(compiled.error().code, "invalid_field") << c.name;
    EXPECT_NE(compiled.error().message.find("rules[0].match.text_regex: " + c.message), std::string::npos)
        << c.name << ": got \"" << compiled.error().message << "\"";
  }
}

TEST(RuleSetCompile, ClassicBacktrackingBombsCompileAndStayLinear) {
  // Exponential for a backtracking engine; RE2 takes them and runs them in
  // linear time, so they need not be refused (see PathologicalPatternsRunInLinearTime).
  for (const char* pattern : {"(a*)*b", "(a|a)*b", "(x+x+)+y", "^(([a-z])+.)+[A-Z]([a-z])+$"}) {
    EXPECT_NE(MustCompile(Body({Rule({{"text_regex", pattern}})})), nullptr) << pattern;
  }
}

TEST(RuleSetMatch, PathologicalPatternsRunInLinearTime) {
  auto set = MustCompile(
      Body({Rule({{"text_regex", "(a*)*b"}}, {{"queue_id", 2}}), Rule({{"text_regex", "(x+x+)+y"}}, {{"queue_id", 3}}),
            Rule({{"text_regex", "(a|aa)+$c"}}, {{"queue_id", 4}})}));
  ASSERT_NE(set, nullptr);
  std::string as(100'000, 'a');
  std::string xs(100'000, 'x');
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(set->Match(Facts("whatsapp", "other", as)).queue_id, 1);
  EXPECT_EQ(set->Match(Facts("whatsapp", "other", xs)).queue_id, 1);
  EXPECT_EQ(set->Match(Facts("whatsapp", "other", as + "b")).queue_id, 2);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(2)) << "catastrophic backtracking";
}

TEST(RuleSetMatch, SharedAcrossThreads) {
  auto set = MustCompile(Body({Rule({{"text_regex", "pedido|order"}, {"intent", "order_status"}}, {{"queue_id", 2}}),
                               Rule({{"text_regex", "stock"}}, {{"bot", "in_stock"}})}));
  ASSERT_NE(set, nullptr);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        std::string n = std::to_string(t * 10000 + i);
        auto order = set->Match(Facts("whatsapp", "order_status", "where is order " + n));
        auto stock = set->Match(Facts("messenger", "in_stock", "in STOCK " + n + "?"));
        auto other = set->Match(Facts("instagram", "other", "hello " + n));
        if (order.queue_id != 2 || stock.bot != "in_stock" || other.queue_id != 1) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace sb::router
