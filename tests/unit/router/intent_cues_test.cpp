// The indexed phrase matcher must find exactly what trying every phrase at
// every word finds: same phrases, same order, same first positions.
#include "intent_cues.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "intent_cue_table.hpp"
#include "text_fold.hpp"

namespace sb::router {
namespace {

std::vector<Word> WordsOf(const std::string& folded) { return SplitWords(folded, folded.size()); }

void ExpectSameHits(const std::string& text) {
  FoldedText folded = FoldText(text);
  std::vector<Word> words = WordsOf(folded.text);
  std::vector<CueHit> fast = FindCues(words);
  std::vector<CueHit> slow = detail::FindCuesEverywhere(words);
  ASSERT_EQ(fast.size(), slow.size()) << text;
  for (std::size_t i = 0; i < fast.size(); ++i) {
    EXPECT_EQ(fast[i].cue, slow[i].cue) << text;
    EXPECT_EQ(fast[i].language, slow[i].language) << text;
    EXPECT_EQ(fast[i].word, slow[i].word) << text;
  }
}

// Every word the phrase table knows (prefix words also with a suffix), so
// random sentences made of them hit many phrases, near-misses included.
std::vector<std::string> Vocabulary() {
  std::vector<std::string> out{"a", "the", "please", "x", "hello", "1001"};
  for (const CuePhrase& phrase : CuePhrases()) {
    std::string_view pattern = phrase.pattern;
    std::string token;
    auto flush = [&] {
      std::size_t start = 0;
      while (start <= token.size()) {
        std::size_t bar = token.find('|', start);
        if (bar == std::string::npos) bar = token.size();
        std::string alt = token.substr(start, bar - start);
        if (!alt.empty() && alt.back() == '?') alt.pop_back();
        if (!alt.empty() && alt.back() == '*') {
          alt.pop_back();
          out.push_back(alt + "ing");
        }
        if (!alt.empty() && alt != "^" && alt != "$" && alt != "...") out.push_back(alt);
        start = bar + 1;
      }
      token.clear();
    };
    for (char c : pattern) {
      if (c == ' ') {
        flush();
      } else {
        token.push_back(c);
      }
    }
    flush();
  }
  return out;
}

TEST(FindCues, TheIndexFindsWhatTryingEveryPhraseFinds) {
  std::vector<std::string> vocabulary = Vocabulary();
  ASSERT_GT(vocabulary.size(), 200u);
  std::mt19937 rng(20261129);
  std::uniform_int_distribution<std::size_t> pick(0, vocabulary.size() - 1);
  std::uniform_int_distribution<int> length(1, 14);
  int with_hits = 0;
  for (int sentence = 0; sentence < 20000; ++sentence) {
    std::string text;
    for (int n = length(rng); n > 0; --n) text += vocabulary[pick(rng)] + " ";
    ExpectSameHits(text);
    FoldedText folded = FoldText(text);
    if (!FindCues(WordsOf(folded.text)).empty()) ++with_hits;
    if (HasFailure()) return;
  }
  // The sentences must exercise matches, not only misses.
  EXPECT_GT(with_hits, 10000);
}

TEST(FindCues, PhrasesAndEdgeCases) {
  for (const char* text : {"", "where is my order", "Where's my order A1001?", "track it", "tracking", "hi",
                           "on the way", "I want to speak to a human", "¿Dónde está mi pedido?", "ist es verfügbar",
                           "quero comprar dois", "agent agent agent agent", "order order order status"}) {
    ExpectSameHits(text);
  }
  // Longer than the words judged: both stop at the same place.
  std::string long_text;
  for (int i = 0; i < 400; ++i) long_text += "word ";
  long_text += "where is my order";
  ExpectSameHits(long_text);
}

}  // namespace
}  // namespace sb::router
