// sb-bench-intent: how long intent detection takes for the texts the ingest
// and routing benchmarks send (the load generator's WhatsApp bodies, their
// text taken back out of the JSON), one core, no database.
//
//   sb-bench-intent [--texts N] [--body-bytes B] [--seconds S]
#include <CLI/CLI.hpp>
#include <array>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sb/router/intent.hpp>
#include <string>
#include <vector>

#include "../loadgen/payload_factory.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Time sb::router::DetectIntent over the load generator's message texts"};
  std::size_t texts_wanted = 64;
  std::size_t body_bytes = 1024;
  double seconds = 3;
  app.add_option("--texts", texts_wanted, "distinct texts, used in turn")->check(CLI::Range(1, 100000));
  app.add_option("--body-bytes", body_bytes, "webhook size the texts are cut for (sb-loadgen's default)")
      ->check(CLI::Range(256, 1 << 20));
  app.add_option("--seconds", seconds, "how long to run")->check(CLI::Range(0.1, 600.0));
  CLI11_PARSE(app, argc, argv);

  sb::loadgen::WebhookPayloadFactory factory({.kind = sb::loadgen::WebhookPayloadFactory::Kind::kWhatsapp,
                                              .secret = "bench",
                                              .channel_id = "100000000000001",
                                              .account_id = "100000000000002",
                                              .run_id = "intent",
                                              .customers = 100000,
                                              .body_bytes = body_bytes});
  std::vector<std::string> texts;
  std::size_t text_bytes = 0;
  for (std::size_t i = 0; i < texts_wanted; ++i) {
    auto body = nlohmann::json::parse(factory.Make(i).body);
    texts.push_back(body["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"].get<std::string>());
    text_bytes += texts.back().size();
  }

  using Clock = std::chrono::steady_clock;
  std::size_t calls = 0;
  constexpr int kIntents = static_cast<int>(sb::router::Intent::kOther) + 1;
  std::array<std::size_t, kIntents> intents{};
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    for (int k = 0; k < 256; ++k) {
      auto detected = sb::router::DetectIntent(texts[calls % texts.size()]);
      ++intents[static_cast<int>(detected.intent)];
      ++calls;
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("DetectIntent: %zu texts of %.0f bytes on average (bodies of %zu bytes), %zu calls in %.2f s\n",
              texts.size(), static_cast<double>(text_bytes) / static_cast<double>(texts.size()), body_bytes, calls,
              elapsed);
  std::printf("%.2f us per text, %.0f texts/s on one core\n", elapsed * 1e6 / static_cast<double>(calls),
              static_cast<double>(calls) / elapsed);
  std::printf("intents found:");
  for (int i = 0; i < kIntents; ++i) {
    std::printf(" %s %zu", std::string(sb::router::ToString(static_cast<sb::router::Intent>(i))).c_str(), intents[i]);
  }
  std::printf("\n");
  return 0;
}
