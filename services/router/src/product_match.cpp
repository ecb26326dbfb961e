// FindProduct (declared in bot_replies.hpp).
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "sb/router/bot_replies.hpp"
#include "text_fold.hpp"

namespace sb::router {
namespace {

constexpr std::size_t kMaxWords = 500;
constexpr std::size_t kMinWordChars = 3;

// Words of three letters or more that say nothing about a product.
constexpr std::string_view kStopWords[] = {
    "the", "and", "for", "with", "you", "your", "have", "has", "this", "that", "are",  "can", "any", "del",
    "los", "las", "una", "con",  "por", "para", "les",  "des", "une",  "pour", "avec", "est", "sur", "aux",
    "der", "die", "das", "und",  "mit", "von",  "den",  "dem", "ein",  "eine", "ist",  "com", "dos", "uma",
    "tem", "sie", "ihr", "not",  "but", "from", "what", "how", "who",  "its",  "out",  "all", "more"};

std::size_t CodePoints(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::vector<std::string> ContentWords(std::string_view folded) {
  std::vector<std::string> out;
  for (const Word& w : SplitWords(folded, kMaxWords)) {
    if (CodePoints(w.text) < kMinWordChars) continue;
    if (std::find(std::begin(kStopWords), std::end(kStopWords), w.text) != std::end(kStopWords)) continue;
    if (std::find(out.begin(), out.end(), w.text) == out.end()) out.emplace_back(w.text);
  }
  return out;
}

// "hoodie" and "hoodies", "dress" and "dresses" are the same word here.
bool SameWord(std::string_view a, std::string_view b) {
  if (a.size() > b.size()) std::swap(a, b);
  if (!b.starts_with(a)) return false;
  std::string_view rest = b.substr(a.size());
  return rest.empty() || rest == "s" || rest == "es";
}

// Whether the folded SKU stands in the folded text as a whole token.
bool MentionsSku(std::string_view text, std::string_view sku) {
  if (sku.empty()) return false;
  for (std::size_t p = text.find(sku); p != std::string_view::npos; p = text.find(sku, p + 1)) {
    std::size_t end = p + sku.size();
    bool starts = p == 0 || !IsWordByte(text[p - 1]) || !IsWordByte(sku.front());
    bool ends = end == text.size() || !IsWordByte(text[end]) || !IsWordByte(sku.back());
    if (starts && ends) return true;
  }
  return false;
}

}  // namespace

std::optional<std::size_t> FindProduct(std::string_view text, const std::vector<ProductInfo>& products) {
  std::string folded = FoldText(text).text;

  // A SKU written out wins; the longest, so "TEE-10" beats "TEE-1".
  std::optional<std::size_t> by_sku;
  std::size_t sku_length = 0;
  for (std::size_t i = 0; i < products.size(); ++i) {
    std::string sku = FoldText(products[i].sku).text;
    if (sku.size() > sku_length && MentionsSku(folded, sku)) {
      by_sku = i;
      sku_length = sku.size();
    }
  }
  if (by_sku) return by_sku;

  std::vector<std::string> said = ContentWords(folded);
  std::optional<std::size_t> best;
  std::size_t best_shared = 0;
  std::size_t best_total = 0;
  for (std::size_t i = 0; i < products.size(); ++i) {
    std::vector<std::string> name = ContentWords(FoldText(products[i].name).text);
    if (name.empty()) continue;
    std::size_t shared = static_cast<std::size_t>(std::count_if(name.begin(), name.end(), [&](const std::string& n) {
      return std::any_of(said.begin(), said.end(), [&](const std::string& s) { return SameWord(n, s); });
    }));
    if (shared == 0 || shared * 2 < name.size()) continue;
    // More shared words first; then the name the text covers best
    // (shared / total, compared without division).
    bool better = !best || shared > best_shared || (shared == best_shared && name.size() < best_total);
    if (better) {
      best = i;
      best_shared = shared;
      best_total = name.size();
    }
  }
  return best;
}

}  // namespace sb::router
