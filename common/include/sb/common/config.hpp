#pragma once
/// Process configuration, read once from the environment by the composition
/// root. Plain data.
#include <chrono>
#include <cstdint>
#include <string>

namespace sb {

struct Config {
  std::string database_url;               // SWITCHBOARD_DATABASE_URL
  std::string listen_database_url;        // SWITCHBOARD_LISTEN_DATABASE_URL (default: database_url)
  std::string listen = "127.0.0.1:8080";  // SWITCHBOARD_LISTEN
  std::string admin_token;                // SWITCHBOARD_ADMIN_TOKEN
  std::string graph_api_base = "https://graph.facebook.com/v21.0";  // SWITCHBOARD_GRAPH_API_BASE
  std::string public_url;                                           // SWITCHBOARD_PUBLIC_URL (default http://<listen>)
  std::string secret_key_hex;                                       // SWITCHBOARD_SECRET_KEY (64 hex chars)
  std::string secret_key_file = "var/secret.key";                   // SWITCHBOARD_SECRET_KEY_FILE
  std::string log_level = "info";                                   // SWITCHBOARD_LOG_LEVEL
  std::string log_format = "text";                                  // SWITCHBOARD_LOG_FORMAT: text | json
  int io_threads = 2;                                               // SWITCHBOARD_IO_THREADS
  int db_pool_size = 8;                                             // SWITCHBOARD_DB_POOL_SIZE
  bool db_prepare = true;              // SWITCHBOARD_DB_PREPARE: on | off (off behind a transaction-pooling pgbouncer)
  int ingest_writers = 2;              // SWITCHBOARD_INGEST_WRITERS
  std::size_t ingest_max_batch = 512;  // SWITCHBOARD_INGEST_MAX_BATCH (requests)
  std::chrono::microseconds ingest_gather{2000};        // SWITCHBOARD_INGEST_GATHER_US (0: off)
  std::size_t ingest_gather_batch = 16;                 // SWITCHBOARD_INGEST_GATHER_BATCH (requests)
  std::size_t ingest_max_backlog_bytes = 64u << 20;     // SWITCHBOARD_INGEST_MAX_BACKLOG_BYTES
  std::chrono::milliseconds ingest_deadline{4000};      // SWITCHBOARD_INGEST_DEADLINE_MS
  std::chrono::milliseconds ingest_max_loop_lag{1000};  // SWITCHBOARD_INGEST_MAX_LOOP_LAG_MS
  int archive_retention_days = 30;                      // SWITCHBOARD_ARCHIVE_RETENTION_DAYS
  int secret_key_id = 1;                                // SWITCHBOARD_SECRET_KEY_ID (1..255)
  std::string old_secret_keys;                          // SWITCHBOARD_OLD_SECRET_KEYS: "id:hex,id:hex" (decrypt only)
  int api_rate_limit = 100;     // SWITCHBOARD_API_RATE_LIMIT: /v1 requests a second per business (0: off)
  int api_rate_burst = 200;     // SWITCHBOARD_API_RATE_BURST
  int max_connections = 10000;  // SWITCHBOARD_MAX_CONNECTIONS
  std::chrono::milliseconds http_header_timeout{10000};  // SWITCHBOARD_HTTP_HEADER_TIMEOUT_MS
  std::chrono::milliseconds http_body_timeout{30000};    // SWITCHBOARD_HTTP_BODY_TIMEOUT_MS
  std::chrono::milliseconds http_idle_timeout{60000};    // SWITCHBOARD_HTTP_IDLE_TIMEOUT_MS
  std::chrono::milliseconds router_poll{100};  // SWITCHBOARD_ROUTER_POLL_MS: turns and timers at least this often
  std::string roles = "all";                   // SWITCHBOARD_ROLES (or serve --roles): gateway,router,outbound,api
  std::chrono::milliseconds lease_ttl{10000};  // SWITCHBOARD_LEASE_TTL_MS: single-owner timers move after this
  std::chrono::seconds presence_timeout{60};   // SWITCHBOARD_PRESENCE_TIMEOUT_S
  int agent_event_retention_hours = 24;        // SWITCHBOARD_AGENT_EVENT_RETENTION_HOURS (>= 24)
  std::uint64_t media_max_bytes = 25u << 20;   // SWITCHBOARD_MEDIA_MAX_BYTES: Messenger/Instagram files kept at most
  std::string media_hosts;  // SWITCHBOARD_MEDIA_HOSTS: hosts attachments are fetched from (empty: Meta's CDNs)

  /// Reads SWITCHBOARD_* variables; throws std::invalid_argument naming the
  /// variable when one is malformed.
  static Config FromEnvironment();
};

}  // namespace sb
