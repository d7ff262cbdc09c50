# PostgreSQL clusters of a test's own, for the integration tests and benchmarks (source it after
# lib.sh). Each cluster lives in a directory under $WORK and listens only on a Unix socket there,
# so nothing is shared with another test or the machine's own server. PostgreSQL refuses to
# run as root, so as root the clusters run as the postgres user (Debian's postgresql-15 makes
# it). All of them are stopped at exit.

PG_CLUSTERS=()

pg_bin() {
  local bin
  bin=$(pg_config --bindir 2>/dev/null || true)
  [ -x "$bin/initdb" ] || bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1)
  if [ ! -x "$bin/initdb" ]; then
    echo "SKIP: PostgreSQL's initdb was not found (scripts/install-deps installs postgresql-15)"
    exit 77
  fi
  echo "$bin"
}

pg_as() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_stop_all() {
  local bin
  bin=$(pg_bin)
  for dir in "${PG_CLUSTERS[@]}"; do
    [ -f "$dir/data/postmaster.pid" ] && pg_as "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1
  done
  return 0
}

pg_prepare_dir() {
  mkdir -p "$1"
  chmod 755 "$WORK"
  [ "$(id -u)" = 0 ] && chown postgres: "$1"
  PG_CLUSTERS+=("$1")
  trap 'pg_stop_all; cleanup' EXIT
}

pg_start_server() {  # pg_start_server DIR: starts the cluster in DIR/data on its socket in DIR
  local dir=$1 bin
  bin=$(pg_bin)
  pg_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses='' -c unix_socket_directories=$dir -c max_connections=300" start \
    >/dev/null || { cat "$dir/server.log" >&2; fail "PostgreSQL in $dir did not start"; }
}

# pg_start DIR: a new primary; sets PG_URI to its URI. (Not in $(…): a subshell's exit would
# stop it again.)
pg_start() {
  local dir=$1 bin
  bin=$(pg_bin)
  pg_prepare_dir "$dir"
  pg_as "$bin/initdb" -D "$dir/data" -A trust -U concierge -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; fail "initdb failed"; }
  pg_start_server "$dir"
  PG_URI="postgresql://concierge@/postgres?host=$dir"
}

# pg_replica DIR PRIMARY_DIR: a streaming replica of the primary in PRIMARY_DIR.
pg_replica() {
  local dir=$1 primary=$2 bin
  bin=$(pg_bin)
  pg_prepare_dir "$dir"
  pg_as "$bin/pg_basebackup" -D "$dir/data" -h "$primary" -U concierge -R -X stream >/dev/null ||
    fail "pg_basebackup from $primary failed"
  pg_start_server "$dir"
}

pg_promote() { pg_as "$(pg_bin)/pg_ctl" -D "$1/data" -w promote >/dev/null; }

pg_stop() { pg_as "$(pg_bin)/pg_ctl" -D "$1/data" -m "${2:-fast}" -w stop >/dev/null; }

# psql_at URI SQL: one value, unaligned.
psql_at() { psql "$1" -XAtqc "$2"; }
