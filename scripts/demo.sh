#!/usr/bin/env bash
# Casemix main job on the embedded default, from a fresh machine (README: "set up and run").
#  1. builds the `casemix` binary (release);
#  2. groups ../shared/grouper-reference/chs_drg_11.csv with ../shared/schemes/chs_drg_11 and
#     prints the summary (records, grouped, 入组率, ambiguous, failed, rejected, records/s);
#  3. runs the demo pooling region end to end: synthetic `small` region → quality control →
#     DRG weights and DIP catalogue from three history years → grouping → intelligent audit
#     (measured against the generator's labels) → annual settlement under an Ankang-like policy.
# Outputs go to ./out (override with OUT=...). Needs ../shared beside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${CASEMIX_SHARED:-$(cd .. && pwd)/shared}"
OUT="${OUT:-out}"
SCHEMES="$SHARED/schemes"
if [ ! -d "$SCHEMES" ]; then
  echo "找不到共享资料目录 $SHARED (../shared)；请把 shared/ 放在仓库旁边或设置 CASEMIX_SHARED" >&2
  exit 1
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "需要 Rust 工具链 (cargo)：https://rustup.rs" >&2
  exit 1
fi

echo "== 构建 casemix (cargo build --release)" >&2
cargo build --release --locked -p casemix-cli
BIN="target/release/casemix"
mkdir -p "$OUT"

echo "== 1. 分组：CHS-DRG 1.1 参考病例" >&2
"$BIN" group --scheme chs_drg_11 --schemes-dir "$SCHEMES" \
  "$SHARED/grouper-reference/chs_drg_11.csv" -o "$OUT/chs_drg_11.grouped.csv" \
  --summary-json "$OUT/chs_drg_11.summary.json"

R="$OUT/region"
echo "== 2. 合成统筹区 (synth --profile small --seed 1, 2022–2025)" >&2
"$BIN" synth --profile small --seed 1 --years 2022-2025 --scheme chs_drg_11 --schemes-dir "$SCHEMES" -o "$R"

echo "== 3. 前置质控 (qc)" >&2
"$BIN" qc "$R/settlements.csv" --scheme chs_drg_11 --schemes-dir "$SCHEMES" -o "$OUT/qc"

echo "== 4. 权重与病种分值测算 (calibrate drg / dip, 2022–2024, 1:2:7)" >&2
"$BIN" calibrate drg --scheme chs_drg_11 --schemes-dir "$SCHEMES" --history "$R/settlements.csv" \
  --years 2022,2023,2024 --year-weights 1,2,7 -o "$OUT/cal"
"$BIN" calibrate dip --scheme chs_drg_11 --schemes-dir "$SCHEMES" --history "$R/settlements.csv" \
  --years 2022,2023,2024 --year-weights 1,2,7 -o "$OUT/dip"

echo "== 5. 分组 (group --full) 与 DIP 入组" >&2
"$BIN" group --scheme chs_drg_11 --schemes-dir "$SCHEMES" --full "$R/settlements.csv" -o "$OUT/grouped.csv"
"$BIN" dip group --catalogue "$OUT/dip" --full "$R/settlements.csv" -o "$OUT/dip_grouped.csv"

echo "== 6. 智能审核 (audit，对照合成标签测评)" >&2
"$BIN" audit --scheme chs_drg_11 --schemes-dir "$SCHEMES" --settlements "$R/settlements.csv" \
  --claims "$R/claims.csv" --labels "$R/labels.csv" -o "$OUT/audit"

echo "== 7. 年终清算 (settle year 2025，安康式 DRG 点数法)" >&2
"$BIN" settle year --policy examples/ankang-drg-points-2025.toml --weights "$OUT/cal/weights.csv" \
  --hospitals "$R/hospitals.csv" --cases "$OUT/grouped.csv" --year 2025 -o "$OUT/settle-2025"

W="$OUT/workbench"
echo "== 8. 网页工作台：演示统筹区（2025 年按医院×月份上传 → 质控 → 分组 → 月度结算 → 审核 → 年终清算）" >&2
rm -rf "$W"
"$BIN" workbench init --data "$W" --region demo --region-name "演示统筹区" --scheme "$SCHEMES/chs_drg_11" \
  --policy examples/ankang-drg-points-2025.toml --weights "$OUT/cal/weights.csv" --hospitals "$R/hospitals.csv"
H1=$(awk -F, 'NR==2{print $1}' "$R/hospitals.csv")
H2=$(awk -F, 'NR==3{print $1}' "$R/hospitals.csv")
"$BIN" workbench user --data "$W" --login admin --password 'demo-admin-2025' --role bureau_admin --name "医保局管理员"
"$BIN" workbench user --data "$W" --login analyst --password 'demo-analyst-2025' --role bureau_analyst --name "医保局分析员"
"$BIN" workbench user --data "$W" --login auditor --password 'demo-auditor-2025' --role bureau_auditor --name "医保局审核员"
"$BIN" workbench user --data "$W" --login "h-$H1" --password 'demo-hospital-2025' --role hospital_user --hospital "$H1" --name "$H1 医保办"
"$BIN" workbench user --data "$W" --login "h-$H2" --password 'demo-hospital-2025' --role hospital_user --hospital "$H2" --name "$H2 医保办"
"$BIN" workbench import --data "$W" --split --year 2025 "$R/settlements.csv"
"$BIN" workbench attach --data "$W" --claims "$R/claims.csv" --charges "$R/charges.csv"
"$BIN" workbench run --data "$W"

echo "完成：结果在 $OUT/ （分组 chs_drg_11.grouped.csv，质控 qc/，权重 cal/，DIP dip/，审核 audit/，清算 settle-2025/，工作台 workbench/）" >&2
if [ "${NO_SERVE:-0}" = "1" ]; then
  exit 0
fi
ADDR="${ADDR:-127.0.0.1:8080}"
cat >&2 <<EOT

网页工作台：http://localhost:${ADDR##*:}/login
演示账号（密码）：
  admin   / demo-admin-2025     医保局管理员（上传、年度计算、复核、操作日志）
  analyst / demo-analyst-2025   医保局分析员（运行监测、结算单）
  auditor / demo-auditor-2025   医保局审核员（审核复核）
  h-$H1 / demo-hospital-2025  医院用户（仅本院 $H1）
  h-$H2 / demo-hospital-2025  医院用户（仅本院 $H2）
按 Ctrl-C 停止。
EOT
exec "$BIN" serve --data "$W" --addr "$ADDR"
