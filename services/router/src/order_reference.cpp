#include "order_reference.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

namespace sb::router {
namespace {

using Span = std::pair<std::size_t, std::size_t>;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool AllDigits(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), IsDigit); }

bool In(std::string_view word, std::initializer_list<std::string_view> set) {
  return std::find(set.begin(), set.end(), word) != set.end();
}

// Runs such as "+55 11 99999-0000" or "(415) 555-0100": 10+ digits written
// with '+' or separators. A bare run of digits is left to the order rules.
std::vector<Span> PhoneSpans(std::string_view s) {
  constexpr std::string_view kPhoneChars = "0123456789 +-.()/";
  std::vector<Span> spans;
  std::size_t i = 0;
  while (i < s.size()) {
    bool starts = (s[i] == '+' || s[i] == '(' || IsDigit(s[i])) && (i == 0 || !IsWordByte(s[i - 1]));
    if (!starts) {
      ++i;
      continue;
    }
    std::size_t end = i;
    int digits = 0;
    bool separated = false;
    for (std::size_t k = i; k < s.size() && kPhoneChars.find(s[k]) != std::string_view::npos; ++k) {
      if (IsDigit(s[k])) {
        ++digits;
        end = k + 1;
      } else if (digits > 0 || s[k] == '+') {
        separated = true;
      }
    }
    // A run that ends inside a word ("12345abc") is not a phone number.
    bool word_follows = end < s.size() && IsWordByte(s[end]);
    if (digits >= 10 && separated && !word_follows) spans.emplace_back(i, end);
    i = std::max(end, i + 1);
  }
  return spans;
}

bool InPhone(const std::vector<Span>& phones, std::size_t begin, std::size_t end) {
  return std::any_of(phones.begin(), phones.end(), [&](const Span& p) { return begin < p.second && p.first < end; });
}

struct Candidate {
  std::size_t position;
  std::string ref;
};

// '#' and 3-12 digits.
std::optional<Candidate> HashReference(std::string_view s, const std::vector<Span>& phones) {
  for (std::size_t i = s.find('#'); i != std::string_view::npos; i = s.find('#', i + 1)) {
    std::size_t k = i + 1;
    while (k < s.size() && IsDigit(s[k])) ++k;
    std::size_t n = k - i - 1;
    if (n < 3 || n > 12 || (k < s.size() && IsWordByte(s[k])) || InPhone(phones, i + 1, k)) continue;
    return Candidate{i, std::string(s.substr(i + 1, n))};
  }
  return std::nullopt;
}

// 1-3 letters, an optional '-', 3-10 digits: "A1001", "SO-12345".
std::optional<Candidate> PrefixedReference(std::string_view original, const FoldedText& folded,
                                           const std::vector<Span>& phones) {
  std::string_view s = folded.text;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!IsLower(s[i]) || (i > 0 && (IsWordByte(s[i - 1]) || s[i - 1] == '-'))) continue;
    std::size_t k = i;
    // Letters that were accented in the original ("nº") are not a prefix.
    while (k < s.size() && IsLower(s[k]) && IsAsciiLetter(original[folded.source[k]])) ++k;
    std::size_t letters = k - i;
    if (letters == 0 || letters > 3 || (k < s.size() && IsLower(s[k]))) continue;
    if (In(s.substr(i, letters), {"no", "nr", "n"})) continue;  // "Nr12345" is "number 12345"
    if (k < s.size() && s[k] == '-') ++k;
    std::size_t digits_begin = k;
    while (k < s.size() && IsDigit(s[k])) ++k;
    std::size_t digits = k - digits_begin;
    if (digits < 3 || digits > 10 || (k < s.size() && IsWordByte(s[k])) || InPhone(phones, digits_begin, k)) continue;
    return Candidate{i, std::string(folded.Original(original, i, k))};
  }
  return std::nullopt;
}

// Words meaning "order"; "order"/"orders"/"orden" are also verbs ("order
// 100 units"), so a reference after them needs 4 digits.
enum class OrderWord { kNone, kVerbLike, kNoun };

OrderWord ClassifyOrderWord(const FoldedText& folded, std::string_view original, const Word& w) {
  if (In(w.text, {"order", "orders", "orden"})) return OrderWord::kVerbLike;
  if (In(w.text, {"pedido", "pedidos", "commande", "commandes", "bestellung", "bestellungen", "encomenda", "encomendas",
                  "bestellnummer", "bestellnr", "ordernumber", "ordernr"})) {
    return OrderWord::kNoun;
  }
  // "nº"/"n°" or "no." (a bare "no" is just "no").
  if (w.text == "no") {
    bool ordinal = !IsAsciiLetter(original[folded.source[w.begin + 1]]);
    bool dotted = w.end < folded.text.size() && folded.text[w.end] == '.';
    if (ordinal || dotted) return OrderWord::kNoun;
  }
  return OrderWord::kNone;
}

std::optional<Candidate> WordReference(std::string_view original, const FoldedText& folded,
                                       const std::vector<Word>& words, const std::vector<Span>& phones) {
  constexpr std::size_t kMaxConnectors = 3;
  for (std::size_t i = 0; i < words.size(); ++i) {
    OrderWord kind = ClassifyOrderWord(folded, original, words[i]);
    if (kind == OrderWord::kNone) continue;
    std::size_t j = i + 1;
    while (j < words.size() && j - i - 1 < kMaxConnectors &&
           In(words[j].text,
              {"number", "numero", "nummer", "nr", "nro", "no", "num", "n",  "is",  "es",        "est",
               "ist",    "e",      "de",     "do", "da",  "du", "del", "id", "ref", "reference", "referencia"})) {
      ++j;
    }
    if (j >= words.size() || !AllDigits(words[j].text)) continue;
    // Only spaces and ".:#-" between the words: "order: 99812", "no. 123".
    std::string_view between = std::string_view(folded.text).substr(words[i].end, words[j].begin - words[i].end);
    bool clean = std::all_of(between.begin(), between.end(), [](char c) {
      return c == ' ' || c == '.' || c == ':' || c == '#' || c == '-' || IsWordByte(c);
    });
    std::size_t n = words[j].text.size();
    std::size_t min_digits = kind == OrderWord::kVerbLike ? 4 : 3;
    if (!clean || n < min_digits || n > 12 || InPhone(phones, words[j].begin, words[j].end)) continue;
    return Candidate{words[i].begin, std::string(words[j].text)};
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> FindOrderReference(std::string_view original, const FoldedText& folded,
                                              const std::vector<Word>& words) {
  auto phones = PhoneSpans(folded.text);
  std::array<std::optional<Candidate>, 3> found = {HashReference(folded.text, phones),
                                                   PrefixedReference(original, folded, phones),
                                                   WordReference(original, folded, words, phones)};
  const Candidate* best = nullptr;
  for (const auto& c : found) {
    if (c && (!best || c->position < best->position)) best = &*c;
  }
  if (!best) return std::nullopt;
  return best->ref;
}

}  // namespace sb::router
