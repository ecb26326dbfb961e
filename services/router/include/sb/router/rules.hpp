#pragma once
/// Routing rules: an ordered list, first match wins; patterns are RE2
/// (linear time on customer text). Compiled once per PUT /v1/routing,
/// matched for every routed conversation. A compiled RuleSet is immutable
/// and safe to share between threads.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sb/common/result.hpp"

namespace sb::router {

/// What a rule can look at.
struct MessageFacts {
  std::string channel_kind;  // messenger | instagram | whatsapp
  std::string intent;        // as ToString(Intent)
  std::string text;
  std::optional<std::string> ad_id;  // referral ad id of the conversation
};

struct RuleTarget {
  std::optional<std::int64_t> queue_id;
  std::optional<std::string> bot;  // order_status | in_stock
};

class RuleSet {
 public:
  /// Validates and compiles a PUT /v1/routing body:
  /// {default_queue_id, rules?: [{match: {channel_kind?, intent?, text_regex?, ad_id?},
  ///   target: {queue_id? , bot?}}]} (rules: at most 200, omitted = none;
  /// target: exactly one of queue_id and bot). Errors name the field
  /// ("rules[2].match.text_regex: ...") with code invalid_field,
  /// unknown_field or missing_field. Regexes over 1,000 characters, or that
  /// RE2 rejects or cannot fit in its memory budget, are invalid.
  static Result<std::shared_ptr<const RuleSet>> Compile(const nlohmann::json& body);

  ~RuleSet();
  std::int64_t default_queue_id() const { return default_queue_id_; }
  /// Every queue id the rules' targets name, sorted and unique; the default
  /// queue is not included (the caller checks they exist).
  std::vector<std::int64_t> QueueIds() const;
  /// The first matching rule's target, or the default queue.
  RuleTarget Match(const MessageFacts& facts) const;

  struct Rule;

 private:
  RuleSet() = default;
  std::int64_t default_queue_id_ = 0;
  std::vector<std::unique_ptr<Rule>> rules_;
};

}  // namespace sb::router
