#pragma once
// Case and accent folding of customer text, so that "¿Dónde está?" and
// "donde esta" read the same to the intent and product matchers.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sb::router {

/// `text` is the folded form: ASCII letters in lower case, letters of the
/// Latin-1 Supplement and Latin Extended-A reduced to their base letters
/// (ß -> ss, æ -> ae, œ -> oe, ª/º/° -> a/o/o), punctuation outside ASCII,
/// emoji and invalid bytes turned into spaces, ASCII punctuation kept, other
/// scripts copied. `source[i]` is the offset in the original of the code
/// point that produced `text[i]`; one more entry holds the original's size,
/// so a folded range maps back to the original bytes.
struct FoldedText {
  std::string text;
  std::vector<std::size_t> source;

  std::string_view Original(std::string_view original, std::size_t begin, std::size_t end) const {
    return original.substr(source[begin], source[end] - source[begin]);
  }
};

FoldedText FoldText(std::string_view text);

/// A word of folded text: a maximal run of [a-z0-9] and non-ASCII bytes.
struct Word {
  std::string_view text;
  std::size_t begin = 0;
  std::size_t end = 0;
};

inline bool IsWordByte(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u >= 0x80;
}

/// The first `max_words` words of folded text.
std::vector<Word> SplitWords(std::string_view folded, std::size_t max_words);

}  // namespace sb::router
