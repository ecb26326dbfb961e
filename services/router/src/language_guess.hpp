#pragma once
// Which of en/es/fr/de/pt a message is written in, from the phrases it
// matched and its common function words.
#include <string>
#include <vector>

#include "intent_cues.hpp"
#include "text_fold.hpp"

namespace sb::router {

/// en | es | fr | de | pt, or empty when the words give no clear answer.
std::string GuessLanguage(const std::vector<Word>& words, const std::vector<CueHit>& hits);

}  // namespace sb::router
