// `switchboard reprocess` and `switchboard seed-demo`.
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "sb/common/blocking.hpp"
#include "sb/common/json/limited_parse.hpp"
#include "sb/gateway/webhook_parser.hpp"
#include "sb/store/migrator.hpp"
#include "secret_key.hpp"
#include "services.hpp"

namespace sb::app {

int App::Reprocess(const std::string& since) {
  services_ = std::make_unique<Services>(config_);
  auto& s = *services_;
  std::optional<store::ArchivedBody> cursor;
  gateway::IngestOutcome total;
  int bodies = 0, unreadable = 0;
  for (;;) {
    auto page = s.maintenance.ArchiveSinceSync(since, cursor, 200);
    if (page.empty()) break;
    for (auto& archived : page) {
      cursor = archived;
      ++bodies;
      auto kind = gateway::ChannelKindFromString(archived.kind);
      auto json = json::ParseLimited(archived.body);
      auto parsed = kind && json ? gateway::ParseWebhook(*kind, json.value())
                                 : Result<gateway::ParsedWebhook>(Error{"invalid_json", "unreadable"});
      if (!parsed) {
        ++unreadable;
        continue;
      }
      // The body was verified when it arrived; keep what belongs to the
      // business it was archived for.
      auto known = Blocking(s.directory.Find(*kind, parsed.value().channels));
      gateway::IngestRequest request;
      request.kind = *kind;
      request.deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
      request.archived = gateway::IngestRequest::ArchiveRef{archived.id, archived.received_at};
      for (const auto& k : known) {
        if (k.key.business_id == archived.business_id) request.channels.emplace_back(k.ref, k.key);
      }
      request.parsed = std::move(parsed).value();
      auto outcome = s.writer.SubmitSync(std::move(request));
      total.messages += outcome.messages;
      total.duplicates += outcome.duplicates;
    }
  }
  std::cout << nlohmann::json{{"bodies", bodies},
                              {"unreadable", unreadable},
                              {"messages_added", total.messages},
                              {"messages_already_stored", total.duplicates}}
                   .dump()
            << std::endl;
  return 0;
}

int App::ReencryptSecrets() {
  services_ = std::make_unique<Services>(config_);
  auto report = app::ReencryptSecrets(*services_);
  std::cout << nlohmann::json{{"key_id", services_->secrets.current_key_id()},
                              {"channels_reencrypted", report.channels},
                              {"channels_unreadable", report.unreadable}}
                   .dump()
            << std::endl;
  return report.unreadable == 0 ? 0 : 2;
}

int App::RotateSecretKey() {
  int id = RotateKeyFile(config_);
  spdlog::info("secret key {} is now current in {}", id, config_.secret_key_file);
  return ReencryptSecrets();
}

int App::SeedDemo(const std::string& state_file) {
  if (std::filesystem::exists(state_file)) {
    std::ifstream in(state_file);
    std::cout << in.rdbuf();
    return 0;
  }
  services_ = std::make_unique<Services>(config_);
  auto& s = *services_;
  std::string key = crypto::RandomToken("sbk_");
  // Made by the platform operator from the command line.
  store::AuditEntry audit;
  audit.actor_type = "admin";
  audit.action = "create";
  audit.resource_type = "business";
  audit.summary_json = R"({"name":"Demo Shop","timezone":"UTC"})";
  audit.request_id = "seed-demo";
  auto business =
      nlohmann::json::parse(Blocking(s.businesses.Create("Demo Shop", "UTC", crypto::Sha256Hex(key), audit)).value());
  nlohmann::json state = {{"business_id", business["id"]}, {"api_key", key}, {"channels", nlohmann::json::array()}};
  struct Demo {
    const char* kind;
    const char* external_id;
    const char* account_id;
  };
  for (auto demo : {Demo{"messenger", "100000000000001", nullptr}, Demo{"instagram", "17841400000000001", nullptr},
                    Demo{"whatsapp", "100000000000003", "200000000000003"}}) {
    std::string app_secret = crypto::RandomToken("");
    std::string verify_token = crypto::RandomToken("verify_");
    store::NewChannel c;
    c.business_id = business["id"].get<std::int64_t>();
    c.kind = demo.kind;
    c.external_id = demo.external_id;
    if (demo.account_id) c.account_id = demo.account_id;
    c.name = std::string("Demo ") + demo.kind;
    c.app_secret_enc_hex = crypto::HexEncode(s.secrets.Seal(app_secret));
    c.verify_token_hash_hex = crypto::Sha256Hex(verify_token);
    store::AuditEntry channel_audit = audit;
    channel_audit.business_id = c.business_id;
    channel_audit.resource_type = "channel";
    channel_audit.summary_json = nlohmann::json{{"kind", c.kind}, {"external_id", c.external_id}}.dump();
    auto channel = nlohmann::json::parse(Blocking(s.channels.Create(c, channel_audit)));
    channel["app_secret"] = app_secret;
    channel["verify_token"] = verify_token;
    state["channels"].push_back(channel);
  }
  std::string text = state.dump(2) + "\n";
  if (auto parent = std::filesystem::path(state_file).parent_path(); !parent.empty()) {
    std::filesystem::create_directories(parent);
  }
  {
    std::ofstream out(state_file);
    out << text;
  }
  std::filesystem::permissions(state_file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::cout << text;
  return 0;
}

}  // namespace sb::app
