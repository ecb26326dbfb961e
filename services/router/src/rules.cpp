#include "sb/router/rules.hpp"

#include <re2/re2.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <set>
#include <string_view>

namespace sb::router {

struct RuleSet::Rule {
  std::optional<std::string> channel_kind;
  std::optional<std::string> intent;
  std::optional<std::string> ad_id;
  std::unique_ptr<RE2> text_regex;
  RuleTarget target;

  bool Matches(const MessageFacts& facts) const {
    if (channel_kind && facts.channel_kind != *channel_kind) return false;
    if (intent && facts.intent != *intent) return false;
    if (ad_id && facts.ad_id != *ad_id) return false;
    if (text_regex && !RE2::PartialMatch(facts.text, *text_regex)) return false;
    return true;
  }
};

namespace {

constexpr std::size_t kMaxRules = 200;
constexpr std::size_t kMaxPatternChars = 1000;
constexpr std::size_t kMaxAdIdBytes = 256;
// RE2 refuses to compile a pattern whose automaton needs more than this.
constexpr std::int64_t kRegexMemoryBudget = 1 << 20;
// And a compiled program past this many instructions is refused even when
// it fits: matching cost grows with program size, on every routed message.
constexpr int kMaxProgramSize = 20000;

constexpr std::array<std::string_view, 3> kChannelKinds = {"messenger", "instagram", "whatsapp"};
constexpr std::array<std::string_view, 5> kIntents = {"order_status", "in_stock", "purchase", "support", "other"};
constexpr std::array<std::string_view, 2> kBots = {"order_status", "in_stock"};

// Validation stops at the first problem; this carries it out of the helpers.
struct Invalid {
  Error error;
};

[[noreturn]] void Fail(std::string_view code, const std::string& path, const std::string& what) {
  throw Invalid{Error{std::string(code), path + ": " + what}};
}

template <class Names>
std::string Join(const Names& names) {
  std::string out;
  for (std::string_view name : names) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

std::string Child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

void RequireObject(const nlohmann::json& value, const std::string& path) {
  if (!value.is_object()) Fail("invalid_field", path, "must be an object");
}

void RejectUnknown(const nlohmann::json& object, const std::string& path,
                   std::initializer_list<std::string_view> allowed) {
  for (const auto& item : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), item.key()) == allowed.end()) {
      Fail("unknown_field", Child(path, item.key()), "unknown field; allowed: " + Join(allowed));
    }
  }
}

// A member that is absent or null.
const nlohmann::json* Member(const nlohmann::json& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

std::int64_t PositiveId(const nlohmann::json& value, const std::string& path) {
  if (value.is_number_unsigned()) {
    auto u = value.get<std::uint64_t>();
    if (u > 0 && u <= static_cast<std::uint64_t>(INT64_MAX)) return static_cast<std::int64_t>(u);
  } else if (value.is_number_integer()) {
    auto v = value.get<std::int64_t>();
    if (v > 0) return v;
  }
  Fail("invalid_field", path, "must be a positive integer");
}

std::string NonEmptyString(const nlohmann::json& value, const std::string& path, std::size_t max_bytes) {
  if (!value.is_string()) Fail("invalid_field", path, "must be a string");
  auto s = value.get<std::string>();
  if (s.empty()) Fail("invalid_field", path, "must not be empty");
  if (s.size() > max_bytes) Fail("invalid_field", path, "must be at most " + std::to_string(max_bytes) + " bytes");
  return s;
}

template <std::size_t N>
std::string OneOf(const nlohmann::json& value, const std::string& path,
                  const std::array<std::string_view, N>& choices) {
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    if (std::find(choices.begin(), choices.end(), s) != choices.end()) return s;
  }
  Fail("invalid_field", path, "must be one of: " + Join(choices));
}

std::size_t CodePoints(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::unique_ptr<RE2> CompileRegex(const nlohmann::json& value, const std::string& path) {
  if (!value.is_string()) Fail("invalid_field", path, "must be a string");
  const auto& pattern = value.get_ref<const std::string&>();
  if (pattern.empty()) Fail("invalid_field", path, "must not be empty");
  if (CodePoints(pattern) > kMaxPatternChars) {
    Fail("invalid_field", path, "must be at most " + std::to_string(kMaxPatternChars) + " characters");
  }
  RE2::Options options;
  options.set_encoding(RE2::Options::EncodingUTF8);
  options.set_case_sensitive(false);
  options.set_max_mem(kRegexMemoryBudget);
  options.set_log_errors(false);
  options.set_never_capture(true);
  auto re = std::make_unique<RE2>(pattern, options);
  if (!re->ok()) {
    if (re->error_code() == RE2::ErrorPatternTooLarge) Fail("invalid_field", path, "too complex");
    Fail("invalid_field", path, "invalid regular expression: " + re->error());
  }
  if (re->ProgramSize() > kMaxProgramSize) Fail("invalid_field", path, "too complex");
  return re;
}

void ReadMatch(const nlohmann::json& match, const std::string& path, RuleSet::Rule& rule) {
  RequireObject(match, path);
  RejectUnknown(match, path, {"channel_kind", "intent", "text_regex", "ad_id"});
  if (auto* v = Member(match, "channel_kind"))
    rule.channel_kind = OneOf(*v, Child(path, "channel_kind"), kChannelKinds);
  if (auto* v = Member(match, "intent")) rule.intent = OneOf(*v, Child(path, "intent"), kIntents);
  if (auto* v = Member(match, "text_regex")) rule.text_regex = CompileRegex(*v, Child(path, "text_regex"));
  if (auto* v = Member(match, "ad_id")) rule.ad_id = NonEmptyString(*v, Child(path, "ad_id"), kMaxAdIdBytes);
}

RuleTarget ReadTarget(const nlohmann::json& target, const std::string& path) {
  RequireObject(target, path);
  RejectUnknown(target, path, {"queue_id", "bot"});
  const auto* queue = Member(target, "queue_id");
  const auto* bot = Member(target, "bot");
  if (queue && bot) Fail("invalid_field", path, "give either queue_id or bot, not both");
  if (!queue && !bot) Fail("missing_field", path, "queue_id or bot is required");
  RuleTarget t;
  if (queue) t.queue_id = PositiveId(*queue, Child(path, "queue_id"));
  if (bot) t.bot = OneOf(*bot, Child(path, "bot"), kBots);
  return t;
}

const nlohmann::json& Required(const nlohmann::json& object, const std::string& path, std::string_view key) {
  const auto* v = Member(object, key);
  if (!v) Fail("missing_field", Child(path, key), "is required");
  return *v;
}

}  // namespace

RuleSet::~RuleSet() = default;

Result<std::shared_ptr<const RuleSet>> RuleSet::Compile(const nlohmann::json& body) {
  try {
    if (!body.is_object()) Fail("invalid_json", "request body", "must be a JSON object");
    RejectUnknown(body, "", {"default_queue_id", "rules"});
    std::shared_ptr<RuleSet> set(new RuleSet());
    set->default_queue_id_ = PositiveId(Required(body, "", "default_queue_id"), "default_queue_id");
    // "rules" may be omitted (or null): the default queue takes everything.
    static const nlohmann::json kNoRules = nlohmann::json::array();
    const auto* given = Member(body, "rules");
    const auto& rules = given ? *given : kNoRules;
    if (!rules.is_array()) Fail("invalid_field", "rules", "must be an array");
    if (rules.size() > kMaxRules) Fail("invalid_field", "rules", "at most " + std::to_string(kMaxRules) + " rules");
    for (std::size_t i = 0; i < rules.size(); ++i) {
      std::string path = "rules[" + std::to_string(i) + "]";
      RequireObject(rules[i], path);
      RejectUnknown(rules[i], path, {"match", "target"});
      auto rule = std::make_unique<Rule>();
      ReadMatch(Required(rules[i], path, "match"), Child(path, "match"), *rule);
      rule->target = ReadTarget(Required(rules[i], path, "target"), Child(path, "target"));
      set->rules_.push_back(std::move(rule));
    }
    return std::shared_ptr<const RuleSet>(std::move(set));
  } catch (const Invalid& invalid) {
    return invalid.error;
  }
}

std::vector<std::int64_t> RuleSet::QueueIds() const {
  std::set<std::int64_t> ids;
  for (const auto& rule : rules_) {
    if (rule->target.queue_id) ids.insert(*rule->target.queue_id);
  }
  return {ids.begin(), ids.end()};
}

RuleTarget RuleSet::Match(const MessageFacts& facts) const {
  for (const auto& rule : rules_) {
    if (rule->Matches(facts)) return rule->target;
  }
  return RuleTarget{default_queue_id_, std::nullopt};
}

}  // namespace sb::router
