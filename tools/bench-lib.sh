# Shared pieces of tools/bench-ingest, bench-routing and bench-metrics;
# sourced, not run. The caller sets ROOT and tmp (a temp dir the postgres
# user can reach), and before start_server: server_bin, admin_token,
# secret_key.
# shellcheck shell=bash disable=SC2154,SC2034  # the caller's variables, set and read

log() { printf '\033[1m[bench]\033[0m %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# stop_process PID NAME SECONDS: SIGTERM, wait up to SECONDS, then SIGKILL.
stop_process() {
  local pid=$1 name=$2 seconds=$3
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq $((seconds * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name did not exit $seconds s after SIGTERM; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
}

# apply_host_sysctl: the kernel settings of deploy/sysctl.conf for this run,
# when we may (root); restore_host_sysctl puts the previous values back.
host_sysctl_restore=()
apply_host_sysctl() {
  local key value path previous
  while read -r key value; do
    path=/proc/sys/${key//./\/}
    previous="$path $(cat "$path" 2>/dev/null)"
    # Setting dirty_background_bytes zeroes dirty_background_ratio (and the
    # other way round): keep whichever of the two was in force.
    if [ "$key" = vm.dirty_background_bytes ] && [ "${previous#* }" = 0 ]; then
      previous="/proc/sys/vm/dirty_background_ratio $(cat /proc/sys/vm/dirty_background_ratio)"
    fi
    if ! { [ -w "$path" ] && echo "$value" >"$path"; } 2>/dev/null; then
      log "could not set $key (root only): commits may stall behind the kernel's writeback bursts"
      continue
    fi
    host_sysctl_restore+=("$previous")
    log "host: $key = $value (deploy/sysctl.conf)"
  done < <(sed -n 's/^\([a-z_.]*\) *= *\([0-9]*\)$/\1 \2/p' "$ROOT/deploy/sysctl.conf")
}
restore_host_sysctl() {
  local entry
  for entry in "${host_sysctl_restore[@]}"; do
    echo "${entry#* }" >"${entry%% *}" || true
  done
  host_sysctl_restore=()
}

# start_pg [PORT [existing]]: a private PostgreSQL with deploy/postgresql.conf
# (fsync on, synchronous_commit on) in $tmp/pg, on a host with
# deploy/sysctl.conf applied, and an empty database (with `existing`, the one
# a previous run left there); sets pg_url and db_url.
# shellcheck disable=SC2120  # PORT is optional
start_pg() {
  apply_host_sysctl
  log "starting PostgreSQL (deploy/postgresql.conf) in $tmp/pg"
  pg_url=$("$ROOT/tools/pg-cluster" start "$tmp/pg" "${1:-$(free_port)}" "$ROOT/deploy/postgresql.conf")
  db_url="${pg_url%/postgres}/switchboard_bench"
  [ "${2:-}" = existing ] || psql "$pg_url" -qXc "CREATE DATABASE switchboard_bench" >/dev/null
}

# warm_wal MEGABYTES: write that much WAL (logical-decoding messages: no
# table is touched) and checkpoint, so that the run reuses WAL segment files
# as a server does once it has been through a checkpoint (min_wal_size keeps
# 2 GB of them), instead of creating new ones. A new cluster creates each
# 16 MB segment as it goes, zero-filled and fsynced by the backend whose
# commit needs it, and the commits behind it wait: COMMITs of 11-19 ms every
# 0.6 s at 8,000 msg/s (log_min_duration_statement = 10, 2026-11-30), one
# once warmed. At most 12 GB: under max_wal_size, which caps the segments a
# checkpoint keeps. SB_BENCH_WAL_WARMUP=0 skips it, for a new cluster's
# figures.
warm_wal() {
  if [ "${SB_BENCH_WAL_WARMUP:-1}" = 0 ]; then
    log "WAL not warmed (SB_BENCH_WAL_WARMUP=0): the run creates its WAL segments"
    return 0
  fi
  local megabytes=$(( $1 < 12000 ? $1 : 12000 )) segments
  segments=$(psql "$pg_url" -qXtA -v ON_ERROR_STOP=1 \
    -c "SELECT count(pg_logical_emit_message(false, 'sb-bench-wal-warmup', repeat('x', 1048576))) FROM generate_series(1, $megabytes)" \
    -c "CHECKPOINT" -c "SELECT count(*) FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$'" | tail -1) ||
    die "could not warm the WAL"
  log "WAL warmed: $megabytes MB written and checkpointed; $segments segment files to reuse"
}

# wal_lsn: PostgreSQL's current WAL insert position (for wal_bytes_since).
wal_lsn() { psql "$pg_url" -qXtAc "SELECT pg_current_wal_insert_lsn()"; }
# wal_bytes_since LSN: bytes of WAL written since LSN.
wal_bytes_since() { psql "$pg_url" -qXtAc "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '$1')::bigint"; }

# start_server [NAME=VALUE...]: `switchboard serve` on 127.0.0.1:0 against
# $db_url (with the extra environment given; SB_BENCH_LOG_LEVEL sets its log
# level, warn unless set), its output appended to
# $tmp/server.log; waits for its ready file, sets server_pid and addr.
# shellcheck disable=SC2120  # the environment is optional
start_server() {
  rm -f "$tmp/ready"
  env "$@" SWITCHBOARD_DATABASE_URL="$db_url" SWITCHBOARD_LISTEN=127.0.0.1:0 SWITCHBOARD_ADMIN_TOKEN="$admin_token" \
    SWITCHBOARD_SECRET_KEY="$secret_key" SWITCHBOARD_LOG_LEVEL="${SB_BENCH_LOG_LEVEL:-warn}" \
    "$server_bin" serve --ready-file "$tmp/ready" >>"$tmp/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 600); do
    [ -s "$tmp/ready" ] && break
    kill -0 "$server_pid" 2>/dev/null || die "switchboard exited during start-up"
    sleep 0.1
  done
  [ -s "$tmp/ready" ] || die "switchboard did not write its ready file within 60 s"
  addr=$(tr -d '[:space:]' <"$tmp/ready")
}

# unstored_acks ACK_FILE: how many acknowledged message ids (one a line) are
# not stored as inbound messages in $db_url. Must be 0: counts alone could
# hide a swap.
unstored_acks() {
  psql "$db_url" -qXtA -v ON_ERROR_STOP=1 <<EOF_SQL
CREATE TEMP TABLE ack_ids (id text);
\copy ack_ids FROM '$1'
SELECT count(*) FROM (SELECT DISTINCT id FROM ack_ids) a
 WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.direction = 'in' AND m.provider_message_id = a.id);
EOF_SQL
}
