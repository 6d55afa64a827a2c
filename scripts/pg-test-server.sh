# shellcheck shell=bash
# A throw-away PostgreSQL server for the casemix-store tests (issue 7: workflow state on
# PostgreSQL, tested in CI against a real server). Sourced by scripts/test.sh:
#
#   . scripts/pg-test-server.sh && casemix_pg_start
#
# casemix_pg_start
#   - does nothing if CASEMIX_TEST_PG_URL is already set (a server of your own);
#   - finds initdb/pg_ctl (PATH, then /usr/lib/postgresql/<newest>/bin); if missing and running
#     as root, installs Debian's `postgresql` package non-interactively; if still missing, fails
#     under CI=true and otherwise only warns (the PostgreSQL tests then skip locally);
#   - initdb's a fresh cluster in a temp dir under /tmp as a non-root user (initdb refuses root:
#     the `postgres` user from the package, else a system user `casemix-pg` is created), no TCP,
#     only a unix socket in that temp dir, fsync off (test data only);
#   - creates the database `casemix_test` and exports
#     CASEMIX_TEST_PG_URL=postgresql://postgres@localhost/casemix_test?host=<socket dir>;
#   - stops the server and removes the temp dir when the calling shell exits (EXIT trap, chained
#     after any EXIT trap already set).
# Each store test then makes its own schema in that database, so tests run in parallel.

casemix_pg_bindir() {
  local d
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return 0
  fi
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5nr); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

casemix_pg_fail() {
  if [ "${CI:-}" = "true" ]; then
    echo "pg-test-server: $1 (CI 必须对真实 PostgreSQL 运行存储测试)" >&2
    return 1
  fi
  echo "pg-test-server: $1；本地跳过 PostgreSQL 存储测试" >&2
  return 0
}

casemix_pg_start() {
  if [ -n "${CASEMIX_TEST_PG_URL:-}" ]; then
    echo "pg-test-server: 使用已有的 CASEMIX_TEST_PG_URL"
    return 0
  fi
  local bin
  if ! bin=$(casemix_pg_bindir); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "pg-test-server: 安装 Debian 软件包 postgresql"
      DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || true
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null \
        || { casemix_pg_fail "apt-get install postgresql 失败"; return; }
    fi
    bin=$(casemix_pg_bindir) || { casemix_pg_fail "找不到 initdb/pg_ctl"; return; }
  fi

  local run=() user
  user=$(id -un)
  if [ "$(id -u)" = 0 ]; then
    user=postgres
    if ! id -u "$user" >/dev/null 2>&1; then
      user=casemix-pg
      id -u "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
    fi
    run=(runuser -u "$user" --)
  fi

  CASEMIX_PG_DIR=$(mktemp -d /tmp/casemix-pg.XXXXXX)
  chmod 755 "$CASEMIX_PG_DIR"
  [ "$(id -u)" = 0 ] && chown "$user" "$CASEMIX_PG_DIR"
  CASEMIX_PG_BIN=$bin
  export CASEMIX_PG_DIR CASEMIX_PG_BIN
  if ! "${run[@]}" "$bin/initdb" -D "$CASEMIX_PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C --no-sync \
    >"$CASEMIX_PG_DIR/initdb.log" 2>&1; then
    cat "$CASEMIX_PG_DIR/initdb.log" >&2
    casemix_pg_fail "initdb 失败"
    return
  fi
  if ! "${run[@]}" "$bin/pg_ctl" -D "$CASEMIX_PG_DIR/data" -l "$CASEMIX_PG_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses='' -k $CASEMIX_PG_DIR -p 5432 -c fsync=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null; then
    cat "$CASEMIX_PG_DIR/server.log" >&2
    casemix_pg_fail "PostgreSQL 启动失败"
    return
  fi
  local old
  old=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
  # shellcheck disable=SC2064
  trap "casemix_pg_stop${old:+; $old}" EXIT
  local psql="$bin/psql"
  [ -x "$psql" ] || psql=$(command -v psql) || { casemix_pg_fail "找不到 psql"; return; }
  "${run[@]}" "$psql" -q -h "$CASEMIX_PG_DIR" -p 5432 -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE DATABASE casemix_test" >/dev/null 2>"$CASEMIX_PG_DIR/psql.log" \
    || { cat "$CASEMIX_PG_DIR/psql.log" >&2; casemix_pg_fail "CREATE DATABASE 失败"; return; }
  export CASEMIX_TEST_PG_URL="postgresql://postgres@localhost/casemix_test?host=$CASEMIX_PG_DIR&port=5432"
  echo "pg-test-server: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') 已启动，CASEMIX_TEST_PG_URL=$CASEMIX_TEST_PG_URL"
}

casemix_pg_stop() {
  [ -n "${CASEMIX_PG_DIR:-}" ] && [ -d "$CASEMIX_PG_DIR" ] || return 0
  local run=()
  [ "$(id -u)" = 0 ] && run=(runuser -u "$(stat -c %U "$CASEMIX_PG_DIR")" --)
  "${run[@]}" "$CASEMIX_PG_BIN/pg_ctl" -D "$CASEMIX_PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$CASEMIX_PG_DIR"
}
