#include "sb/common/config.hpp"

#include <charconv>
#include <cstdlib>
#include <stdexcept>

namespace sb {
namespace {

std::string Env(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::string(value) : std::move(fallback);
}

template <class T>
T EnvNumber(const char* name, T fallback, T min, T max) {
  const char* value = std::getenv(name);
  if (!value || !*value) return fallback;
  T parsed{};
  std::string_view text(value);
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (ec != std::errc() || ptr != text.data() + text.size() || parsed < min || parsed > max) {
    throw std::invalid_argument(std::string(name) + " must be a whole number from " + std::to_string(min) + " to " +
                                std::to_string(max) + ", got '" + value + "'");
  }
  return parsed;
}

}  // namespace

Config Config::FromEnvironment() {
  Config c;
  c.database_url = Env("SWITCHBOARD_DATABASE_URL", "postgresql:///switchboard");
  c.listen_database_url = Env("SWITCHBOARD_LISTEN_DATABASE_URL", c.database_url);
  c.listen = Env("SWITCHBOARD_LISTEN", c.listen);
  c.admin_token = Env("SWITCHBOARD_ADMIN_TOKEN", "");
  c.graph_api_base = Env("SWITCHBOARD_GRAPH_API_BASE", c.graph_api_base);
  c.public_url = Env("SWITCHBOARD_PUBLIC_URL", "http://" + c.listen);
  while (!c.public_url.empty() && c.public_url.back() == '/') c.public_url.pop_back();
  c.secret_key_hex = Env("SWITCHBOARD_SECRET_KEY", "");
  c.secret_key_file = Env("SWITCHBOARD_SECRET_KEY_FILE", c.secret_key_file);
  c.log_level = Env("SWITCHBOARD_LOG_LEVEL", c.log_level);
  c.log_format = Env("SWITCHBOARD_LOG_FORMAT", c.log_format);
  if (c.log_format != "text" && c.log_format != "json") {
    throw std::invalid_argument("SWITCHBOARD_LOG_FORMAT must be 'text' or 'json'");
  }
  c.io_threads = EnvNumber("SWITCHBOARD_IO_THREADS", c.io_threads, 1, 64);
  c.db_pool_size = EnvNumber("SWITCHBOARD_DB_POOL_SIZE", c.db_pool_size, 1, 256);
  const std::string prepare = Env("SWITCHBOARD_DB_PREPARE", "on");
  if (prepare != "on" && prepare != "off") {
    throw std::invalid_argument("SWITCHBOARD_DB_PREPARE must be 'on' or 'off', got '" + prepare + "'");
  }
  c.db_prepare = prepare == "on";
  c.ingest_writers = EnvNumber("SWITCHBOARD_INGEST_WRITERS", c.ingest_writers, 1, 16);
  c.ingest_max_batch = EnvNumber<std::size_t>("SWITCHBOARD_INGEST_MAX_BATCH", c.ingest_max_batch, 1, 100000);
  c.ingest_gather =
      std::chrono::microseconds(EnvNumber<long>("SWITCHBOARD_INGEST_GATHER_US", c.ingest_gather.count(), 0, 100000));
  c.ingest_gather_batch = EnvNumber<std::size_t>("SWITCHBOARD_INGEST_GATHER_BATCH", c.ingest_gather_batch, 1, 100000);
  c.ingest_max_backlog_bytes = EnvNumber<std::size_t>("SWITCHBOARD_INGEST_MAX_BACKLOG_BYTES",
                                                      c.ingest_max_backlog_bytes, 1u << 20, std::size_t{1} << 34);
  c.ingest_deadline = std::chrono::milliseconds(
      EnvNumber<long>("SWITCHBOARD_INGEST_DEADLINE_MS", c.ingest_deadline.count(), 100, 60000));
  c.ingest_max_loop_lag = std::chrono::milliseconds(
      EnvNumber<long>("SWITCHBOARD_INGEST_MAX_LOOP_LAG_MS", c.ingest_max_loop_lag.count(), 50, 60000));
  c.archive_retention_days = EnvNumber("SWITCHBOARD_ARCHIVE_RETENTION_DAYS", c.archive_retention_days, 1, 3650);
  c.secret_key_id = EnvNumber("SWITCHBOARD_SECRET_KEY_ID", c.secret_key_id, 1, 255);
  c.old_secret_keys = Env("SWITCHBOARD_OLD_SECRET_KEYS", "");
  c.api_rate_limit = EnvNumber("SWITCHBOARD_API_RATE_LIMIT", c.api_rate_limit, 0, 1000000);
  c.api_rate_burst = EnvNumber("SWITCHBOARD_API_RATE_BURST", c.api_rate_burst, 1, 1000000);
  c.max_connections = EnvNumber("SWITCHBOARD_MAX_CONNECTIONS", c.max_connections, 1, 1000000);
  auto ms = [](const char* name, std::chrono::milliseconds fallback) {
    return std::chrono::milliseconds(EnvNumber<long>(name, fallback.count(), 100, 3600000));
  };
  c.http_header_timeout = ms("SWITCHBOARD_HTTP_HEADER_TIMEOUT_MS", c.http_header_timeout);
  c.http_body_timeout = ms("SWITCHBOARD_HTTP_BODY_TIMEOUT_MS", c.http_body_timeout);
  c.http_idle_timeout = ms("SWITCHBOARD_HTTP_IDLE_TIMEOUT_MS", c.http_idle_timeout);
  c.router_poll =
      std::chrono::milliseconds(EnvNumber<long>("SWITCHBOARD_ROUTER_POLL_MS", c.router_poll.count(), 10, 60000));
  c.roles = Env("SWITCHBOARD_ROLES", c.roles);
  c.lease_ttl =
      std::chrono::milliseconds(EnvNumber<long>("SWITCHBOARD_LEASE_TTL_MS", c.lease_ttl.count(), 1000, 600000));
  if (c.router_poll * 2 > c.lease_ttl) {
    throw std::invalid_argument("SWITCHBOARD_ROUTER_POLL_MS (" + std::to_string(c.router_poll.count()) +
                                ") must be at most half of SWITCHBOARD_LEASE_TTL_MS (" +
                                std::to_string(c.lease_ttl.count()) +
                                "): the router's timers renew the lease when they run");
  }
  c.presence_timeout =
      std::chrono::seconds(EnvNumber<long>("SWITCHBOARD_PRESENCE_TIMEOUT_S", c.presence_timeout.count(), 1, 86400));
  c.agent_event_retention_hours =
      EnvNumber("SWITCHBOARD_AGENT_EVENT_RETENTION_HOURS", c.agent_event_retention_hours, 24, 24 * 3650);
  c.media_max_bytes =
      EnvNumber<std::uint64_t>("SWITCHBOARD_MEDIA_MAX_BYTES", c.media_max_bytes, 1024, std::uint64_t{1} << 30);
  c.media_hosts = Env("SWITCHBOARD_MEDIA_HOSTS", "");
  return c;
}

}  // namespace sb
