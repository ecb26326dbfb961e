// Routing rules over arbitrary PUT /v1/routing bodies and message facts.
// Input: `body NUL text NUL channel_kind NUL intent NUL ad_id` (missing
// fields are empty; no ad_id field: none). Compiling never throws and fails
// only with the documented codes naming a field; a compiled set answers
// every message with exactly one target: a rule's or the default queue.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <string>

#include "fuzz_checks.hpp"
#include "sb/common/json/limited_parse.hpp"
#include "sb/router/rules.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto fields = sb::fuzz::SplitFields(sb::fuzz::AsText(data, size), 5);
  auto field = [&](std::size_t i) { return i < fields.size() ? std::string(fields[i]) : std::string(); };

  auto body = sb::json::ParseLimited(fields[0]);
  if (!body) return 0;
  auto compiled = sb::router::RuleSet::Compile(body.value());
  if (!compiled) {
    const auto& error = compiled.error();
    SB_FUZZ_CHECK(error.code == "invalid_field" || error.code == "unknown_field" || error.code == "missing_field" ||
                      error.code == "invalid_json",
                  error.code);
    SB_FUZZ_CHECK(!error.message.empty(), "an error without a message");
    return 0;
  }
  const auto& rules = *compiled.value();
  SB_FUZZ_CHECK(rules.default_queue_id() > 0, "default queue id not positive");
  const auto ids = rules.QueueIds();
  SB_FUZZ_CHECK(std::is_sorted(ids.begin(), ids.end()) && std::adjacent_find(ids.begin(), ids.end()) == ids.end(),
                "queue ids not sorted and unique");
  SB_FUZZ_CHECK(std::all_of(ids.begin(), ids.end(), [](std::int64_t id) { return id > 0; }), "queue id not positive");

  sb::router::MessageFacts facts;
  facts.text = field(1);
  facts.channel_kind = field(2);
  facts.intent = field(3);
  if (fields.size() > 4) facts.ad_id = field(4);
  const auto target = rules.Match(facts);
  SB_FUZZ_CHECK(target.queue_id.has_value() != target.bot.has_value(), "a target must be a queue or a bot");
  if (target.queue_id) {
    SB_FUZZ_CHECK(
        *target.queue_id == rules.default_queue_id() || std::binary_search(ids.begin(), ids.end(), *target.queue_id),
        "matched a queue no rule names");
  } else {
    SB_FUZZ_CHECK(*target.bot == "order_status" || *target.bot == "in_stock", "unknown bot " + *target.bot);
  }
  return 0;
}
