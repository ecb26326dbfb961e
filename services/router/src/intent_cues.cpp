#include "intent_cues.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <span>
#include <string>
#include <unordered_map>

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

unsigned char FirstByte(std::string_view w) { return w.empty() ? 0 : static_cast<unsigned char>(w.front()); }

// Which patterns can start at a word: a pattern whose first element is a
// required word can only match where that word is, so the text's words pick
// the few patterns worth trying instead of trying every pattern everywhere.
struct PatternIndex {
  std::vector<Pattern> patterns;
  std::unordered_map<std::string_view, std::vector<std::size_t>> by_word;
  std::unordered_map<std::string_view, std::vector<std::size_t>> by_prefix;
  /// The lengths of by_prefix's keys, shortest first, and the bytes they
  /// start with: a word is looked up once for each length, and only when
  /// its first byte starts a key (most words start none).
  std::vector<std::size_t> prefix_lengths;
  std::array<bool, 256> starts_prefix{};
  /// Patterns that start with an optional element, a gap or a bare `*`:
  /// tried everywhere.
  std::vector<std::size_t> everywhere;
};

const PatternIndex& Index() {
  static const PatternIndex index = [] {
    PatternIndex out;
    for (const auto& phrase : CuePhrases()) out.patterns.push_back(Parse(phrase));
    for (std::size_t i = 0; i < out.patterns.size(); ++i) {
      const Pattern& p = out.patterns[i];
      const Element* head = p.elements.empty() ? nullptr : &p.elements[0];
      auto any_word = [](const Alternative& a) { return a.prefix && a.word.empty(); };
      if (!head || head->optional || head->gap ||
          std::any_of(head->alternatives.begin(), head->alternatives.end(), any_word)) {
        out.everywhere.push_back(i);
        continue;
      }
      for (const Alternative& a : head->alternatives) {
        if (a.prefix) {
          out.by_prefix[a.word].push_back(i);
          out.starts_prefix[FirstByte(a.word)] = true;
          out.prefix_lengths.push_back(a.word.size());
        } else {
          out.by_word[a.word].push_back(i);
        }
      }
    }
    std::sort(out.prefix_lengths.begin(), out.prefix_lengths.end());
    out.prefix_lengths.erase(std::unique(out.prefix_lengths.begin(), out.prefix_lengths.end()),
                             out.prefix_lengths.end());
    return out;
  }();
  return index;
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
  const PatternIndex& index = Index();
  constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
  std::vector<std::size_t> first(index.patterns.size(), kNone);
  auto try_at = [&](std::size_t pattern, std::size_t i) {
    const Pattern& p = index.patterns[pattern];
    if (first[pattern] != kNone || (p.anchored_start && i != 0)) return;
    if (MatchAt(p, 0, words, i)) first[pattern] = i;
  };
  auto try_all = [&](const std::vector<std::size_t>* patterns, std::size_t i) {
    if (patterns == nullptr) return;
    for (std::size_t pattern : *patterns) try_at(pattern, i);
  };
  auto find = [](const auto& map, std::string_view key) {
    auto it = map.find(key);
    return it == map.end() ? nullptr : &it->second;
  };
  // Word by word from the start, so each pattern keeps its earliest match.
  for (std::size_t i = 0; i < words.size(); ++i) {
    std::string_view w = words[i].text;
    try_all(find(index.by_word, w), i);
    if (index.starts_prefix[FirstByte(w)]) {
      for (std::size_t n : index.prefix_lengths) {
        if (n > w.size()) break;
        try_all(find(index.by_prefix, w.substr(0, n)), i);
      }
    }
    try_all(&index.everywhere, i);
  }
  std::vector<CueHit> hits;
  for (std::size_t pattern = 0; pattern < index.patterns.size(); ++pattern) {
    if (first[pattern] == kNone) continue;
    const CuePhrase& phrase = *index.patterns[pattern].phrase;
    hits.push_back({phrase.cue, phrase.language, first[pattern]});
  }
  return hits;
}

namespace detail {

std::vector<CueHit> FindCuesEverywhere(const std::vector<Word>& all_words) {
  std::span<const Word> words(all_words.data(), std::min(all_words.size(), kMaxWords));
  std::vector<CueHit> hits;
  for (const Pattern& p : Index().patterns) {
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

}  // namespace detail

}  // namespace sb::router
