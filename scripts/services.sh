#!/usr/bin/env bash
# Starts a throw-away Redis and PostgreSQL on free loopback ports for the tests and exports where they are:
#   PROXY_TEST_REDIS=127.0.0.1:PORT
#   PROXY_TEST_PG="Host=127.0.0.1;Port=PORT;Username=postgres;Password=...;Database=postgres"
#   PROXY_TEST_SERVICES=DIR holding redis-stop.sh, redis-start.sh, pg-stop.sh, pg-start.sh (fault tests stop and
#   restart the servers with them)
#   PROXY_TEST_CHROMIUM=/usr/bin/chromium when present
# Source it, then call services_start; services_stop runs from the caller's EXIT trap.
# Nothing listens beyond 127.0.0.1; everything lives in one temporary folder removed on stop.

services_dir=""

free_port() {
  python3 - <<'PY' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
  done
  dirname "$(command -v pg_ctl)"
}

# Runs a command as the postgres user when we are root (initdb refuses root).
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

services_start() {
  services_dir=$(mktemp -d /tmp/proxy-test-services.XXXXXX)
  chmod 755 "$services_dir"
  export PROXY_TEST_SERVICES="$services_dir"

  if command -v redis-server >/dev/null 2>&1; then
    local redis_port; redis_port=$(free_port)
    mkdir -p "$services_dir/redis"
    cat >"$services_dir/redis/redis.conf" <<CONF
bind 127.0.0.1
port $redis_port
daemonize yes
pidfile $services_dir/redis/redis.pid
logfile $services_dir/redis/redis.log
dir $services_dir/redis
save ""
appendonly no
CONF
    if redis-server "$services_dir/redis/redis.conf"; then
      for _ in $(seq 1 50); do
        redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1 && break
        sleep 0.1
      done
      export PROXY_TEST_REDIS="127.0.0.1:$redis_port"
      printf '#!/usr/bin/env bash\nkill "$(cat %s/redis/redis.pid)" 2>/dev/null; for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p %s ping >/dev/null 2>&1 || exit 0; sleep 0.1; done\n' "$services_dir" "$redis_port" >"$services_dir/redis-stop.sh"
      printf '#!/usr/bin/env bash\nredis-server %s/redis/redis.conf && for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p %s ping >/dev/null 2>&1 && exit 0; sleep 0.1; done; exit 1\n' "$services_dir" "$redis_port" >"$services_dir/redis-start.sh"
      echo "services: redis on $PROXY_TEST_REDIS"
    fi
  else
    echo "services: redis-server not installed; Redis tests will fail" >&2
  fi

  local bin; bin=$(pg_bin)
  if [ -n "$bin" ] && [ -x "$bin/initdb" ]; then
    local pg_port; pg_port=$(free_port)
    local data="$services_dir/pg"
    mkdir -p "$data" && chown postgres "$data" 2>/dev/null || true
    local password="pw$RANDOM$RANDOM"
    echo "$password" >"$services_dir/pgpass" && chown postgres "$services_dir/pgpass" 2>/dev/null || true
    if as_pg "$bin/initdb" -D "$data" -U postgres --auth=scram-sha-256 --pwfile="$services_dir/pgpass" -E UTF8 >"$services_dir/initdb.log" 2>&1; then
      if as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $pg_port -c unix_socket_directories=$data -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >/dev/null; then
        export PROXY_TEST_PG="Host=127.0.0.1;Port=$pg_port;Username=postgres;Password=$password;Database=postgres"
        export PROXY_TEST_PG_CTL="$bin/pg_ctl" PROXY_TEST_PG_DATA="$data" PROXY_TEST_PG_PORT="$pg_port"
        local runas=""; [ "$(id -u)" -eq 0 ] && runas="runuser -u postgres --"
        printf '#!/usr/bin/env bash\n%s %s -D %s -m fast -w stop\n' "$runas" "$bin/pg_ctl" "$data" >"$services_dir/pg-stop.sh"
        printf '#!/usr/bin/env bash\n%s %s -D %s -l %s/server.log -w -t 60 -o "-c listen_addresses=127.0.0.1 -p %s -c unix_socket_directories=%s -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start\n' "$runas" "$bin/pg_ctl" "$data" "$data" "$pg_port" "$data" >"$services_dir/pg-start.sh"
        echo "services: postgres on 127.0.0.1:$pg_port"
      else
        echo "services: postgres failed to start" >&2; cat "$data/server.log" >&2 || true
      fi
    else
      echo "services: initdb failed" >&2; cat "$services_dir/initdb.log" >&2
    fi
  else
    echo "services: postgresql not installed; Postgres tests will fail" >&2
  fi

  if [ -x /usr/bin/chromium ]; then export PROXY_TEST_CHROMIUM=/usr/bin/chromium; fi
}

services_stop() {
  [ -n "$services_dir" ] || return 0
  if [ -f "$services_dir/redis/redis.pid" ]; then kill "$(cat "$services_dir/redis/redis.pid")" 2>/dev/null || true; fi
  if [ -n "${PROXY_TEST_PG_DATA:-}" ] && [ -f "$PROXY_TEST_PG_DATA/postmaster.pid" ]; then
    as_pg "$PROXY_TEST_PG_CTL" -D "$PROXY_TEST_PG_DATA" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$services_dir"
  services_dir=""
}
