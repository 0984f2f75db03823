#!/usr/bin/env bash
# npm run test:pg15 [-- <test files>]: the whole suite on Debian's PostgreSQL 15
# (apt-get install -y postgresql-15) instead of the embedded PostgreSQL 18.
#
# Starts a throwaway PostgreSQL 15 in a temporary folder, on a free loopback
# port, with a random password for its `postgres` superuser (scram-sha-256,
# TCP on 127.0.0.1 only), runs `npm test` with TCDB_TEST_DATABASE_URL pointing at it
# (TCDB_TEST_PGBOUNCER and the other test variables pass through), then stops it,
# deletes the folder and exits with npm test's exit code.
#
# PostgreSQL refuses to run as root: when we are root, the server runs as the
# `postgres` OS user (created by Debian's postgresql-common). TCDB_PG15_BIN
# overrides where the binaries are.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${TCDB_PG15_BIN:-/usr/lib/postgresql/15/bin}

if [[ ! -x "$bin/postgres" || ! -x "$bin/initdb" || ! -x "$bin/pg_ctl" ]]; then
  echo "pg15: PostgreSQL 15 is not installed in $bin (Debian: apt-get install -y postgresql-15; or set TCDB_PG15_BIN)" >&2
  exit 1
fi

as_server=()
if [[ $(id -u) == 0 ]]; then
  if ! id -u postgres >/dev/null 2>&1; then
    echo "pg15: running as root, but there is no 'postgres' OS user to run PostgreSQL as" >&2
    exit 1
  fi
  as_server=(setpriv --reuid=postgres --regid=postgres --init-groups)
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/tcdb-pg15-XXXXXX")
data="$dir/data"
log="$dir/server.log"
started=

cleanup() {
  local status=$?
  if [[ -n $started ]]; then
    (cd "$dir" && "${as_server[@]}" "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null 2>&1) ||
      echo "pg15: pg_ctl stop failed; the server log is in $log" >&2
  fi
  rm -rf "$dir"
  return "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

password=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077 && printf '%s\n' "$password" >"$dir/pwfile")
if [[ ${#as_server[@]} -gt 0 ]]; then chown -R postgres: "$dir"; fi

# UTF8 whatever the caller's locale: a C-locale initdb would make SQL_ASCII databases.
(cd "$dir" && "${as_server[@]}" "$bin/initdb" -D "$data" -U postgres --pwfile="$dir/pwfile" \
  --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1) || {
  cat "$dir/initdb.log" >&2
  echo "pg15: initdb failed" >&2
  exit 1
}
rm -f "$dir/pwfile"

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{const p=s.address().port;s.close(()=>console.log(p))})"
}

port=
for attempt in 1 2 3 4 5; do
  candidate=$(free_port)
  # Tuned for tests, not durability, like the embedded test server.
  if (cd "$dir" && "${as_server[@]}" "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 \
    -o "-c port=$candidate -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null); then
    port=$candidate
    started=1
    break
  fi
  if ! grep -q "could not bind" "$log" 2>/dev/null; then break; fi
  echo "pg15: port $candidate was taken, trying another" >&2
done
if [[ -z $port ]]; then
  tail -n 30 "$log" >&2 || true
  echo "pg15: PostgreSQL 15 did not start" >&2
  exit 1
fi

echo "# pg15: $("$bin/postgres" --version) on 127.0.0.1:$port (data in $data)"

set +e
(cd "$root" && TCDB_TEST_DATABASE_URL="postgres://postgres:$password@127.0.0.1:$port/postgres" npm test -- "$@")
code=$?
set -e
exit "$code"
