// Intent, language, order reference and "wants a person" detection across
// English, Spanish, French, German and Portuguese.
#include "sb/router/intent.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sb::router {
namespace {

constexpr Intent kOs = Intent::kOrderStatus;
constexpr Intent kIs = Intent::kInStock;
constexpr Intent kPu = Intent::kPurchase;
constexpr Intent kSu = Intent::kSupport;
constexpr Intent kNone = Intent::kOther;

struct IntentCase {
  std::string_view text;
  Intent intent;
  std::string_view language;  // "" means: no language detected
};

const std::vector<IntentCase> kIntentCases = {
    // order_status, English
    {"where is my order", kOs, "en"},
    {"Where's my order?", kOs, "en"},
    {"WHERE IS MY PACKAGE???", kOs, "en"},
    {"tracking", kOs, ""},
    {"Can I get the tracking number?", kOs, "en"},
    {"track my package please", kOs, "en"},
    {"has my order shipped yet?", kOs, "en"},
    {"When will my parcel arrive?", kOs, "en"},
    {"I haven't received my order", kOs, "en"},
    {"any update on my order?", kOs, "en"},
    {"order status", kOs, "en"},
    {"A1001", kOs, ""},
    {"hi, it's about #4521", kOs, "en"},
    {"order 99812", kOs, "en"},
    {"my order is late", kOs, "en"},
    {"Is my order on its way?", kOs, "en"},
    {"any news about my delivery?", kOs, "en"},
    // order_status, Spanish
    {"¿dónde está mi pedido?", kOs, "es"},
    {"DÓNDE ESTÁ MI PEDIDO", kOs, "es"},
    {"donde esta mi pedido", kOs, "es"},
    {"¿Cuándo llega mi pedido?", kOs, "es"},
    {"Quiero saber el estado de mi pedido", kOs, "es"},
    {"no me ha llegado el paquete", kOs, "es"},
    {"pedido 123", kOs, ""},
    {"mi pedido A1001 no ha llegado", kOs, "es"},
    {"Hola quiero saber de mi pedido", kOs, "es"},
    {"hola, ya enviaron mi pedido?", kOs, "es"},
    // order_status, French
    {"où est ma commande", kOs, "fr"},
    {"Où est ma commande ?", kOs, "fr"},
    {"Je n'ai pas reçu mon colis", kOs, "fr"},
    {"suivi de commande svp", kOs, "fr"},
    {"quand vais-je recevoir ma commande", kOs, "fr"},
    {"commande n° 12345", kOs, "fr"},
    // order_status, German
    {"wo ist meine Bestellung", kOs, "de"},
    {"Wo ist meine Bestellung?", kOs, "de"},
    {"Hallo, wo bleibt meine Lieferung?", kOs, "de"},
    {"Wann kommt mein Paket?", kOs, "de"},
    {"Meine Bestellung ist noch nicht angekommen", kOs, "de"},
    {"Sendungsverfolgung bitte", kOs, "de"},
    {"Bestellung 45678", kOs, "de"},
    // order_status, Portuguese
    {"cadê meu pedido", kOs, "pt"},
    {"onde está minha encomenda", kOs, "pt"},
    {"Onde está o meu pedido?", kOs, "pt"},
    {"Quando chega minha encomenda?", kOs, "pt"},
    {"meu pedido ainda não chegou", kOs, "pt"},
    {"código de rastreio", kOs, "pt"},
    // in_stock
    {"is this in stock", kIs, "en"},
    {"do you have the blue hoodie", kIs, "en"},
    {"available in size M?", kIs, "en"},
    {"Is it still available?", kIs, "en"},
    {"is the red dress back in stock?", kIs, "en"},
    {"are the sneakers sold out?", kIs, "en"},
    {"do you have it in XL", kIs, "en"},
    {"¿tienen en stock?", kIs, "es"},
    {"¿Está disponible en talla M?", kIs, "es"},
    {"¿Hay stock de la sudadera azul?", kIs, "es"},
    {"¿Quedan camisetas negras?", kIs, "es"},
    {"est-ce disponible", kIs, "fr"},
    {"Est-ce que vous avez ce pull en taille M ?", kIs, "fr"},
    {"Ce modèle est-il en rupture de stock ?", kIs, "fr"},
    {"Vous avez encore la taille 38 ?", kIs, "fr"},
    {"ist das vorrätig", kIs, "de"},
    {"Ist der Pullover noch auf Lager?", kIs, "de"},
    {"Habt ihr das in Größe M?", kIs, "de"},
    {"Ist die Jacke verfügbar?", kIs, "de"},
    {"Gibt es das auch in Blau?", kIs, "de"},
    {"tem em estoque", kIs, "pt"},
    {"Vocês têm esse tênis no tamanho 42?", kIs, "pt"},
    {"Está disponível?", kIs, "pt"},
    {"Esse produto está esgotado?", kIs, "pt"},
    // purchase
    {"I want to buy two", kPu, "en"},
    {"how much is the blue hoodie?", kPu, "en"},
    {"can I order one for tomorrow", kPu, "en"},
    {"I'd like to place an order", kPu, "en"},
    {"What's the price?", kPu, "en"},
    {"I'll take two of them", kPu, "en"},
    {"I want to order 100 units", kPu, "en"},
    {"quiero comprar", kPu, "es"},
    {"¿Cuánto cuesta?", kPu, "es"},
    {"Quisiera hacer un pedido", kPu, "es"},
    {"je voudrais acheter", kPu, "fr"},
    {"Combien coûte ce sac ?", kPu, "fr"},
    {"Je voudrais commander deux t-shirts", kPu, "fr"},
    {"ich möchte kaufen", kPu, "de"},
    {"Was kostet die Jacke?", kPu, "de"},
    {"Ich möchte zwei Stück bestellen", kPu, "de"},
    {"Wie teuer ist das?", kPu, "de"},
    {"quero comprar", kPu, "pt"},
    {"Quanto custa?", kPu, "pt"},
    {"Gostaria de fazer um pedido", kPu, "pt"},
    // support (a complaint wins over an order reference or an order phrase)
    {"refund", kSu, "en"},
    {"I want a refund", kSu, "en"},
    {"the zipper is broken", kSu, "en"},
    {"How do I return this?", kSu, "en"},
    {"I want to make a complaint", kSu, "en"},
    {"my order arrived damaged", kSu, "en"},
    {"my order was wrong", kSu, "en"},
    {"the item doesn't fit", kSu, "en"},
    {"refund for order A1001 please", kSu, "en"},
    {"reembolso", kSu, ""},
    {"quiero un reembolso", kSu, "es"},
    {"El producto llegó roto", kSu, "es"},
    {"remboursement", kSu, "fr"},
    {"je veux un remboursement", kSu, "fr"},
    {"Le produit est arrivé cassé", kSu, "fr"},
    {"Rückerstattung", kSu, "de"},
    {"Ich möchte eine Rückerstattung", kSu, "de"},
    {"Der Reißverschluss ist kaputt", kSu, "de"},
    {"Mein Paket ist beschädigt angekommen", kSu, "de"},
    {"defeito", kSu, "pt"},
    {"O produto veio com defeito", kSu, "pt"},
    {"quero devolver o produto", kSu, "pt"},
    {"meu pedido veio errado", kSu, "pt"},
    // other
    {"hello", kNone, "en"},
    {"thanks!", kNone, "en"},
    {"stockholm trip", kNone, ""},
    {"I ordered pizza yesterday lol", kNone, "en"},
    {"call me at +55 11 99999-0000", kNone, "en"},
    {"ok 👍", kNone, ""},
    {"", kNone, ""},
    {"Bom dia!", kNone, "pt"},
    {"Guten Tag", kNone, "de"},
    {"Merci beaucoup", kNone, "fr"},
    {"Hola, buenas tardes", kNone, "es"},
};

TEST(DetectIntent, PhrasesInFiveLanguages) {
  ASSERT_GE(kIntentCases.size(), 100u);
  for (const auto& c : kIntentCases) {
    Detection d = DetectIntent(c.text);
    EXPECT_EQ(ToString(d.intent), ToString(c.intent)) << "text: \"" << c.text << "\"";
    EXPECT_EQ(d.language, c.language) << "language of \"" << c.text << "\"";
  }
}

struct NotCase {
  std::string_view text;
  Intent not_intent;
};

// Words that contain, resemble or sit near an intent's words but do not ask for it.
const std::vector<NotCase> kNotCases = {
    {"stockholm trip", kIs},
    {"the stocky guy from the video", kIs},
    {"unstoppable deals", kIs},
    {"tienda en Estocolmo", kIs},
    {"is there a store in Lisbon", kIs},
    {"I ordered pizza yesterday lol", kOs},
    {"I ordered pizza yesterday lol", kPu},
    {"call me at +55 11 99999-0000", kOs},
    {"my phone is +1 415 555 0100", kOs},
    {"ligue para (11) 99999-0000 por favor", kOs},
    {"border crossing", kOs},
    {"I use a fitness tracker", kOs},
    {"pricey but nice", kPu},
    {"buenas noches", kOs},
    {"A1", kOs},
    {"#12", kOs},
    {"I have 2 kids", kOs},
    {"order 12", kOs},
    {"I want to order 100 units", kOs},
    {"Où est la gare ?", kOs},
    {"wo ist der Bahnhof", kOs},
    {"onde fica a praia", kOs},
    {"do you ship to Canada?", kOs},
    {"Gracias por la ayuda", kSu},
    {"the order of the songs", kOs},
    {"covid19 rules", kOs},
    {"mp3 player", kOs},
    {"I am on my way to the store", kOs},
    {"no worries, I got it", kIs},
    {"Can I pay with PayPal?", kSu},
    {"Hola, buenas tardes", kPu},
};

TEST(DetectIntent, LookAlikesDoNotMatch) {
  ASSERT_GE(kNotCases.size(), 20u);
  for (const auto& c : kNotCases) {
    EXPECT_NE(ToString(DetectIntent(c.text).intent), ToString(c.not_intent))
        << "\"" << c.text << "\" must not be " << ToString(c.not_intent);
  }
}

struct RefCase {
  std::string_view text;
  std::optional<std::string> ref;
};

const std::vector<RefCase> kRefCases = {
    {"A1001", "A1001"},
    {"a1001 please", "a1001"},
    {"where is order SO-12345?", "SO-12345"},
    {"my order #4521", "4521"},
    {"#123", "123"},
    {"order 99812", "99812"},
    {"Order number: 99812", "99812"},
    {"order no. 123456", "123456"},
    {"order 5551234567", "5551234567"},
    {"pedido 123", "123"},
    {"pedido nº 4567", "4567"},
    {"número do pedido: 88776655", "88776655"},
    {"commande n° 778899", "778899"},
    {"Bestellung 12345678", "12345678"},
    {"Bestellnummer 4711", "4711"},
    {"minha encomenda 20231234", "20231234"},
    {"nº 4455", "4455"},
    {"ref x1000 and #2222", "x1000"},
    {"order #A-1234", "A-1234"},
    {"#2222 and x1000", "2222"},
    {"call me at +55 11 99999-0000", std::nullopt},
    {"my number is +1 415 555 0100", std::nullopt},
    {"pedido 555 123 4567", std::nullopt},
    {"order #555 123 4567", std::nullopt},
    {"#12", std::nullopt},
    {"#1234567890123", std::nullopt},
    {"ABCD1234", std::nullopt},
    {"A12", std::nullopt},
    {"A12345678901", std::nullopt},
    {"order 12", std::nullopt},
    {"order 123", std::nullopt},
    {"I want to order 100 units", std::nullopt},
    {"no 12345 thanks", std::nullopt},
    {"covid19", std::nullopt},
    {"email me at joe@example.com", std::nullopt},
    {"I have 2 kids", std::nullopt},
    {"1234", std::nullopt},
};

TEST(DetectIntent, OrderReferences) {
  for (const auto& c : kRefCases) {
    EXPECT_EQ(DetectIntent(c.text).order_ref, c.ref) << "text: \"" << c.text << "\"";
  }
}

struct HumanCase {
  std::string_view text;
  bool wants_human;
};

const std::vector<HumanCase> kHumanCases = {
    {"agent please", true},
    {"Agent", true},
    {"human please", true},
    {"talk to a human", true},
    {"I want to talk to a real person", true},
    {"talk to a person", true},
    {"can I speak to a representative", true},
    {"representative", true},
    {"is there a real person I can chat with?", true},
    {"hablar con un agente", true},
    {"Quiero hablar con un humano", true},
    {"parler à un conseiller", true},
    {"je veux parler à un humain", true},
    {"Ich möchte mit einem Menschen sprechen", true},
    {"Kann ich mit einem Mitarbeiter sprechen?", true},
    {"falar com um atendente", true},
    {"quero falar com um humano", true},
    {"I need a human", true},
    {"is there an agent available?", true},
    {"where is my order", false},
    {"the agent who delivered it was rude", false},
    {"human resources", false},
    {"I talked to my friend", false},
    {"hablar de precios", false},
    {"Mit freundlichen Grüßen", false},
    {"personal details", false},
    {"see you tomorrow", false},
    {"are you a human?", false},
};

TEST(DetectIntent, WantsHuman) {
  for (const auto& c : kHumanCases) {
    EXPECT_EQ(DetectIntent(c.text).wants_human, c.wants_human) << "text: \"" << c.text << "\"";
  }
}

TEST(DetectIntent, WantsHumanKeepsTheIntent) {
  Detection d = DetectIntent("where is my order? I want to talk to a human");
  EXPECT_EQ(d.intent, kOs);
  EXPECT_TRUE(d.wants_human);
}

struct PayloadCase {
  std::string_view text;
  std::string_view payload;
  Intent intent;
  bool wants_human;
};

const std::vector<PayloadCase> kPayloadCases = {
    {"", "ORDER_STATUS", kOs, false},
    {"do you have the blue hoodie", "ORDER_STATUS", kOs, false},
    {"where is my order", "IN_STOCK", kIs, false},
    {"Track my order", "TRACK_ORDER", kOs, false},
    {"I want a refund", "PURCHASE", kPu, false},
    {"hi", "TALK_TO_AGENT", kNone, true},
    {"where is my order", "TALK_TO_AGENT", kOs, true},
    {"where is my order", "PRODUCT_42", kOs, false},
    {"where is my order", "", kOs, false},
    {"x", "support", kSu, false},
    {"Hoodie", "CHECK_STOCK", kIs, false},
};

TEST(DetectIntent, PayloadWins) {
  for (const auto& c : kPayloadCases) {
    Detection d = DetectIntent(c.text, c.payload);
    EXPECT_EQ(ToString(d.intent), ToString(c.intent)) << "text \"" << c.text << "\", payload " << c.payload;
    EXPECT_EQ(d.wants_human, c.wants_human) << "text \"" << c.text << "\", payload " << c.payload;
  }
}

TEST(DetectIntent, AccentsAndCaseDoNotMatter) {
  for (std::string_view text : {"¿Dónde está mi pedido?", "DONDE ESTA MI PEDIDO", "dónde ESTÁ mi PEDIDO"}) {
    Detection d = DetectIntent(text);
    EXPECT_EQ(d.intent, kOs) << text;
    EXPECT_EQ(d.language, "es") << text;
  }
  EXPECT_EQ(DetectIntent("RÜCKERSTATTUNG").intent, kSu);
  EXPECT_EQ(DetectIntent("rueckerstattung").intent, kSu);
  EXPECT_EQ(DetectIntent("Ist das VORRÄTIG?").intent, kIs);
}

TEST(DetectIntent, SurvivesInvalidUtf8AndControlBytes) {
  std::string text = "where\xff\xfe is my \xc3 order\x01\x80 #4521";
  Detection d = DetectIntent(text, "\xff\xff");
  EXPECT_EQ(d.order_ref, "4521");
  std::string nul("track\0ing", 9);
  EXPECT_EQ(DetectIntent(nul).intent, kNone);
}

TEST(DetectIntent, HugeTextIsBounded) {
  std::string text;
  while (text.size() < 1'000'000) text += "where ... my ... is it #12 no. 1 1 1 ";
  auto start = std::chrono::steady_clock::now();
  Detection d = DetectIntent(text);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(2)) << "detection must not grow with the text";
  EXPECT_EQ(d.intent, kNone);
}

TEST(Intent, NamesRoundTrip) {
  for (Intent i : {kOs, kIs, kPu, kSu, kNone}) {
    EXPECT_EQ(IntentFromString(ToString(i)), i);
  }
  EXPECT_EQ(ToString(kOs), "order_status");
  EXPECT_EQ(ToString(kIs), "in_stock");
  EXPECT_EQ(IntentFromString("ORDER_STATUS"), std::nullopt);
  EXPECT_EQ(IntentFromString(""), std::nullopt);
}

}  // namespace
}  // namespace sb::router
