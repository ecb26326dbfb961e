#include "payload_factory.hpp"

#include <array>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sb/common/crypto.hpp>
#include <string_view>

namespace sb::loadgen {
namespace {

constexpr std::uint64_t kWaIdBase = 15550000000;           // 11-digit E.164 numbers without '+'
constexpr std::uint64_t kScopedIdBase = 7000000000000000;  // page- and account-scoped sender ids (PSID, IGSID)
constexpr std::string_view kDisplayPhoneNumber = "15550783881";
constexpr std::size_t kTextsInPool = 64;
constexpr std::size_t kTextBytes = 4096;

constexpr std::array<std::string_view, 24> kFirstNames = {
    "Maria", "José", "Ana",   "Luis",  "Fatima", "Chen",  "Aisha", "Lucas", "Sofia",   "Mateo", "Emma", "Noah",
    "Yuki",  "Olga", "Pedro", "Amara", "Léa",    "Jonas", "Priya", "Omar",  "Isabela", "Tomás", "Zoe",  "Ravi"};
constexpr std::array<std::string_view, 24> kLastNames = {
    "Silva",  "García", "Müller", "Nguyen", "Okafor",    "Rossi",   "Kowalski", "Dubois",
    "Santos", "Kim",    "Haddad", "Novak",  "Fernández", "Ivanova", "Costa",    "Schmidt",
    "Tanaka", "Moreau", "Singh",  "López",  "Andersen",  "Mensah",  "Pereira",  "Cohen"};

// What customers write to a shop on a busy day. No '"', '\\' or control
// characters: the texts go into the JSON body unescaped.
constexpr std::array<std::string_view, 32> kSentences = {
    "Hi, where is my order?",
    "I ordered the blue running shoes last Tuesday and the tracking link still says label created.",
    "Order #A10234 was supposed to arrive yesterday, can you check what happened?",
    "Do you have the size 42 in stock, or only the 41?",
    "¿Dónde está mi pedido? Lo compré hace una semana y no ha llegado.",
    "Olá, o meu pedido ainda não chegou. Podem verificar, por favor?",
    "Bonjour, est-ce que la veste noire est disponible en taille M ?",
    "Wo ist meine Bestellung? Die Sendungsverfolgung zeigt seit drei Tagen nichts an.",
    "Can I change the delivery address to the office instead? I will not be home on Friday.",
    "I want to talk to a human please.",
    "The package arrived but the box was damaged and one glass is broken.",
    "Is the Black Friday discount still valid for the wireless headphones?",
    "Thanks a lot for the quick answer! 🙏",
    "Can I pay on delivery, or only by card?",
    "My card was charged twice for the same order, please refund one of the payments.",
    "Please cancel order 884213, I ordered the wrong colour.",
    "When will the red dress be back in stock? I have been waiting for weeks 😅",
    "The courier left a note saying nobody was home, but I was there all day.",
    "Do you ship to Lisbon, and how long does it usually take?",
    "I saw your ad on Instagram with 30% off, does the code still work?",
    "Hello? Is anyone there?",
    "Can you send me the invoice for order #B55120 with my company tax number?",
    "The app says delivered but I have nothing at my door.",
    "Could you tell me which sizes are left for the grey hoodie?",
    "Perfect, I will wait then. Have a nice day!",
    "I need it before Saturday because it is a birthday present 🎁",
    "¿Tienen la cafetera en color blanco? La negra no me gusta.",
    "Is it possible to exchange the jeans for a bigger size?",
    "I returned the jacket two weeks ago and still have not received the refund.",
    "Where can I find the tracking number? The email never arrived.",
    "Ok 👍",
    "My order number is 7731-220 and my phone number is the one I am writing from.",
};

std::uint64_t SplitMix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

bool NeedsJsonEscape(std::string_view text) {
  for (const char c : text) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

}  // namespace

WebhookPayloadFactory::WebhookPayloadFactory(Settings settings) : settings_(std::move(settings)) {
  if (settings_.customers == 0) settings_.customers = 1;
  channel_id_json_ = nlohmann::json(settings_.channel_id).dump();
  switch (settings_.kind) {
    case Kind::kWhatsapp: {
      const std::string account = nlohmann::json(settings_.account_id).dump();
      head_ = R"({"object":"whatsapp_business_account","entry":[{"id":)" + account +
              R"(,"changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":)" +
              R"({"display_phone_number":")" + std::string(kDisplayPhoneNumber) + R"(","phone_number_id":)" +
              channel_id_json_ + R"(},"contacts":[{"profile":{"name":")";
      break;
    }
    case Kind::kMessenger:
    case Kind::kInstagram:
      head_ = std::string(R"({"object":")") + (settings_.kind == Kind::kMessenger ? "page" : "instagram") +
              R"(","entry":[{"id":)" + channel_id_json_ + R"(,"time":)";
      break;
  }

  std::uint64_t seed = 0x5b0a4d;
  texts_.reserve(kTextsInPool);
  for (std::size_t i = 0; i < kTextsInPool; ++i) {
    std::string text;
    while (text.size() < kTextBytes) {
      if (!text.empty()) text += ' ';
      text += kSentences[SplitMix64(seed) % kSentences.size()];
    }
    // The bodies are assembled without escaping; a quote here would corrupt them.
    if (NeedsJsonEscape(text)) std::abort();
    texts_.push_back(std::move(text));
  }
  for (const auto name : kFirstNames) {
    if (NeedsJsonEscape(name)) std::abort();
  }
}

Payload WebhookPayloadFactory::Make(std::uint64_t index) const {
  const std::uint64_t customer = index % settings_.customers;
  Payload payload = settings_.kind == Kind::kWhatsapp ? MakeWhatsApp(index, customer) : MakeMessaging(index, customer);
  payload.signature = "sha256=" + sb::crypto::HmacSha256Hex(settings_.secret, payload.body);
  return payload;
}

Payload WebhookPayloadFactory::MakeWhatsApp(std::uint64_t index, std::uint64_t customer) const {
  const std::string wa_id = std::to_string(kWaIdBase + customer);
  const std::string timestamp = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());

  Payload payload;
  payload.index = index;
  payload.message_id = "wamid." + settings_.run_id + "." + std::to_string(index);

  std::string& body = payload.body;
  body.reserve(settings_.body_bytes + 256);
  body += head_;
  body += kFirstNames[customer % kFirstNames.size()];
  body += ' ';
  body += kLastNames[(customer / kFirstNames.size()) % kLastNames.size()];
  body += R"("},"wa_id":")";
  body += wa_id;
  body += R"("}],"messages":[{"from":")";
  body += wa_id;
  body += R"(","id":")";
  body += payload.message_id;
  body += R"(","timestamp":")";
  body += timestamp;
  body += R"(","type":"text","text":{"body":")";
  constexpr std::string_view kTail = R"("}}]}}]}]})";
  AppendText(body, index, kTail.size());
  body += kTail;
  return payload;
}

// Messenger and Instagram share the Messenger Platform shape:
// entry[].messaging[] {sender, recipient, timestamp, message {mid, text}}.
Payload WebhookPayloadFactory::MakeMessaging(std::uint64_t index, std::uint64_t customer) const {
  const std::string sender = std::to_string(kScopedIdBase + customer);
  const std::string timestamp = std::to_string(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());

  Payload payload;
  payload.index = index;
  payload.message_id =
      (settings_.kind == Kind::kMessenger ? "m." : "ig.") + settings_.run_id + "." + std::to_string(index);

  std::string& body = payload.body;
  body.reserve(settings_.body_bytes + 256);
  body += head_;
  body += timestamp;
  body += R"(,"messaging":[{"sender":{"id":")";
  body += sender;
  body += R"("},"recipient":{"id":)";
  body += channel_id_json_;
  body += R"(},"timestamp":)";
  body += timestamp;
  body += R"(,"message":{"mid":")";
  body += payload.message_id;
  body += R"(","text":")";
  constexpr std::string_view kTail = R"("}}]}]})";
  AppendText(body, index, kTail.size());
  body += kTail;
  return payload;
}

void WebhookPayloadFactory::AppendText(std::string& body, std::uint64_t index, std::size_t tail) const {
  // Fill up to the target size with text, cut before a space so multi-byte
  // characters stay whole.
  const std::string& source = texts_[index % texts_.size()];
  const std::size_t fixed = body.size() + tail;
  std::size_t take = settings_.body_bytes > fixed ? settings_.body_bytes - fixed : 0;
  if (take < source.size()) {
    const auto space = source.rfind(' ', take);
    take = (space == std::string::npos || space == 0) ? source.find(' ') : space;
  }
  body.append(source, 0, take);
}

}  // namespace sb::loadgen
