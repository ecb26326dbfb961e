// Configuration from SWITCHBOARD_* environment variables.
#include "sb/common/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

extern char** environ;

namespace sb {
namespace {

constexpr std::string_view kPrefix = "SWITCHBOARD_";

/// Names of the SWITCHBOARD_* variables currently set, with their values.
std::vector<std::pair<std::string, std::string>> SwitchboardVariables() {
  std::vector<std::pair<std::string, std::string>> out;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    if (entry.substr(0, kPrefix.size()) != kPrefix) continue;
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    out.emplace_back(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return out;
}

void UnsetAllSwitchboardVariables() {
  for (const auto& [name, value] : SwitchboardVariables()) unsetenv(name.c_str());
}

/// Every test starts with no SWITCHBOARD_* variable set and leaves the
/// environment as it found it.
class ConfigTest : public testing::Test {
 protected:
  void SetUp() override {
    saved_ = SwitchboardVariables();
    UnsetAllSwitchboardVariables();
  }
  void TearDown() override {
    UnsetAllSwitchboardVariables();
    for (const auto& [name, value] : saved_) setenv(name.c_str(), value.c_str(), 1);
  }
  static void Set(const char* name, const char* value) { ASSERT_EQ(setenv(name, value, 1), 0) << name; }

 private:
  std::vector<std::pair<std::string, std::string>> saved_;
};

TEST_F(ConfigTest, DefaultsWhenNothingIsSet) {
  Config c = Config::FromEnvironment();
  EXPECT_EQ(c.database_url, "postgresql:///switchboard");
  EXPECT_EQ(c.listen_database_url, "postgresql:///switchboard") << "defaults to database_url";
  EXPECT_EQ(c.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.admin_token, "");
  EXPECT_EQ(c.graph_api_base, "https://graph.facebook.com/v21.0");
  EXPECT_EQ(c.public_url, "http://127.0.0.1:8080") << "defaults to http://<listen>";
  EXPECT_EQ(c.secret_key_hex, "");
  EXPECT_EQ(c.secret_key_file, "var/secret.key");
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.log_format, "text");
  EXPECT_EQ(c.io_threads, 2);
  EXPECT_EQ(c.db_pool_size, 8);
  EXPECT_TRUE(c.db_prepare) << "statements are prepared unless SWITCHBOARD_DB_PREPARE=off";
  EXPECT_EQ(c.ingest_writers, 2);
  EXPECT_EQ(c.ingest_max_batch, 512u);
  EXPECT_EQ(c.ingest_gather, std::chrono::microseconds(2000));
  EXPECT_EQ(c.ingest_gather_batch, 16u);
  EXPECT_EQ(c.ingest_max_backlog_bytes, 64u << 20);
  EXPECT_EQ(c.ingest_deadline, std::chrono::milliseconds(4000));
  EXPECT_EQ(c.archive_retention_days, 30);
  EXPECT_EQ(c.router_poll, std::chrono::milliseconds(100));
}

TEST_F(ConfigTest, EmptyVariablesMeanDefault) {
  Set("SWITCHBOARD_IO_THREADS", "");
  Set("SWITCHBOARD_LISTEN", "");
  Set("SWITCHBOARD_LOG_FORMAT", "");
  Config c = Config::FromEnvironment();
  EXPECT_EQ(c.io_threads, 2);
  EXPECT_EQ(c.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.log_format, "text");
}

TEST_F(ConfigTest, ReadsEveryVariable) {
  Set("SWITCHBOARD_DATABASE_URL", "postgresql://db/sb");
  Set("SWITCHBOARD_LISTEN_DATABASE_URL", "postgresql://direct/sb");
  Set("SWITCHBOARD_LISTEN", "0.0.0.0:9000");
  Set("SWITCHBOARD_ADMIN_TOKEN", "adm");
  Set("SWITCHBOARD_GRAPH_API_BASE", "http://127.0.0.1:1234");
  Set("SWITCHBOARD_PUBLIC_URL", "https://sb.example.com");
  Set("SWITCHBOARD_SECRET_KEY", std::string(64, 'a').c_str());
  Set("SWITCHBOARD_SECRET_KEY_FILE", "/etc/sb.key");
  Set("SWITCHBOARD_LOG_LEVEL", "debug");
  Set("SWITCHBOARD_LOG_FORMAT", "json");
  Set("SWITCHBOARD_IO_THREADS", "8");
  Set("SWITCHBOARD_DB_POOL_SIZE", "16");
  Set("SWITCHBOARD_DB_PREPARE", "off");
  Set("SWITCHBOARD_INGEST_WRITERS", "3");
  Set("SWITCHBOARD_INGEST_MAX_BATCH", "1000");
  Set("SWITCHBOARD_INGEST_GATHER_US", "0");
  Set("SWITCHBOARD_INGEST_GATHER_BATCH", "64");
  Set("SWITCHBOARD_INGEST_MAX_BACKLOG_BYTES", "2097152");
  Set("SWITCHBOARD_INGEST_DEADLINE_MS", "250");
  Set("SWITCHBOARD_ARCHIVE_RETENTION_DAYS", "7");
  Set("SWITCHBOARD_PRESENCE_TIMEOUT_S", "2");
  Set("SWITCHBOARD_AGENT_EVENT_RETENTION_HOURS", "48");
  Set("SWITCHBOARD_ROUTER_POLL_MS", "250");
  Config c = Config::FromEnvironment();
  EXPECT_EQ(c.database_url, "postgresql://db/sb");
  EXPECT_EQ(c.listen_database_url, "postgresql://direct/sb");
  EXPECT_EQ(c.listen, "0.0.0.0:9000");
  EXPECT_EQ(c.admin_token, "adm");
  EXPECT_EQ(c.graph_api_base, "http://127.0.0.1:1234");
  EXPECT_EQ(c.public_url, "https://sb.example.com");
  EXPECT_EQ(c.secret_key_hex, std::string(64, 'a'));
  EXPECT_EQ(c.secret_key_file, "/etc/sb.key");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.log_format, "json");
  EXPECT_EQ(c.io_threads, 8);
  EXPECT_EQ(c.db_pool_size, 16);
  EXPECT_FALSE(c.db_prepare);
  EXPECT_EQ(c.ingest_writers, 3);
  EXPECT_EQ(c.ingest_max_batch, 1000u);
  EXPECT_EQ(c.ingest_gather, std::chrono::microseconds(0));
  EXPECT_EQ(c.ingest_gather_batch, 64u);
  EXPECT_EQ(c.ingest_max_backlog_bytes, 2097152u);
  EXPECT_EQ(c.ingest_deadline, std::chrono::milliseconds(250));
  EXPECT_EQ(c.archive_retention_days, 7);
  EXPECT_EQ(c.presence_timeout, std::chrono::seconds(2));
  EXPECT_EQ(c.agent_event_retention_hours, 48);
  EXPECT_EQ(c.router_poll, std::chrono::milliseconds(250));
}

TEST_F(ConfigTest, PresenceAndAgentEventDefaults) {
  Config c = Config::FromEnvironment();
  EXPECT_EQ(c.presence_timeout, std::chrono::seconds(60));
  EXPECT_EQ(c.agent_event_retention_hours, 24) << "events are kept at least 24 h";
}

TEST_F(ConfigTest, ListenDatabaseUrlFollowsDatabaseUrl) {
  Set("SWITCHBOARD_DATABASE_URL", "postgresql://db/sb");
  EXPECT_EQ(Config::FromEnvironment().listen_database_url, "postgresql://db/sb");
}

TEST_F(ConfigTest, PublicUrlFollowsListen) {
  Set("SWITCHBOARD_LISTEN", "0.0.0.0:9000");
  EXPECT_EQ(Config::FromEnvironment().public_url, "http://0.0.0.0:9000");
}

struct PublicUrlCase {
  const char* value;
  const char* expected;
};

class ConfigPublicUrl : public ConfigTest, public testing::WithParamInterface<PublicUrlCase> {};

TEST_P(ConfigPublicUrl, TrailingSlashesAreRemoved) {
  Set("SWITCHBOARD_PUBLIC_URL", GetParam().value);
  EXPECT_EQ(Config::FromEnvironment().public_url, GetParam().expected) << "SWITCHBOARD_PUBLIC_URL=" << GetParam().value;
}

INSTANTIATE_TEST_SUITE_P(Table, ConfigPublicUrl,
                         testing::Values(PublicUrlCase{"https://sb.example.com/", "https://sb.example.com"},
                                         PublicUrlCase{"https://sb.example.com///", "https://sb.example.com"},
                                         PublicUrlCase{"https://sb.example.com/base/", "https://sb.example.com/base"},
                                         PublicUrlCase{"https://sb.example.com", "https://sb.example.com"}));

struct BadNumberCase {
  const char* variable;
  const char* value;
};

class ConfigBadNumber : public ConfigTest, public testing::WithParamInterface<BadNumberCase> {};

TEST_P(ConfigBadNumber, ThrowsNamingTheVariable) {
  const auto& c = GetParam();
  Set(c.variable, c.value);
  try {
    Config::FromEnvironment();
    ADD_FAILURE() << "expected std::invalid_argument for " << c.variable << "='" << c.value << "'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(c.variable), std::string::npos)
        << "the message must name " << c.variable << ", got: " << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, ConfigBadNumber,
    testing::Values(
        BadNumberCase{"SWITCHBOARD_IO_THREADS", "abc"}, BadNumberCase{"SWITCHBOARD_IO_THREADS", "0"},
        BadNumberCase{"SWITCHBOARD_IO_THREADS", "-1"}, BadNumberCase{"SWITCHBOARD_IO_THREADS", "65"},
        BadNumberCase{"SWITCHBOARD_IO_THREADS", "4x"}, BadNumberCase{"SWITCHBOARD_IO_THREADS", " 4"},
        BadNumberCase{"SWITCHBOARD_IO_THREADS", "4 "}, BadNumberCase{"SWITCHBOARD_IO_THREADS", "+4"},
        BadNumberCase{"SWITCHBOARD_IO_THREADS", "2.5"}, BadNumberCase{"SWITCHBOARD_IO_THREADS", "99999999999999999999"},
        BadNumberCase{"SWITCHBOARD_DB_POOL_SIZE", "0"}, BadNumberCase{"SWITCHBOARD_DB_POOL_SIZE", "257"},
        BadNumberCase{"SWITCHBOARD_INGEST_WRITERS", "17"}, BadNumberCase{"SWITCHBOARD_INGEST_MAX_BATCH", "0"},
        BadNumberCase{"SWITCHBOARD_INGEST_MAX_BATCH", "-5"}, BadNumberCase{"SWITCHBOARD_INGEST_GATHER_US", "100001"},
        BadNumberCase{"SWITCHBOARD_INGEST_GATHER_US", "-1"}, BadNumberCase{"SWITCHBOARD_INGEST_GATHER_BATCH", "0"},
        BadNumberCase{"SWITCHBOARD_INGEST_MAX_BACKLOG_BYTES", "1024"},
        BadNumberCase{"SWITCHBOARD_INGEST_MAX_BACKLOG_BYTES", "18446744073709551616"},
        BadNumberCase{"SWITCHBOARD_INGEST_DEADLINE_MS", "99"}, BadNumberCase{"SWITCHBOARD_INGEST_DEADLINE_MS", "60001"},
        BadNumberCase{"SWITCHBOARD_INGEST_DEADLINE_MS", "1s"}, BadNumberCase{"SWITCHBOARD_ARCHIVE_RETENTION_DAYS", "0"},
        BadNumberCase{"SWITCHBOARD_ARCHIVE_RETENTION_DAYS", "3651"},
        BadNumberCase{"SWITCHBOARD_PRESENCE_TIMEOUT_S", "0"}, BadNumberCase{"SWITCHBOARD_PRESENCE_TIMEOUT_S", "1.5"},
        BadNumberCase{"SWITCHBOARD_AGENT_EVENT_RETENTION_HOURS", "23"},
        BadNumberCase{"SWITCHBOARD_ROUTER_POLL_MS", "9"}, BadNumberCase{"SWITCHBOARD_ROUTER_POLL_MS", "60001"},
        BadNumberCase{"SWITCHBOARD_ROUTER_POLL_MS", "5001"}),  // over half the default lease
    [](const testing::TestParamInfo<BadNumberCase>& info) {
      std::string name = std::string(info.param.variable).substr(kPrefix.size()) + "_" + std::to_string(info.index);
      return name;
    });

struct BoundaryCase {
  const char* variable;
  const char* value;
};

class ConfigNumberBoundary : public ConfigTest, public testing::WithParamInterface<BoundaryCase> {};

TEST_P(ConfigNumberBoundary, IsAccepted) {
  Set(GetParam().variable, GetParam().value);
  EXPECT_NO_THROW(Config::FromEnvironment()) << GetParam().variable << "=" << GetParam().value << " is in range";
}

INSTANTIATE_TEST_SUITE_P(Table, ConfigNumberBoundary,
                         testing::Values(BoundaryCase{"SWITCHBOARD_IO_THREADS", "1"},
                                         BoundaryCase{"SWITCHBOARD_IO_THREADS", "64"},
                                         BoundaryCase{"SWITCHBOARD_DB_POOL_SIZE", "256"},
                                         BoundaryCase{"SWITCHBOARD_INGEST_WRITERS", "16"},
                                         BoundaryCase{"SWITCHBOARD_INGEST_MAX_BATCH", "100000"},
                                         BoundaryCase{"SWITCHBOARD_INGEST_GATHER_US", "100000"},
                                         BoundaryCase{"SWITCHBOARD_INGEST_GATHER_BATCH", "100000"},
                                         BoundaryCase{"SWITCHBOARD_INGEST_MAX_BACKLOG_BYTES", "1048576"},
                                         BoundaryCase{"SWITCHBOARD_INGEST_MAX_BACKLOG_BYTES", "17179869184"},
                                         BoundaryCase{"SWITCHBOARD_INGEST_DEADLINE_MS", "100"},
                                         BoundaryCase{"SWITCHBOARD_INGEST_DEADLINE_MS", "60000"},
                                         BoundaryCase{"SWITCHBOARD_ARCHIVE_RETENTION_DAYS", "3650"},
                                         BoundaryCase{"SWITCHBOARD_ROUTER_POLL_MS", "10"},
                                         BoundaryCase{"SWITCHBOARD_ROUTER_POLL_MS", "5000"}));

TEST_F(ConfigTest, RouterPollIsAtMostHalfTheLease) {
  Set("SWITCHBOARD_LEASE_TTL_MS", "120000");
  Set("SWITCHBOARD_ROUTER_POLL_MS", "60000");
  EXPECT_EQ(Config::FromEnvironment().router_poll, std::chrono::milliseconds(60000));
  Set("SWITCHBOARD_LEASE_TTL_MS", "119999");
  try {
    Config::FromEnvironment();
    ADD_FAILURE() << "expected a poll over half the lease refused";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("at most half of SWITCHBOARD_LEASE_TTL_MS (119999)"), std::string::npos)
        << e.what();
  }
}

TEST_F(ConfigTest, IoThreadsAbcMessageQuotesTheValue) {
  Set("SWITCHBOARD_IO_THREADS", "abc");
  try {
    Config::FromEnvironment();
    ADD_FAILURE() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "SWITCHBOARD_IO_THREADS must be a whole number from 1 to 64, got 'abc'");
  }
}

TEST_F(ConfigTest, UnknownLogFormatThrows) {
  for (const char* format : {"xml", "JSON", "Text", " json"}) {
    Set("SWITCHBOARD_LOG_FORMAT", format);
    try {
      Config::FromEnvironment();
      ADD_FAILURE() << "expected std::invalid_argument for SWITCHBOARD_LOG_FORMAT=" << format;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("SWITCHBOARD_LOG_FORMAT"), std::string::npos)
          << "the message must name the variable, got: " << e.what();
    }
  }
}

TEST_F(ConfigTest, DbPrepareTakesOnOrOff) {
  for (const char* value : {"yes", "true", "1", "ON", "of"}) {
    Set("SWITCHBOARD_DB_PREPARE", value);
    try {
      Config::FromEnvironment();
      ADD_FAILURE() << "expected std::invalid_argument for SWITCHBOARD_DB_PREPARE=" << value;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()),
                "SWITCHBOARD_DB_PREPARE must be 'on' or 'off', got '" + std::string(value) + "'");
    }
  }
  Set("SWITCHBOARD_DB_PREPARE", "on");
  EXPECT_TRUE(Config::FromEnvironment().db_prepare);
}

TEST_F(ConfigTest, EnvironmentIsCleanInsideEachTest) {
  // SetUp removed every SWITCHBOARD_* variable, whatever the caller had set.
  EXPECT_TRUE(SwitchboardVariables().empty());
}

}  // namespace
}  // namespace sb

namespace sb {
namespace {

TEST_F(ConfigTest, LimitsAndKeyRotationVariables) {
  Config d = Config::FromEnvironment();
  EXPECT_EQ(d.api_rate_limit, 100);
  EXPECT_EQ(d.api_rate_burst, 200);
  EXPECT_EQ(d.max_connections, 10000);
  EXPECT_EQ(d.http_header_timeout.count(), 10000);
  EXPECT_EQ(d.http_body_timeout.count(), 30000);
  EXPECT_EQ(d.http_idle_timeout.count(), 60000);
  EXPECT_EQ(d.secret_key_id, 1);
  EXPECT_EQ(d.old_secret_keys, "");

  Set("SWITCHBOARD_API_RATE_LIMIT", "0");
  Set("SWITCHBOARD_API_RATE_BURST", "7");
  Set("SWITCHBOARD_MAX_CONNECTIONS", "50");
  Set("SWITCHBOARD_HTTP_HEADER_TIMEOUT_MS", "500");
  Set("SWITCHBOARD_HTTP_BODY_TIMEOUT_MS", "600");
  Set("SWITCHBOARD_HTTP_IDLE_TIMEOUT_MS", "700");
  Set("SWITCHBOARD_SECRET_KEY_ID", "255");
  Set("SWITCHBOARD_OLD_SECRET_KEYS", "1:abcd");
  Config c = Config::FromEnvironment();
  EXPECT_EQ(c.api_rate_limit, 0) << "0 turns rate limiting off";
  EXPECT_EQ(c.api_rate_burst, 7);
  EXPECT_EQ(c.max_connections, 50);
  EXPECT_EQ(c.http_header_timeout.count(), 500);
  EXPECT_EQ(c.http_body_timeout.count(), 600);
  EXPECT_EQ(c.http_idle_timeout.count(), 700);
  EXPECT_EQ(c.secret_key_id, 255);
  EXPECT_EQ(c.old_secret_keys, "1:abcd");

  for (auto [name, value] :
       {std::pair{"SWITCHBOARD_API_RATE_BURST", "0"}, std::pair{"SWITCHBOARD_MAX_CONNECTIONS", "0"},
        std::pair{"SWITCHBOARD_HTTP_HEADER_TIMEOUT_MS", "99"}, std::pair{"SWITCHBOARD_SECRET_KEY_ID", "0"},
        std::pair{"SWITCHBOARD_SECRET_KEY_ID", "256"}, std::pair{"SWITCHBOARD_API_RATE_LIMIT", "-1"}}) {
    UnsetAllSwitchboardVariables();
    Set(name, value);
    EXPECT_THROW(Config::FromEnvironment(), std::invalid_argument) << name << "=" << value;
  }
}

TEST_F(ConfigTest, MediaLimitAndHosts) {
  Config defaults = Config::FromEnvironment();
  EXPECT_EQ(defaults.media_max_bytes, 25u << 20) << "Messenger's attachment limit";
  EXPECT_EQ(defaults.media_hosts, "") << "empty: the fetcher's default, Meta's CDNs";
  Set("SWITCHBOARD_MEDIA_MAX_BYTES", "1048576");
  Set("SWITCHBOARD_MEDIA_HOSTS", "127.0.0.1,*.example.com");
  Config c = Config::FromEnvironment();
  EXPECT_EQ(c.media_max_bytes, 1048576u);
  EXPECT_EQ(c.media_hosts, "127.0.0.1,*.example.com");
  for (const char* value : {"0", "1023", "1073741825", "-1", "25MiB", "1e6"}) {
    Set("SWITCHBOARD_MEDIA_MAX_BYTES", value);
    EXPECT_THROW(Config::FromEnvironment(), std::invalid_argument) << "SWITCHBOARD_MEDIA_MAX_BYTES=" << value;
  }
}

}  // namespace
}  // namespace sb
