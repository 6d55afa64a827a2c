#!/usr/bin/env bash
# Browser-test prerequisites (issue #7), idempotent:
#  - Debian's Chromium at /usr/bin/chromium (apt-get install chromium, only when missing);
#  - a Chinese font (fonts-wqy-zenhei, only when fontconfig knows none), so that the
#    screenshots show the UI's Chinese text instead of empty boxes;
#  - playwright-core (pinned in tests/browser/package-lock.json) by `npm ci`, without any
#    browser download (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1: the tests drive Debian's chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" != "0" ]; then
  SUDO="sudo"
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "== 安装 Chromium (apt-get install chromium)" >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
fi
if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
  echo "== 安装中文字体 (apt-get install fonts-wqy-zenhei)" >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q fonts-wqy-zenhei fontconfig \
    || { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q fonts-wqy-zenhei fontconfig; }
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "== 安装 Node.js 与 npm (apt-get install nodejs npm)" >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm
fi
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
LOCK=tests/browser/package-lock.json
STAMP=tests/browser/node_modules/.casemix-lock.sha256
WANT="$(sha256sum "$LOCK" | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -d tests/browser/node_modules/playwright-core ]; then
  echo "== tests/browser/node_modules 已是最新 (package-lock.json 未变)" >&2
else
  echo "== npm ci (tests/browser, playwright-core，不下载浏览器)" >&2
  (cd tests/browser && npm ci --no-audit --no-fund)
  echo "$WANT" > "$STAMP"
fi
/usr/bin/chromium --version >&2
echo "浏览器测试环境就绪：/usr/bin/chromium + tests/browser/node_modules/playwright-core" >&2
