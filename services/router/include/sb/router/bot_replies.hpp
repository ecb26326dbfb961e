#pragma once
/// What the order_status and in_stock bots say, in the customer's
/// language (en, es, fr, de, pt; English otherwise). Pure, thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sb::router {

struct OrderInfo {
  std::string order_ref;
  std::string status;  // as the business stored it: "shipped", "processing", ...
  std::optional<std::string> carrier;
  std::optional<std::string> tracking_url;
  std::optional<std::string> eta;
};

struct ProductInfo {
  std::string sku;
  std::string name;
  std::int64_t stock = 0;
  std::int64_t price_cents = 0;
  std::string currency;
};

std::string OrderStatusReply(const OrderInfo& order, std::string_view language);
/// "I could not find an order ..." (the bot then hands over).
std::string OrderNotFoundReply(std::string_view language);
/// In stock (with price) or out of stock: both are answers.
std::string StockReply(const ProductInfo& product, std::string_view language);
std::string HandoverReply(std::string_view language);

/// The product the text asks about: SKU mentioned verbatim (case-insensitive)
/// first, else the product sharing most words of its name with the text
/// (at least half of the name's words). nullopt when none fits.
std::optional<std::size_t> FindProduct(std::string_view text, const std::vector<ProductInfo>& products);

/// Formats minor units: 129900 USD -> "1,299.00 USD" (currency exponent per ISO 4217).
std::string FormatMoney(std::int64_t cents, std::string_view currency);

}  // namespace sb::router
