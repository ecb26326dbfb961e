#include "text_fold.hpp"

#include <cstdint>

namespace sb::router {
namespace {

// Base letters of U+00C0..U+00FF; '*' marks the letters that fold to two.
constexpr std::string_view kLatin1 =
    "aaaaaa*ceeeeiiii"
    "dnooooo ouuuuy**"
    "aaaaaa*ceeeeiiii"
    "dnooooo ouuuuy*y";

// Base letters of U+0100..U+017F (Latin Extended-A), same convention.
constexpr std::string_view kLatinExtendedA =
    "aaaaaacc"
    "ccccccdd"
    "ddeeeeee"
    "eeeegggg"
    "gggghhhh"
    "iiiiiiii"
    "ii**jjkk"
    "klllllll"
    "lllnnnnn"
    "nnnnoooo"
    "oo**rrrr"
    "rrssssss"
    "sstttttt"
    "uuuuuuuu"
    "uuuuwwyy"
    "yzzzzzzs";

std::string_view TwoLetterFold(char32_t cp) {
  switch (cp) {
    case 0xC6:
    case 0xE6:
      return "ae";
    case 0xDE:
    case 0xFE:
      return "th";
    case 0xDF:
      return "ss";
    case 0x132:
    case 0x133:
      return "ij";
    case 0x152:
    case 0x153:
      return "oe";
    default:
      return " ";
  }
}

// Word separators outside ASCII: general punctuation, arrows, symbols,
// dingbats, CJK punctuation, variation selectors, emoji and tags.
bool IsSeparator(char32_t cp) {
  return (cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFE00 && cp <= 0xFE0F) ||
         cp == 0xFEFF || (cp >= 0x1F000 && cp <= 0x1FFFF) || cp >= 0xE0000;
}

// Decodes one code point at `i`; returns its length, 0 when the bytes are
// not well-formed UTF-8 (overlong forms and surrogates included).
std::size_t Decode(std::string_view s, std::size_t i, char32_t& cp) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  auto cont = [&](std::size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  unsigned char c = b(0);
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  if (c >= 0xC2 && c <= 0xDF && cont(1)) {
    cp = (char32_t(c & 0x1F) << 6) | (b(1) & 0x3F);
    return 2;
  }
  if (c >= 0xE0 && c <= 0xEF && cont(1) && cont(2)) {
    cp = (char32_t(c & 0x0F) << 12) | (char32_t(b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    cp = (char32_t(c & 0x07) << 18) | (char32_t(b(1) & 0x3F) << 12) | (char32_t(b(2) & 0x3F) << 6) | (b(3) & 0x3F);
    if (cp < 0x10000 || cp > 0x10FFFF) return 0;
    return 4;
  }
  return 0;
}

std::string_view FoldCodePoint(char32_t cp, std::string_view bytes, char& one) {
  auto single = [&](char c) {
    one = c;
    return std::string_view(&one, 1);
  };
  if (cp < 0x80) {
    if (cp >= 'A' && cp <= 'Z') return single(static_cast<char>(cp - 'A' + 'a'));
    if (cp < 0x20 || cp == 0x7F) return single(' ');
    return bytes;
  }
  if (cp < 0xC0) {
    if (cp == 0xAA) return single('a');
    if (cp == 0xBA || cp == 0xB0) return single('o');  // nº, n°
    return single(' ');
  }
  if (cp < 0x180) {
    char c = cp < 0x100 ? kLatin1[cp - 0xC0] : kLatinExtendedA[cp - 0x100];
    return c == '*' ? TwoLetterFold(cp) : single(c);
  }
  if (IsSeparator(cp)) return single(' ');
  return bytes;
}

}  // namespace

FoldedText FoldText(std::string_view text) {
  FoldedText out;
  out.text.reserve(text.size());
  out.source.reserve(text.size() + 1);
  std::size_t i = 0;
  while (i < text.size()) {
    char32_t cp = 0;
    std::size_t len = Decode(text, i, cp);
    std::string_view folded;
    char one = ' ';
    if (len == 0) {
      len = 1;
      folded = std::string_view(&one, 1);
    } else {
      folded = FoldCodePoint(cp, text.substr(i, len), one);
    }
    out.text.append(folded);
    out.source.insert(out.source.end(), folded.size(), i);
    i += len;
  }
  out.source.push_back(text.size());
  return out;
}

std::vector<Word> SplitWords(std::string_view folded, std::size_t max_words) {
  std::vector<Word> words;
  std::size_t i = 0;
  while (i < folded.size() && words.size() < max_words) {
    if (!IsWordByte(folded[i])) {
      ++i;
      continue;
    }
    std::size_t begin = i;
    while (i < folded.size() && IsWordByte(folded[i])) ++i;
    words.push_back({folded.substr(begin, i - begin), begin, i});
  }
  return words;
}

}  // namespace sb::router
