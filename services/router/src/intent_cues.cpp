#include "intent_cues.hpp"

#include <algorithm>
#include <span>
#include <string>

#include "intent_cue_table.hpp"

namespace sb::router {
namespace {

// Longer texts are judged by their beginning; it bounds the work per message.
constexpr std::size_t kMaxWords = 300;
constexpr std::size_t kMaxGap = 3;

struct Alternative {
  std::string_view word;
  bool prefix = false;
};

struct Element {
  std::vector<Alternative> alternatives;
  bool optional = false;
  bool gap = false;

  bool Accepts(std::string_view w) const {
    return std::any_of(alternatives.begin(), alternatives.end(),
                       [&](const Alternative& a) { return a.prefix ? w.starts_with(a.word) : w == a.word; });
  }
};

struct Pattern {
  const CuePhrase* phrase = nullptr;
  std::vector<Element> elements;
  bool anchored_start = false;
  bool anchored_end = false;
};

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) parts.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

Pattern Parse(const CuePhrase& phrase) {
  Pattern p;
  p.phrase = &phrase;
  for (std::string_view token : Split(phrase.pattern, ' ')) {
    if (token == "^") {
      p.anchored_start = true;
      continue;
    }
    if (token == "$") {
      p.anchored_end = true;
      continue;
    }
    Element e;
    if (token == "...") {
      e.gap = true;
      p.elements.push_back(e);
      continue;
    }
    if (token.ends_with('?')) {
      e.optional = true;
      token.remove_suffix(1);
    }
    for (std::string_view alt : Split(token, '|')) {
      bool prefix = alt.ends_with('*');
      if (prefix) alt.remove_suffix(1);
      e.alternatives.push_back({alt, prefix});
    }
    p.elements.push_back(std::move(e));
  }
  return p;
}

const std::vector<Pattern>& Patterns() {
  static const std::vector<Pattern> patterns = [] {
    std::vector<Pattern> out;
    for (const auto& phrase : CuePhrases()) out.push_back(Parse(phrase));
    return out;
  }();
  return patterns;
}

bool MatchAt(const Pattern& p, std::size_t e, std::span<const Word> words, std::size_t i) {
  if (e == p.elements.size()) return !p.anchored_end || i == words.size();
  const Element& el = p.elements[e];
  if (el.gap) {
    for (std::size_t skip = 0; skip <= kMaxGap && i + skip <= words.size(); ++skip) {
      if (MatchAt(p, e + 1, words, i + skip)) return true;
    }
    return false;
  }
  if (el.optional && MatchAt(p, e + 1, words, i)) return true;
  return i < words.size() && el.Accepts(words[i].text) && MatchAt(p, e + 1, words, i + 1);
}

}  // namespace

std::vector<CueHit> FindCues(const std::vector<Word>& all_words) {
  std::span<const Word> words(all_words.data(), std::min(all_words.size(), kMaxWords));
  std::vector<CueHit> hits;
  for (const Pattern& p : Patterns()) {
    std::size_t last_start = p.anchored_start ? 0 : words.size();
    for (std::size_t i = 0; i <= last_start && i < words.size(); ++i) {
      if (MatchAt(p, 0, words, i)) {
        hits.push_back({p.phrase->cue, p.phrase->language, i});
        break;
      }
    }
  }
  return hits;
}

}  // namespace sb::router
