#include "language_guess.hpp"

#include <algorithm>
#include <array>
#include <span>
#include <string_view>
#include <unordered_map>

namespace sb::router {
namespace {

constexpr std::array<std::string_view, 5> kLanguages = {"en", "es", "fr", "de", "pt"};

// Function words that mostly belong to one language (folded). Words two of
// the languages share ("de", "la", "que", "como", "du", "por favor") are
// left out.
constexpr std::string_view kEnglish[] = {
    "the",  "is",    "are",  "my",   "where",  "you", "your", "have",  "has",    "what",  "when", "how", "i",
    "it",   "this",  "and",  "to",   "please", "can", "hi",   "hello", "thanks", "thank", "of",   "for", "with",
    "want", "would", "like", "much", "any",    "yes", "hey",  "order", "at",     "call",  "lol"};
constexpr std::string_view kSpanish[] = {"el",     "los",   "las",    "mi",    "mis",     "donde",    "estan",
                                         "tienen", "tiene", "quiero", "hola",  "gracias", "cuando",   "cuanto",
                                         "con",    "del",   "una",    "hay",   "puedo",   "necesito", "pero",
                                         "muy",    "ya",    "su",     "usted", "y",       "estoy",    "quisiera"};
constexpr std::string_view kFrench[] = {"le",   "les",     "ma",    "mon",      "est",      "je",   "vous",
                                        "nous", "bonjour", "merci", "des",      "avec",     "pour", "ce",
                                        "il",   "plait",   "pas",   "suis",     "et",       "ai",   "une",
                                        "au",   "svp",     "quand", "voudrais", "commande", "oui",  "salut"};
constexpr std::string_view kGerman[] = {"ist", "meine", "mein",   "wo",      "ich",   "die",        "der",   "das",
                                        "und", "nicht", "bitte",  "hallo",   "danke", "sie",        "haben", "habe",
                                        "mit", "ein",   "eine",   "einen",   "wann",  "wie",        "noch",  "auch",
                                        "ihr", "kann",  "mochte", "moechte", "guten", "bestellung", "tag",   "ja"};
constexpr std::string_view kPortuguese[] = {
    "meu", "minha", "meus",    "minhas", "onde",      "voce", "voces",  "tem",    "obrigado", "obrigada", "ola",
    "oi",  "cade",  "nao",     "um",     "uma",       "com",  "quando", "quanto", "eu",       "estou",    "seu",
    "sua", "quero", "preciso", "bom",    "encomenda", "dia",  "tudo",   "bem",    "isso",     "essa",     "esse"};
constexpr std::array<std::span<const std::string_view>, 5> kFunctionWords = {kEnglish, kSpanish, kFrench, kGerman,
                                                                             kPortuguese};

// A phrase in a language outweighs a few function words of another.
constexpr int kPhraseWeight = 3;

}  // namespace

std::string GuessLanguage(const std::vector<Word>& words, const std::vector<CueHit>& hits) {
  // Word -> the languages it belongs to (one bit each), built once.
  static const std::unordered_map<std::string_view, unsigned> kLanguagesOf = [] {
    std::unordered_map<std::string_view, unsigned> out;
    for (std::size_t l = 0; l < kLanguages.size(); ++l) {
      for (std::string_view w : kFunctionWords[l]) out[w] |= 1u << l;
    }
    return out;
  }();
  std::array<int, kLanguages.size()> score{};
  for (const CueHit& hit : hits) {
    auto it = std::find(kLanguages.begin(), kLanguages.end(), hit.language);
    if (it != kLanguages.end()) score[it - kLanguages.begin()] += kPhraseWeight;
  }
  for (const Word& w : words) {
    auto it = kLanguagesOf.find(w.text);
    if (it == kLanguagesOf.end()) continue;
    for (std::size_t l = 0; l < kLanguages.size(); ++l) {
      if (it->second & (1u << l)) ++score[l];
    }
  }
  auto best = std::max_element(score.begin(), score.end());
  if (*best == 0 || std::count(score.begin(), score.end(), *best) > 1) return {};
  return std::string(kLanguages[best - score.begin()]);
}

}  // namespace sb::router
