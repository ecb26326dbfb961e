#pragma once
// The phrase table behind FindCues (intent_cues.hpp).
#include <span>
#include <string_view>

#include "intent_cues.hpp"

namespace sb::router {

/// One phrase, written in folded words separated by spaces:
///   a|b|c    one word among alternatives
///   word*    a word starting with "word"
///   x?       an optional element
///   ...      zero to three arbitrary words
///   ^ / $    (first / last) the phrase must start / end the text
struct CuePhrase {
  Cue cue;
  std::string_view language;  // empty: shared by several languages
  std::string_view pattern;
};

std::span<const CuePhrase> CuePhrases();

}  // namespace sb::router
