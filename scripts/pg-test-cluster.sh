#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the tests and prints the
# TASKBOT_TEST_POSTGRES value to use (an admin DSN on 127.0.0.1):
#
#   eval "$(scripts/pg-test-cluster.sh start)"   # exports TASKBOT_TEST_POSTGRES, PG_TEST_DIR
#   go test ./...
#   scripts/pg-test-cluster.sh stop "$PG_TEST_DIR"
#
# The cluster lives in a temporary folder, runs as an unprivileged user
# (nobody when run as root) and is removed by stop. Installs nothing: .ci/run
# installs PostgreSQL from Debian's packages first when it is missing.
set -euo pipefail

bindir() {
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir; return
  fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$d" ] || { echo "PostgreSQL not found (install postgresql)" >&2; exit 1; }
  echo "$d"
}

as_owner() { # run as the cluster's owner
  if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

case "${1:-}" in
start)
  bin=$(bindir)
  dir=$(mktemp -d /tmp/taskbot-pg.XXXXXX)
  [ "$(id -u)" = 0 ] && chown nobody "$dir"
  port=${PG_TEST_PORT:-$(( 20000 + RANDOM % 20000 ))}
  as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
    "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >/dev/null
  echo "export PG_TEST_DIR=$dir"
  echo "export TASKBOT_TEST_POSTGRES='postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable'"
  ;;
stop)
  dir=${2:?usage: $0 stop DIR}
  as_owner "$(bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start | stop DIR" >&2; exit 2
  ;;
esac
