// Meta webhook bodies from other projects' test suites (../shared/peer-fixtures,
// described by its README.md and INDEX.json). They are read at test time and
// never copied into this project.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fixtures.hpp"
#include "webhook_samples.hpp"

namespace sb::gateway {
namespace {

struct FixtureRecord {
  std::string file;
  std::string kind;
  std::set<std::string> message_ids;
  std::set<std::string> status_ids;
  std::vector<std::string> channel_ids;
};

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

std::set<std::string> StringSet(const nlohmann::json& record, const char* key) {
  std::set<std::string> out;
  if (auto it = record.find(key); it != record.end() && it->is_array()) {
    for (const auto& v : *it) out.insert(v.get<std::string>());
  }
  return out;
}

class PeerFixtures : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = sb::test::PeerFixturesDir();
    if (!dir_) return;
    auto index = sb::json::ParseLimited(ReadFile(*dir_ / "INDEX.json"));
    if (!index.ok() || !index.value().is_array()) {
      load_error_ = "INDEX.json is unreadable: " + (index.ok() ? "not an array" : index.error().message);
      return;
    }
    for (const auto& r : index.value()) {
      FixtureRecord rec;
      rec.file = r.at("file").get<std::string>();
      rec.kind = r.at("kind").get<std::string>();
      rec.message_ids = StringSet(r, "customer_message_ids");
      rec.status_ids = StringSet(r, "status_ids");
      const auto channels = StringSet(r, "channel_external_ids");
      rec.channel_ids.assign(channels.begin(), channels.end());
      records_.push_back(std::move(rec));
    }
  }

  void SetUp() override {
    if (!dir_) {
      GTEST_SKIP() << "peer fixtures not found (../shared/peer-fixtures): set SB_PEER_FIXTURES "
                      "or place them beside the project";
    }
    ASSERT_TRUE(load_error_.empty()) << load_error_;
    ASSERT_FALSE(records_.empty()) << "INDEX.json lists no fixtures";
  }

  // Parses one record's file as the gateway would; nullopt (with a failure
  // naming the file) when it does not parse.
  static std::optional<ParsedWebhook> Parse(const FixtureRecord& rec) {
    const auto kind = ChannelKindFromString(rec.kind);
    if (!kind) {
      ADD_FAILURE() << rec.file << ": unknown kind " << rec.kind;
      return std::nullopt;
    }
    auto parsed = samples::ParseBody(*kind, ReadFile(*dir_ / rec.file));
    if (!parsed.ok()) {
      ADD_FAILURE() << rec.file << ": " << parsed.error().code << ": " << parsed.error().message;
      return std::nullopt;
    }
    return std::move(parsed).value();
  }

  static inline std::optional<std::filesystem::path> dir_;
  static inline std::string load_error_;
  static inline std::vector<FixtureRecord> records_;
};

TEST_F(PeerFixtures, EveryFileIsAccepted) {
  for (const auto& rec : records_) Parse(rec);
}

TEST_F(PeerFixtures, CustomerMessageIdsMatchExactly) {
  for (const auto& rec : records_) {
    auto parsed = Parse(rec);
    if (!parsed) continue;
    std::set<std::string> got;
    for (const auto& m : parsed->messages) got.insert(m.provider_message_id);
    EXPECT_EQ(got, rec.message_ids) << rec.file;
  }
}

// INDEX.json's status_ids are WhatsApp statuses[].id and Messenger
// delivery.mids. An Instagram read.mid is a "read" status for us too, but
// the index leaves it out, so Messenger-platform reads are not compared.
TEST_F(PeerFixtures, StatusIdsMatchExactly) {
  for (const auto& rec : records_) {
    auto parsed = Parse(rec);
    if (!parsed) continue;
    std::set<std::string> got;
    for (const auto& s : parsed->statuses) {
      if (rec.kind == "whatsapp" || s.status == "delivered") got.insert(s.provider_message_id);
    }
    EXPECT_EQ(got, rec.status_ids) << rec.file;
  }
}

TEST_F(PeerFixtures, NamedChannelsAreAmongTheRefs) {
  for (const auto& rec : records_) {
    auto parsed = Parse(rec);
    if (!parsed) continue;
    EXPECT_FALSE(parsed->channels.empty()) << rec.file;
    for (const auto& id : rec.channel_ids) {
      const ChannelRef ref{id, false};
      EXPECT_NE(std::find(parsed->channels.begin(), parsed->channels.end(), ref), parsed->channels.end())
          << rec.file << ": channel " << id << " not among the parsed refs";
    }
    // Bodies that name no phone number are account-level WhatsApp events.
    if (rec.kind == "whatsapp" && rec.channel_ids.empty()) {
      for (const auto& ref : parsed->channels) {
        EXPECT_TRUE(ref.account_level) << rec.file << ": " << ref.external_id;
      }
    }
  }
}

TEST_F(PeerFixtures, EchoesAreCountedNotStored) {
  for (const auto& rec : records_) {
    if (rec.file.find("echo") == std::string::npos || rec.file.find("is_echo_false") != std::string::npos) {
      continue;
    }
    auto parsed = Parse(rec);
    if (!parsed) continue;
    EXPECT_GT(parsed->echoes, 0) << rec.file;
    EXPECT_TRUE(parsed->messages.empty()) << rec.file;
  }
}

}  // namespace
}  // namespace sb::gateway
