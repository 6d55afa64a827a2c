#!/usr/bin/env bash
# The whole test suite (README: "run the tests"). Needs ../shared beside the repository
# (or CASEMIX_SHARED pointing at it).
set -euo pipefail
cd "$(dirname "$0")/.."
export CASEMIX_SHARED="${CASEMIX_SHARED:-$(cd .. && pwd)/shared}"
if [ ! -d "$CASEMIX_SHARED/schemes" ]; then
  echo "找不到共享资料目录 $CASEMIX_SHARED (../shared)；请把 shared/ 放在仓库旁边或设置 CASEMIX_SHARED" >&2
  exit 1
fi
# A throw-away PostgreSQL server for the casemix-store tests (exports CASEMIX_TEST_PG_URL).
. scripts/pg-test-server.sh && casemix_pg_start
cargo test --workspace --locked 2>&1
# The web workbench in a real browser: Debian's chromium + playwright-core (installed here when
# missing), against the `casemix` binary the tests above built (same profile: no second build).
bash scripts/setup-browser.sh
CASEMIX_BIN="${CARGO_TARGET_DIR:-$(pwd)/target}/debug/casemix" bash scripts/browser-test.sh
