// No input crashes the parsers: truncated bodies, random byte mutations and
// every field replaced by every JSON type, through ParseLimited and
// ParseWebhook for all three kinds. Deterministic (fixed seed, bounded count).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fixtures.hpp"
#include "webhook_samples.hpp"

namespace sb::gateway {
namespace {

constexpr ChannelKind kKinds[] = {ChannelKind::kMessenger, ChannelKind::kInstagram, ChannelKind::kWhatsapp};

const std::set<std::string>& KnownTypes() {
  static const std::set<std::string> types = {"text",     "image",       "audio",    "video",       "document",
                                              "sticker",  "location",    "contacts", "interactive", "button",
                                              "postback", "quick_reply", "order",    "reaction",    "unsupported"};
  return types;
}

// What any successful parse must look like, whatever the input.
void ExpectWellFormed(const Result<ParsedWebhook>& r, std::string_view what) {
  if (!r.ok()) {
    EXPECT_EQ(r.error().code, "invalid_shape") << what;
    return;
  }
  for (const auto& m : r.value().messages) {
    EXPECT_FALSE(m.provider_message_id.empty()) << what;
    EXPECT_FALSE(m.contact_external_id.empty()) << what;
    EXPECT_EQ(KnownTypes().count(m.type), 1u) << what << ": type " << m.type;
    EXPECT_EQ(m.provider_message_id.find('\0'), std::string::npos) << what;
    if (m.text) {
      EXPECT_EQ(m.text->find('\0'), std::string::npos) << what;
    }
  }
  for (const auto& s : r.value().statuses) EXPECT_FALSE(s.provider_message_id.empty()) << what;
  for (const auto& e : r.value().events) {
    EXPECT_TRUE(nlohmann::json::accept(e.data_json)) << what << ": " << e.data_json;
  }
}

void ParseAsEveryKind(std::string_view bytes, std::string_view what) {
  auto json = sb::json::ParseLimited(bytes);
  if (!json.ok()) {
    const auto& code = json.error().code;
    EXPECT_TRUE(code == "invalid_json" || code == "too_deep") << what << ": " << code;
    return;
  }
  for (auto kind : kKinds) ExpectWellFormed(ParseWebhook(kind, json.value()), what);
}

std::vector<std::string> Corpus() {
  std::vector<std::string> corpus;
  for (const auto& s : samples::kAll) corpus.emplace_back(s.body);
  if (auto dir = sb::test::PeerFixturesDir()) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(*dir)) {
      if (e.path().extension() != ".json" || e.path().filename() == "INDEX.json") continue;
      std::ifstream in(e.path(), std::ios::binary);
      std::ostringstream bytes;
      bytes << in.rdbuf();
      corpus.push_back(bytes.str());
    }
  }
  return corpus;
}

TEST(ParserRobustness, Truncations) {
  int cases = 0;
  for (const auto& body : Corpus()) {
    const std::size_t step = std::max<std::size_t>(1, body.size() / 48);
    for (std::size_t n = 0; n < body.size(); n += step) {
      ParseAsEveryKind(std::string_view(body).substr(0, n), "truncated body");
      ++cases;
    }
    for (std::size_t back = 1; back <= 8 && back <= body.size(); ++back) {
      ParseAsEveryKind(std::string_view(body).substr(0, body.size() - back), "truncated tail");
      ++cases;
    }
  }
  EXPECT_GT(cases, 1000);
}

TEST(ParserRobustness, RandomByteMutations) {
  const auto corpus = Corpus();
  std::mt19937 rng(20261128);
  constexpr std::string_view kInteresting = "{}[]\",:0123456789-.eE\\u \t\ntrufalsn";
  const auto below = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  constexpr int kCases = 20'000;
  for (int i = 0; i < kCases; ++i) {
    std::string body = corpus[below(corpus.size())];
    const int edits = 1 + static_cast<int>(below(4));
    for (int e = 0; e < edits && !body.empty(); ++e) {
      const std::size_t at = below(body.size());
      switch (below(6)) {
        case 0:
          body[at] = static_cast<char>(body[at] ^ (1 << below(8)));
          break;
        case 1:
          body[at] = kInteresting[below(kInteresting.size())];
          break;
        case 2:
          body.insert(at, 1, static_cast<char>(below(256)));
          break;
        case 3:
          body.erase(at, 1 + below(16));
          break;
        case 4: {
          const std::size_t len = 1 + below(std::min<std::size_t>(64, body.size() - at));
          body.insert(below(body.size()), body.substr(at, len));
          break;
        }
        default:
          body.insert(at, kInteresting.substr(below(kInteresting.size()), 1));
          break;
      }
    }
    ParseAsEveryKind(body, "mutation " + std::to_string(i));
    if (HasFatalFailure()) return;
  }
}

void CollectPointers(const nlohmann::json& node, const nlohmann::json::json_pointer& at,
                     std::vector<nlohmann::json::json_pointer>& out) {
  if (!at.empty()) out.push_back(at);
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      CollectPointers(it.value(), at / it.key(), out);
    }
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) CollectPointers(node[i], at / i, out);
  }
}

// Wrong types in every field: each node of each body replaced in turn by a
// value of every JSON type.
TEST(ParserRobustness, EveryFieldWithEveryType) {
  const nlohmann::json replacements[] = {nullptr,
                                         true,
                                         -1,
                                         1.5,
                                         18446744073709551615ull,
                                         "x",
                                         "",
                                         nlohmann::json::array(),
                                         nlohmann::json::object(),
                                         {{"id", "x"}},
                                         nlohmann::json::array({1, "a", nullptr})};
  int cases = 0;
  for (const auto& body : Corpus()) {
    auto doc = sb::json::ParseLimited(body);
    ASSERT_TRUE(doc.ok());
    std::vector<nlohmann::json::json_pointer> pointers;
    CollectPointers(doc.value(), nlohmann::json::json_pointer(), pointers);
    for (const auto& ptr : pointers) {
      for (const auto& replacement : replacements) {
        nlohmann::json mutated = doc.value();
        mutated[ptr] = replacement;
        for (auto kind : kKinds) ExpectWellFormed(ParseWebhook(kind, mutated), ptr.to_string());
        ++cases;
      }
    }
  }
  EXPECT_GT(cases, 10'000);
}

TEST(ParserRobustness, ArbitraryTopLevelValues) {
  const nlohmann::json values[] = {nullptr,
                                   0,
                                   "page",
                                   nlohmann::json::array(),
                                   nlohmann::json::object(),
                                   {{"object", "page"}, {"entry", 1}},
                                   {{"object", "page"}, {"entry", {nullptr, 1, "x"}}}};
  for (const auto& v : values) {
    for (auto kind : kKinds) {
      auto r = ParseWebhook(kind, v);
      ASSERT_FALSE(r.ok()) << v.dump();
      EXPECT_EQ(r.error().code, "invalid_shape");
    }
  }
}

TEST(ParserRobustness, InvalidUtf8BuiltInMemoryIsDumpedSafely) {
  nlohmann::json body = {
      {"object", "page"},
      {"entry", {{{"id", "P"}, {"messaging", {{{"sender", {{"id", "U"}}}, {"reaction", {{"emoji", "\xff\xfe"}}}}}}}}}};
  auto r = ParseWebhook(ChannelKind::kMessenger, body);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value().events.size(), 1u);
  EXPECT_TRUE(nlohmann::json::accept(r.value().events[0].data_json));
}

TEST(ParserRobustness, DeepValueBuiltInMemoryDoesNotOverflow) {
  nlohmann::json deep = 1;
  for (int i = 0; i < 5000; ++i) deep = nlohmann::json::array({std::move(deep)});
  nlohmann::json body = {
      {"object", "page"},
      {"entry", {{{"id", "P"}, {"messaging", {{{"sender", {{"id", "U"}}}, {"optin", {{"deep", std::move(deep)}}}}}}}}}};
  auto r = ParseWebhook(ChannelKind::kMessenger, body);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value().events.size(), 1u);
  EXPECT_TRUE(nlohmann::json::accept(r.value().events[0].data_json));
}

}  // namespace
}  // namespace sb::gateway
