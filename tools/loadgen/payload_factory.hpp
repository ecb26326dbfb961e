#pragma once
/// Builds signed single-message WhatsApp webhook bodies, one per request index.
#include <cstdint>
#include <string>
#include <vector>

namespace sb::loadgen {

/// One webhook delivery: the exact bytes to POST and their signature.
struct Payload {
  std::uint64_t index = 0;
  std::string message_id;  // wamid.<run id>.<index>; unique per run
  std::string body;
  std::string signature;  // X-Hub-Signature-256 value: "sha256=<hex>"
};

/// Deterministic apart from the timestamp: request `i` comes from customer
/// `i % customers`, so a run of N requests gives each customer about
/// N / customers messages. Make() is const and thread-safe.
class WhatsAppPayloadFactory {
 public:
  struct Settings {
    std::string secret;
    std::string phone_number_id;
    std::string account_id;  // the WABA id, entry[].id
    std::string run_id;      // [A-Za-z0-9_-], keeps message ids of runs apart
    std::uint64_t customers = 100000;
    std::size_t body_bytes = 1024;  // target size; the text is cut at a word
  };

  explicit WhatsAppPayloadFactory(Settings settings);

  Payload Make(std::uint64_t index) const;

 private:
  Settings settings_;
  std::string head_;                // up to the contact's profile name
  std::vector<std::string> texts_;  // long conversational texts to cut from
};

}  // namespace sb::loadgen
