#pragma once
/// Builds signed single-message webhook bodies (WhatsApp, Messenger or
/// Instagram), one per request index.
#include <cstdint>
#include <string>
#include <vector>

namespace sb::loadgen {

/// One webhook delivery: the exact bytes to POST and their signature.
struct Payload {
  std::uint64_t index = 0;
  std::string message_id;  // wamid.<run id>.<index> (m. for Messenger, ig. for Instagram); unique per run
  std::string body;
  std::string signature;  // X-Hub-Signature-256 value: "sha256=<hex>"
};

/// Deterministic apart from the timestamp: request `i` comes from customer
/// `i % customers`, so a run of N requests gives each customer about
/// N / customers messages. Make() is const and thread-safe.
class WebhookPayloadFactory {
 public:
  enum class Kind { kWhatsapp, kMessenger, kInstagram };

  struct Settings {
    Kind kind = Kind::kWhatsapp;
    std::string secret;
    std::string channel_id;  // WhatsApp phone_number_id, Messenger page id or Instagram account id
    std::string account_id;  // WhatsApp only: the WABA id, entry[].id
    std::string run_id;      // [A-Za-z0-9_-], keeps message ids of runs apart
    std::uint64_t customers = 100000;
    std::size_t body_bytes = 1024;  // target size; the text is cut at a word
  };

  explicit WebhookPayloadFactory(Settings settings);

  Payload Make(std::uint64_t index) const;

 private:
  Payload MakeWhatsApp(std::uint64_t index, std::uint64_t customer) const;
  Payload MakeMessaging(std::uint64_t index, std::uint64_t customer) const;
  // Fills `body` with text up to the target size (leaving room for `tail`).
  void AppendText(std::string& body, std::uint64_t index, std::size_t tail) const;

  Settings settings_;
  std::string channel_id_json_;     // the channel id as a JSON string
  std::string head_;                // WhatsApp: up to the contact's profile name; else up to the sender id
  std::vector<std::string> texts_;  // long conversational texts to cut from
};

}  // namespace sb::loadgen
