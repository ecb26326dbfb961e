#include "sb/router/intent.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>

#include "intent_cues.hpp"
#include "language_guess.hpp"
#include "order_reference.hpp"
#include "text_fold.hpp"

namespace sb::router {
namespace {

constexpr std::array<std::string_view, 5> kIntentNames = {"order_status", "in_stock", "purchase", "support", "other"};

// Chat messages are short; a longer text is judged by its beginning, which
// bounds the work an oversized message can cause.
constexpr std::size_t kMaxTextBytes = 8 * 1024;
constexpr std::size_t kMaxPayloadBytes = 256;

std::string_view Prefix(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t end = max_bytes;
  // Do not cut a UTF-8 sequence in half.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

bool HasAny(const std::vector<Word>& words, std::initializer_list<std::string_view> set) {
  return std::any_of(words.begin(), words.end(),
                     [&](const Word& w) { return std::find(set.begin(), set.end(), w.text) != set.end(); });
}

struct PayloadReading {
  std::optional<Intent> intent;
  bool human = false;
};

// Payloads are the business's own button ids ("ORDER_STATUS", "TRACK_ORDER",
// "TALK_TO_AGENT"): read their words, not the customer's phrasing.
PayloadReading ReadPayload(std::string_view payload) {
  PayloadReading r;
  if (payload.empty()) return r;
  FoldedText folded = FoldText(Prefix(payload, kMaxPayloadBytes));
  std::vector<Word> words = SplitWords(folded.text, 32);
  r.human = HasAny(words, {"agent", "agents", "human", "humans", "person", "operator", "representative", "staff",
                           "handover", "handoff"});
  if (auto named = IntentFromString(folded.text)) {
    r.intent = named;
  } else if (HasAny(words, {"track", "tracking", "wismo"}) ||
             (HasAny(words, {"order", "orders"}) && HasAny(words, {"status", "where", "lookup"}))) {
    r.intent = Intent::kOrderStatus;
  } else if (HasAny(words, {"stock", "instock", "availability", "available"})) {
    r.intent = Intent::kInStock;
  } else if (HasAny(words, {"buy", "purchase", "shop", "price", "pricing", "checkout"})) {
    r.intent = Intent::kPurchase;
  } else if (HasAny(words, {"support", "refund", "return", "returns", "complaint", "problem"})) {
    r.intent = Intent::kSupport;
  }
  return r;
}

bool Has(const std::vector<CueHit>& hits, Cue cue) {
  return std::any_of(hits.begin(), hits.end(), [&](const CueHit& h) { return h.cue == cue; });
}

// A complaint needs a person even when it mentions an order; a phrase beats
// a bare order reference ("is A1001 in stock?" asks about stock).
Intent Decide(const std::vector<CueHit>& hits, bool has_order_ref) {
  if (Has(hits, Cue::kSupport)) return Intent::kSupport;
  if (Has(hits, Cue::kOrderStatus)) return Intent::kOrderStatus;
  if (Has(hits, Cue::kInStock)) return Intent::kInStock;
  if (Has(hits, Cue::kPurchase)) return Intent::kPurchase;
  if (has_order_ref) return Intent::kOrderStatus;
  return Intent::kOther;
}

}  // namespace

std::string_view ToString(Intent intent) { return kIntentNames[static_cast<std::size_t>(intent)]; }

std::optional<Intent> IntentFromString(std::string_view text) {
  auto it = std::find(kIntentNames.begin(), kIntentNames.end(), text);
  if (it == kIntentNames.end()) return std::nullopt;
  return static_cast<Intent>(it - kIntentNames.begin());
}

Detection DetectIntent(std::string_view text, std::string_view payload) {
  text = Prefix(text, kMaxTextBytes);
  FoldedText folded = FoldText(text);
  std::vector<Word> words = SplitWords(folded.text, kMaxTextBytes);
  std::vector<CueHit> hits = FindCues(words);

  Detection d;
  d.order_ref = FindOrderReference(text, folded, words);
  d.wants_human = Has(hits, Cue::kHuman);
  d.intent = Decide(hits, d.order_ref.has_value());
  d.language = GuessLanguage(words, hits);

  PayloadReading button = ReadPayload(payload);
  if (button.intent) d.intent = *button.intent;
  if (button.human) d.wants_human = true;
  return d;
}

}  // namespace sb::router
