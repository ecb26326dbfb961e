// What the bots say: replies in five languages, product lookup by SKU and
// by name, money formatting with ISO 4217 exponents.
#include "sb/router/bot_replies.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace sb::router {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct MoneyCase {
  std::int64_t cents;
  std::string currency;
  std::string expected;
};

TEST(FormatMoney, CurrencyExponentsAndThousandsSeparators) {
  const std::vector<MoneyCase> cases = {
      {129900, "USD", "1,299.00 USD"},
      {1200, "JPY", "1,200 JPY"},
      {1234, "KWD", "1.234 KWD"},
      {0, "USD", "0.00 USD"},
      {5, "USD", "0.05 USD"},
      {100, "EUR", "1.00 EUR"},
      {99999, "EUR", "999.99 EUR"},
      {123456789, "EUR", "1,234,567.89 EUR"},
      {-2550, "USD", "-25.50 USD"},
      {1000000, "JPY", "1,000,000 JPY"},
      {999, "JPY", "999 JPY"},
      {5, "KWD", "0.005 KWD"},
      {1234567, "BHD", "1,234.567 BHD"},
      {1000, "OMR", "1.000 OMR"},
      {2500, "JOD", "2.500 JOD"},
      {12345, "TND", "12.345 TND"},
      {50000, "KRW", "50,000 KRW"},
      {999, "usd", "9.99 USD"},
      {50, "", "0.50"},
      {std::numeric_limits<std::int64_t>::min(), "USD", "-92,233,720,368,547,758.08 USD"},
      {std::numeric_limits<std::int64_t>::max(), "JPY", "9,223,372,036,854,775,807 JPY"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(FormatMoney(c.cents, c.currency), c.expected) << c.cents << " " << c.currency;
  }
}

OrderInfo FullOrder() { return OrderInfo{"A1001", "shipped", "DHL", "https://track.example/A1001", "2024-05-03"}; }

struct LanguageCase {
  std::string language;
  std::vector<std::string> order_words;  // words the status reply must contain
  std::string out_of_stock;
  std::string in_stock;
};

const std::vector<LanguageCase> kLanguages = {
    {"en", {"order A1001", "Carrier: DHL", "Estimated delivery: 2024-05-03"}, "out of stock", "is in stock (3 left)"},
    {"es", {"pedido A1001", "Transportista: DHL", "Entrega estimada: 2024-05-03"}, "agotado", "en stock (quedan 3)"},
    {"fr",
     {"commande A1001", "Transporteur : DHL", "Livraison prévue : 2024-05-03"},
     "rupture de stock",
     "en stock (3 restants)"},
    {"de",
     {"Bestellung A1001", "Versand mit: DHL", "Voraussichtliche Lieferung: 2024-05-03"},
     "nicht auf Lager",
     "auf Lager (noch 3 Stück)"},
    {"pt",
     {"pedido A1001", "Transportadora: DHL", "Previsão de entrega: 2024-05-03"},
     "esgotado",
     "em estoque (restam 3)"},
};

TEST(BotReplies, OrderStatusInEachLanguage) {
  for (const auto& l : kLanguages) {
    std::string reply = OrderStatusReply(FullOrder(), l.language);
    for (const auto& w : l.order_words) EXPECT_THAT(reply, HasSubstr(w)) << l.language;
    EXPECT_THAT(reply, HasSubstr("shipped")) << l.language;
    EXPECT_THAT(reply, HasSubstr("https://track.example/A1001")) << l.language;
  }
}

TEST(BotReplies, OrderStatusLeavesOutWhatIsUnknown) {
  OrderInfo order{"SO-77", "out_for_delivery", std::nullopt, std::nullopt, std::nullopt};
  std::string reply = OrderStatusReply(order, "en");
  EXPECT_EQ(reply, "Here is the latest on your order SO-77: out for delivery.");
  order.carrier = "";
  order.eta = "tomorrow";
  reply = OrderStatusReply(order, "en");
  EXPECT_THAT(reply, Not(HasSubstr("Carrier")));
  EXPECT_THAT(reply, HasSubstr("Estimated delivery: tomorrow."));
}

TEST(BotReplies, ValuesAreNotReadAsTemplates) {
  OrderInfo order{"{status}", "{ref}", "{url}", std::nullopt, std::nullopt};
  EXPECT_EQ(OrderStatusReply(order, "en"), "Here is the latest on your order {status}: {ref}.\nCarrier: {url}.");
}

TEST(BotReplies, StockInEachLanguage) {
  ProductInfo in{"HD-1", "Blue Hoodie", 3, 4990, "EUR"};
  ProductInfo out{"HD-2", "Red Hoodie", 0, 4990, "EUR"};
  for (const auto& l : kLanguages) {
    std::string yes = StockReply(in, l.language);
    EXPECT_THAT(yes, HasSubstr("Blue Hoodie")) << l.language;
    EXPECT_THAT(yes, HasSubstr(l.in_stock)) << l.language;
    EXPECT_THAT(yes, HasSubstr("49.90 EUR")) << l.language;
    std::string no = StockReply(out, l.language);
    EXPECT_THAT(no, HasSubstr("Red Hoodie")) << l.language;
    EXPECT_THAT(no, HasSubstr(l.out_of_stock)) << l.language;
    EXPECT_THAT(no, Not(HasSubstr("49.90"))) << l.language;
  }
}

TEST(BotReplies, StockPhrasingInEnglish) {
  EXPECT_EQ(StockReply({"HD-1", "Blue Hoodie", 3, 129900, "USD"}, "en"),
            "Good news: Blue Hoodie is in stock (3 left), price 1,299.00 USD.");
  EXPECT_EQ(StockReply({"HD-1", "Blue Hoodie", 1, 1200, "JPY"}, "en"),
            "Good news: Blue Hoodie is in stock (1 left), price 1,200 JPY.");
  EXPECT_EQ(StockReply({"HD-1", "Blue Hoodie", 0, 1200, "JPY"}, "en"), "Sorry, Blue Hoodie is out of stock right now.");
  EXPECT_EQ(StockReply({"HD-1", "Blue Hoodie", -2, 1200, "JPY"}, "en"),
            "Sorry, Blue Hoodie is out of stock right now.");
  EXPECT_THAT(StockReply({"HD-1", "Pull", 1, 100, "EUR"}, "fr"), HasSubstr("(1 restant)"));
}

TEST(BotReplies, HandoverAndNotFound) {
  EXPECT_EQ(HandoverReply("en").rfind("Let me connect you with a colleague", 0), 0u) << HandoverReply("en");
  EXPECT_THAT(OrderNotFoundReply("en"), HasSubstr("could not find an order"));
  for (const auto& l : kLanguages) {
    EXPECT_FALSE(HandoverReply(l.language).empty());
    if (l.language == "en") continue;
    EXPECT_NE(HandoverReply(l.language), HandoverReply("en")) << l.language;
    EXPECT_NE(OrderNotFoundReply(l.language), OrderNotFoundReply("en")) << l.language;
  }
}

TEST(BotReplies, LanguageFallsBackToEnglishAndAcceptsRegions) {
  EXPECT_EQ(HandoverReply(""), HandoverReply("en"));
  EXPECT_EQ(HandoverReply("it"), HandoverReply("en"));
  EXPECT_EQ(HandoverReply("english"), HandoverReply("en"));
  EXPECT_EQ(HandoverReply("pt-BR"), HandoverReply("pt"));
  EXPECT_EQ(HandoverReply("es_MX"), HandoverReply("es"));
  EXPECT_EQ(HandoverReply("DE"), HandoverReply("de"));
}

std::vector<ProductInfo> Catalogue() {
  return {
      {"TSH-001", "Classic T-Shirt", 10, 1999, "USD"},            // 0
      {"HD-BLUE", "Blue Hoodie", 3, 4990, "USD"},                 // 1
      {"HD-RED", "Red Hoodie", 0, 4990, "USD"},                   // 2
      {"BAG-9", "Classic Leather Weekend Bag", 2, 19900, "USD"},  // 3
      {"CAM-01", "Camiseta Básica Algodão", 5, 2990, "BRL"},      // 4
      {"TSH-0011", "Striped Shirt", 1, 2500, "USD"},              // 5
      {"GO-1", "The Go", 1, 100, "USD"},                          // 6
      {"ZIP", "Blue Hoodie Zip", 4, 5990, "USD"},                 // 7
  };
}

struct FindCase {
  std::string text;
  std::optional<std::size_t> index;
};

TEST(FindProduct, BySkuThenByNameWords) {
  const std::vector<FindCase> cases = {
      {"do you have tsh-001?", 0},
      {"TSH-001 in stock?", 0},
      {"and TSH-0011?", 5},
      {"is HD-RED back? I also like the blue hoodie", 2},
      {"is the blue hoodie in stock", 1},
      {"BLUE HOODIES?", 1},
      {"do you still have the red hoodie", 2},
      {"blue hoodie with a zip", 7},
      {"leather bag", 3},
      {"leather", std::nullopt},
      {"camiseta basica", 4},
      {"¿Tienen la CAMISETA BÁSICA?", 4},
      {"the go", std::nullopt},
      // Half of "Blue Hoodie" and of "Red Hoodie": a tie, the first listed wins.
      {"hoodie", 1},
      {"do you have pizza", std::nullopt},
      {"", std::nullopt},
  };
  auto products = Catalogue();
  for (const auto& c : cases) {
    EXPECT_EQ(FindProduct(c.text, products), c.index) << "text: \"" << c.text << "\"";
  }
  EXPECT_EQ(FindProduct("blue hoodie", {}), std::nullopt);
}

TEST(FindProduct, SkuMustStandAlone) {
  std::vector<ProductInfo> products = {{"A1", "Alpha", 1, 1, "USD"}, {"", "Empty Sku", 1, 1, "USD"}};
  EXPECT_EQ(FindProduct("A10", products), std::nullopt);
  EXPECT_EQ(FindProduct("xA1", products), std::nullopt);
  EXPECT_EQ(FindProduct("(a1)", products), 0u);
  EXPECT_EQ(FindProduct("empty sku please", products), 1u);
}

}  // namespace
}  // namespace sb::router
