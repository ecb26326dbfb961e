// Intent detection over arbitrary customer text and button payloads. Input:
// `text NUL payload` (no NUL: no payload). Detection never throws and gives
// one of the five intents, a known language or none, and an order reference
// that is short, non-empty and valid UTF-8 when the text is. The text
// folding under it keeps its offset map consistent with the original.
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

#include "fuzz_checks.hpp"
#include "sb/router/intent.hpp"
#include "text_fold.hpp"

namespace {

void CheckFolding(std::string_view original) {
  const auto folded = sb::router::FoldText(original);
  SB_FUZZ_CHECK(folded.source.size() == folded.text.size() + 1, "offset map size");
  SB_FUZZ_CHECK(folded.source.back() == original.size(), "offset map does not end at the original's size");
  SB_FUZZ_CHECK(std::is_sorted(folded.source.begin(), folded.source.end()), "offset map goes backwards");
  if (sb::fuzz::IsValidUtf8(original)) {
    SB_FUZZ_CHECK(sb::fuzz::IsValidUtf8(folded.text), "folding valid UTF-8 gave invalid UTF-8");
  }
  for (const auto& word : sb::router::SplitWords(folded.text, 64)) {
    SB_FUZZ_CHECK(!word.text.empty() && word.begin < word.end && word.end <= folded.text.size(), "word range");
    (void)folded.Original(original, word.begin, word.end);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto fields = sb::fuzz::SplitFields(sb::fuzz::AsText(data, size), 2);
  const std::string_view text = fields[0];
  const std::string_view payload = fields.size() > 1 ? fields[1] : std::string_view();

  CheckFolding(text);
  const auto d = sb::router::DetectIntent(text, payload);
  const auto name = sb::router::ToString(d.intent);
  SB_FUZZ_CHECK(sb::router::IntentFromString(name) == d.intent, "intent name does not round-trip");
  static constexpr std::array<std::string_view, 6> kLanguages = {"", "en", "es", "fr", "de", "pt"};
  SB_FUZZ_CHECK(std::find(kLanguages.begin(), kLanguages.end(), d.language) != kLanguages.end(),
                "unknown language " + d.language);
  if (d.order_ref) {
    SB_FUZZ_CHECK(!d.order_ref->empty() && d.order_ref->size() <= 32, "order reference: " + *d.order_ref);
    if (sb::fuzz::IsValidUtf8(text)) SB_FUZZ_CHECK(sb::fuzz::IsValidUtf8(*d.order_ref), "order reference UTF-8");
  }
  // Without a payload the text alone decides.
  const auto plain = sb::router::DetectIntent(text);
  if (payload.empty()) {
    SB_FUZZ_CHECK(plain.intent == d.intent && plain.order_ref == d.order_ref && plain.wants_human == d.wants_human,
                  "an empty payload changed the detection");
  }
  return 0;
}
