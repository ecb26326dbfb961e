#pragma once
// Finding an order reference in customer text.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "text_fold.hpp"

namespace sb::router {

/// The first order reference in `original` (whose folded form and words are
/// given): 1-3 ASCII letters and 3-10 digits ("A1001", "SO-12345", kept as
/// written), '#' and 3-12 digits ("#4521" -> "4521"), or a number right
/// after a word meaning order ("order 99812", "pedido nº 123"; 4-12 digits
/// after the English/Spanish verb-like "order"/"orden", 3-12 after the
/// nouns). Digits inside a phone number (10+ digits written with '+' or
/// separators) are never a reference.
std::optional<std::string> FindOrderReference(std::string_view original, const FoldedText& folded,
                                              const std::vector<Word>& words);

}  // namespace sb::router
