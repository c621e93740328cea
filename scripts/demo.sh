#!/usr/bin/env bash
# The main job on the sample data: the city issues passes for the sample applications, and a
# checkpoint verifies them offline.
#
#   scripts/demo.sh            (outputs under out/demo/, replaced on every run)
#   scripts/demo.sh --serve    (then the web service on that data, with DEMO accounts:
#                               scripts/serve-demo.sh)
#
# The sample applications travel in March 2022, so the demo runs the issuer's clock at
# 2022-03-12 09:00 (UTC+8), issues again at 19:00 for the tests taken in between, and checks at
# the checkpoint as of 2022-03-13 08:00.
set -euo pipefail
cd "$(dirname "$0")/.."

serve=false
case "${1:-}" in
  --serve) serve=true ;;
  "") ;;
  *) echo "用法 / usage: scripts/demo.sh [--serve]" >&2; exit 64 ;;
esac

out=${DEMO_OUT:-out/demo}
rm -rf "$out"
mkdir -p "$out"

scripts/install-deps.sh
echo "== 构建 (building issuer and verifier, release) =="
cargo build --release -q -p issuer -p verifier
issuer=target/release/issuer
verifier=target/release/verifier

export ISSUER_DATA="$out/issuer"
export ISSUER_PASSPHRASE="demo passphrase, not for production"
export ISSUER_NOW="2022-03-12T09:00:00+08:00"
export ISSUER_OPERATOR="demo"
at="2022-03-13T08:00:00+08:00"

echo "== 初始化签发系统 (issuer init) =="
"$issuer" init --districts samples/weihai/districts.csv --checkpoints samples/weihai/checkpoints.csv

echo "== 导入申请表 (import; the 9 bad rows are reported) =="
status=0
"$issuer" import samples/weihai/applications.xlsx || status=$?
# Exit status 2 means: imported, with refused rows listed above.
[ "$status" -eq 0 ] || [ "$status" -eq 2 ]

echo "== 区市转报、市级批准 (forward, approve) =="
"$issuer" forward --all
"$issuer" approve --all

echo "== 签发 (issue at 09:00; a pass is signed only after its test, so some wait) =="
"$issuer" issue --all
echo "== 当天 19:00 再签发已采样的 (issue again at 19:00: the tests taken since) =="
ISSUER_NOW="2022-03-12T19:00:00+08:00" "$issuer" issue --all
echo "== 批量打印与短信清单 (one PDF to print, the SMS outbox) =="
"$issuer" print --all --out "$out/print-all.pdf"
"$issuer" sms --all --out "$out/sms-outbox.csv"

echo "== 导出信任包与公钥 (bundle, public keys) =="
"$issuer" bundle --out "$out/bundle.cose"
"$issuer" keys export --out "$out/public-keys"

echo "== 检查站 C101 (checkpoint setup) =="
cp=(--data "$out/checkpoint-C101")
"$verifier" "${cp[@]}" init --root-key "$out/public-keys/root.pub" --checkpoint C101 --officer 0001
"$verifier" "${cp[@]}" bundle install "$out/bundle.cose"
"$verifier" "${cp[@]}" bundle show --at "$at"

echo "== 核验一张通行证图片 (one pass image, in full) =="
shopt -s nullglob
images=("$ISSUER_DATA"/passes/*/qr.png)
[ "${#images[@]}" -gt 0 ] || { echo "no pass images were written" >&2; exit 1; }
"$verifier" "${cp[@]}" check --at "$at" "${images[0]}" || true

echo "== 核验其余通行证 (the other passes, as of $at) =="
green=0 amber=0 red=0
for img in "${images[@]:1}"; do
  s=0
  "$verifier" "${cp[@]}" check --at "$at" --json "$img" >/dev/null || s=$?
  case $s in 0) green=$((green+1)) ;; 10) amber=$((amber+1)) ;; 20) red=$((red+1)) ;; *) exit "$s" ;; esac
done
echo "checked $(( ${#images[@]} - 1 )) more passes: ${green} green (通过), ${amber} amber (注意), ${red} red (拒绝)"

echo "== 撤销一张通行证并下发新信任包 (revoke a pass, new bundle, check it again) =="
serial=$(basename "$(dirname "${images[1]}")")
"$issuer" revoke "$serial" --reason "演示：车辆已改派"
"$issuer" bundle --out "$out/bundle-2.cose"
"$verifier" "${cp[@]}" bundle install "$out/bundle-2.cose"
later="2022-03-13T09:00:00+08:00"
"$verifier" "${cp[@]}" check --at "$later" "${images[1]}" || true

echo "== 查验记录 (the checkpoint's scan log; checks made with --at are marked simulated) =="
"$verifier" "${cp[@]}" log
"$verifier" "${cp[@]}" log verify

echo "== 记录带回市里 (the log, signed by the checkpoint, imported at the city; findings) =="
"$verifier" "${cp[@]}" log device --out "$out/C101.device.pub"
"$verifier" "${cp[@]}" log export --out "$out/C101.scanlog"
"$issuer" devices add "$out/C101.device.pub" --label "C101 威海收费站 演示机"
"$issuer" scans import "$out/C101.scanlog"
# The demo's checks were made with --at (simulated): findings count them only when asked.
"$issuer" findings --include-simulated

echo
echo "passes:        $ISSUER_DATA/passes/<serial>/ (qr.png qr.svg pass.pdf pass.png sms.txt qr.txt)"
echo "to print:      $out/print-all.pdf (every pass, a page each); SMS outbox: $out/sms-outbox.csv"
echo "trust bundles: $out/bundle.cose, $out/bundle-2.cose (after the revocation)"
echo "root key:      $out/public-keys/root.pub"
echo "scan log:      $out/checkpoint-C101 (exported, signed: $out/C101.scanlog)"

if $serve; then
  echo
  echo "== 网页服务 (the web service on this data, with DEMO accounts) =="
  exec scripts/serve-demo.sh
fi
echo
echo "web service:   scripts/serve-demo.sh (or scripts/demo.sh --serve) — DEMO accounts printed"
