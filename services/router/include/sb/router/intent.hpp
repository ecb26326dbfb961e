#pragma once
/// Intent detection from what a customer wrote or tapped, in English,
/// Spanish, French, German and Portuguese. Pure and thread-safe.
#include <optional>
#include <string>
#include <string_view>

namespace sb::router {

enum class Intent { kOrderStatus, kInStock, kPurchase, kSupport, kOther };

std::string_view ToString(Intent intent);  // order_status | in_stock | purchase | support | other
std::optional<Intent> IntentFromString(std::string_view text);

struct Detection {
  Intent intent = Intent::kOther;
  /// An order reference found in the text ("A1001", "#4521", "order 99812").
  std::optional<std::string> order_ref;
  /// en | es | fr | de | pt, or empty when the text gives no clue.
  std::string language;
  /// The customer asks for a person ("agent please", "hablar con un humano").
  bool wants_human = false;
};

/// `text`: message text, button or list title, postback title; `payload`:
/// a postback / quick-reply / button payload (e.g. "ORDER_STATUS"), which
/// wins when it names an intent.
Detection DetectIntent(std::string_view text, std::string_view payload = {});

}  // namespace sb::router
