#pragma once
// The phrases that signal an intent or a request for a person, in English,
// Spanish, French, German and Portuguese, matched word by word on folded
// text (see text_fold.hpp).
#include <string_view>
#include <vector>

#include "text_fold.hpp"

namespace sb::router {

enum class Cue { kOrderStatus, kInStock, kPurchase, kSupport, kHuman };

struct CueHit {
  Cue cue;
  /// en | es | fr | de | pt, or empty for phrases several languages share.
  std::string_view language;
  /// Index of the first word of the match.
  std::size_t word = 0;
};

/// Every phrase that occurs in `words` (each phrase once, at its first match).
std::vector<CueHit> FindCues(const std::vector<Word>& words);

namespace detail {
/// The same answer as FindCues, found by trying every phrase at every word:
/// the reference the indexed FindCues is tested against.
std::vector<CueHit> FindCuesEverywhere(const std::vector<Word>& words);
}  // namespace detail

}  // namespace sb::router
