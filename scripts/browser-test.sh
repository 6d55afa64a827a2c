#!/usr/bin/env bash
# Browser tests of the web workbench (issue #7) in headless Debian chromium, driven by
# playwright-core from node:test (tests/browser/*.test.mjs). Run scripts/setup-browser.sh first.
#
#  1. builds (or reuses) target/debug/casemix (`cargo build -p casemix-cli`; CASEMIX_BIN=... to
#     use another binary);
#  2. makes a throw-away data directory from the `tiny` synthetic region (seed 7, 2022–2025):
#     DRG weights from 2022–2024, workbench init with examples/ankang-drg-points-2025.toml, a user
#     for every role (two hospital users, hospitals A and B), the 2025 settlement lists imported
#     per hospital × month EXCEPT one month of hospital A, which the test uploads through the UI;
#     claims and charges attached; the yearly run;
#  3. starts `casemix serve --data DIR` on a free loopback port (secure cookies: chromium treats
#     http://localhost as a secure context; INSECURE_COOKIES=1 adds --insecure-cookies), waits
#     for /api/health, runs the tests, always stops the server.
# Screenshots (full-page PNG per step) and the server log go to $ARTIFACTS
# (default target/browser-artifacts). Exit code = the tests'.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
SHARED="${CASEMIX_SHARED:-$(cd .. && pwd)/shared}"
SCHEMES="$SHARED/schemes"
if [ ! -d "$SCHEMES" ]; then
  echo "找不到共享资料目录 $SHARED (../shared)；请把 shared/ 放在仓库旁边或设置 CASEMIX_SHARED" >&2
  exit 1
fi
if [ ! -x /usr/bin/chromium ] || [ ! -d tests/browser/node_modules/playwright-core ]; then
  echo "缺少 Chromium 或 playwright-core：请先运行 bash scripts/setup-browser.sh" >&2
  exit 1
fi
ARTIFACTS="${ARTIFACTS:-target/browser-artifacts}"
mkdir -p "$ARTIFACTS"
ARTIFACTS="$(cd "$ARTIFACTS" && pwd)"
rm -f "$ARTIFACTS"/*.png "$ARTIFACTS"/server.log
HOLDBACK_MONTH="${HOLDBACK_MONTH:-2025-06}"
T0=$(date +%s)

if [ -n "${CASEMIX_BIN:-}" ]; then
  BIN="$CASEMIX_BIN"
else
  echo "== 构建 casemix (cargo build -p casemix-cli)" >&2
  cargo build --locked -p casemix-cli
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/casemix"
fi
T_BUILD=$(date +%s)

WORK="$(mktemp -d "${TMPDIR:-/tmp}/casemix-browser.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "${KEEP:-0}" = "1" ]; then
    echo "保留测试数据目录：$WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT INT TERM

R="$WORK/region"
W="$WORK/workbench"
echo "== 合成统筹区 (synth --profile tiny --seed 7, 2022–2025) → $WORK" >&2
"$BIN" synth --profile tiny --seed 7 --years 2022-2025 --scheme chs_drg_11 --schemes-dir "$SCHEMES" -o "$R" >/dev/null
"$BIN" calibrate drg --scheme chs_drg_11 --schemes-dir "$SCHEMES" --history "$R/settlements.csv" \
  --years 2022,2023,2024 --year-weights 1,2,7 -o "$WORK/cal" >/dev/null
"$BIN" workbench init --data "$W" --region browser --region-name "浏览器测试统筹区" --scheme "$SCHEMES/chs_drg_11" \
  --policy examples/ankang-drg-points-2025.toml --weights "$WORK/cal/weights.csv" --hospitals "$R/hospitals.csv"
HA=$(awk -F, 'NR==2{print $1}' "$R/hospitals.csv")
HB=$(awk -F, 'NR==3{print $1}' "$R/hospitals.csv")
HB_NAME=$(awk -F, 'NR==3{print $2}' "$R/hospitals.csv")
PW='browser-test-2025'
"$BIN" workbench user --data "$W" --login admin --password "$PW" --role bureau_admin --name "医保局管理员"
"$BIN" workbench user --data "$W" --login analyst --password "$PW" --role bureau_analyst --name "医保局分析员"
"$BIN" workbench user --data "$W" --login auditor --password "$PW" --role bureau_auditor --name "医保局审核员"
"$BIN" workbench user --data "$W" --login "h-$HA" --password "$PW" --role hospital_user --hospital "$HA" --name "$HA 医保办"
"$BIN" workbench user --data "$W" --login "h-$HB" --password "$PW" --role hospital_user --hospital "$HB" --name "$HB 医保办"
echo "== 留出医院 $HA 的 $HOLDBACK_MONTH 清单（由浏览器上传），其余 2025 年清单按医院×月份导入" >&2
SPLIT=$(node tests/browser/holdback.mjs "$R/settlements.csv" "$HA" "$HB" "$HOLDBACK_MONTH" "$WORK/split")
echo "   $SPLIT" >&2
"$BIN" workbench import --data "$W" --split --year 2025 "$WORK/split/import.csv"
"$BIN" workbench attach --data "$W" --claims "$R/claims.csv" --charges "$R/charges.csv" >/dev/null
"$BIN" workbench run --data "$W"
T_DATA=$(date +%s)

COOKIE_FLAG=()
if [ "${INSECURE_COOKIES:-0}" = "1" ]; then
  COOKIE_FLAG=(--insecure-cookies)
fi
echo "== 启动网页工作台 (casemix serve --data, 127.0.0.1 空闲端口${COOKIE_FLAG[*]:+, ${COOKIE_FLAG[*]}})" >&2
"$BIN" serve --data "$W" --addr 127.0.0.1:0 "${COOKIE_FLAG[@]}" >"$ARTIFACTS/server.log" 2>&1 &
SERVER_PID=$!
PORT=""
for _ in $(seq 1 300); do
  PORT=$(sed -n 's|^网页工作台已启动：http://127\.0\.0\.1:\([0-9]*\)/login.*|\1|p' "$ARTIFACTS/server.log" | head -n 1)
  [ -n "$PORT" ] && break
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "网页工作台未能启动：" >&2
    cat "$ARTIFACTS/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$PORT" ]; then
  echo "网页工作台 30 秒内未报告监听端口" >&2
  cat "$ARTIFACTS/server.log" >&2
  exit 1
fi
BASE="http://localhost:$PORT"
node -e '
  const url = process.argv[1];
  (async () => {
    for (let i = 0; i < 300; i++) {
      try { const r = await fetch(url); if (r.ok) return; } catch (e) {}
      await new Promise((ok) => setTimeout(ok, 100));
    }
    console.error(`${url} 30 秒内未就绪`); process.exit(1);
  })();' "$BASE/api/health"
echo "   $BASE 就绪" >&2

HELD_LISTS=$(node -e 'process.stdout.write(String(JSON.parse(process.argv[1]).heldBack))' "$SPLIT")
FIXTURE="$WORK/fixture.json"
node -e '
  const [base, insecure, pw, ha, hb, hbName, month, held, lists, split, hospitalsCsv] = process.argv.slice(1);
  const fs = require("fs");
  const hospitals = fs.readFileSync(hospitalsCsv, "utf8").trim().split(/\r?\n/).slice(1).map((l) => l.split(",")[0]);
  const u = (login) => ({ login, password: pw });
  const fx = {
    base, insecureCookies: insecure === "1",
    users: { admin: u("admin"), analyst: u("analyst"), auditor: u("auditor"), hospitalA: u(`h-${ha}`), hospitalB: u(`h-${hb}`) },
    hospitals, hospitalA: ha, hospitalB: hb, hospitalBName: hbName,
    holdback: { period: month, file: held, lists: Number(lists) },
    hospitalAListIdsFile: `${split}/list-ids-A.json`, hospitalBListIdsFile: `${split}/list-ids-B.json`,
  };
  fs.writeFileSync(process.argv[process.argv.length - 1], JSON.stringify(fx, null, 2));
' "$BASE" "${INSECURE_COOKIES:-0}" "$PW" "$HA" "$HB" "$HB_NAME" "$HOLDBACK_MONTH" \
  "$WORK/split/holdback-$HA-$HOLDBACK_MONTH.csv" "$HELD_LISTS" "$WORK/split" "$R/hospitals.csv" "$FIXTURE"

echo "== 浏览器测试 (node --test, headless /usr/bin/chromium)" >&2
set +e
(cd tests/browser && CASEMIX_BROWSER_FIXTURE="$FIXTURE" ARTIFACTS="$ARTIFACTS" \
  node --test --test-concurrency=1 --test-timeout=180000 --test-reporter=spec \
  01-login.test.mjs 02-upload.test.mjs 03-dashboard.test.mjs 04-isolation.test.mjs 05-review.test.mjs 06-statements.test.mjs)
RC=$?
set -e
T_END=$(date +%s)
echo "== 截图 ($ARTIFACTS)：" >&2
ls -1 "$ARTIFACTS"/*.png 2>/dev/null | sed "s|^$ROOT/||" >&2 || echo "   （无）" >&2
echo "用时：构建 $((T_BUILD - T0)) 秒，测试数据 $((T_DATA - T_BUILD)) 秒，浏览器测试 $((T_END - T_DATA)) 秒" >&2
exit $RC
