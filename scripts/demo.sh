#!/usr/bin/env bash
# The main job on the sample data: the city issues passes for the sample applications, and a
# checkpoint verifies them offline.
#
#   scripts/demo.sh            (outputs under out/demo/, replaced on every run)
#
# The sample applications travel in March 2022, so the demo runs the issuer's clock at
# 2022-03-12 09:00 (UTC+8) and checks at the checkpoint as of 2022-03-13 08:00.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${DEMO_OUT:-out/demo}
rm -rf "$out"
mkdir -p "$out"

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

echo "== 签发 (issue) =="
"$issuer" issue --all

echo "== 导出信任包与公钥 (bundle, public keys) =="
"$issuer" bundle --out "$out/bundle.cose"
"$issuer" keys export --out "$out/public-keys"

echo "== 检查站 C101 (checkpoint setup) =="
cp=(--data "$out/checkpoint-C101")
"$verifier" "${cp[@]}" init --root-key "$out/public-keys/root.pub.json" --checkpoint C101 --officer 0001
"$verifier" "${cp[@]}" bundle install "$out/bundle.cose"
"$verifier" "${cp[@]}" bundle show --at "$at"

echo "== 核验通行证图片 (checking pass images at C101 as of $at) =="
shopt -s nullglob
images=("$ISSUER_DATA"/passes/*/qr.png)
green=0 amber=0 red=0
for img in "${images[@]}"; do
  s=0
  "$verifier" "${cp[@]}" check --at "$at" --json "$img" >/dev/null || s=$?
  case $s in 0) green=$((green+1)) ;; 10) amber=$((amber+1)) ;; 20) red=$((red+1)) ;; *) exit "$s" ;; esac
done
echo "checked ${#images[@]} passes: ${green} green, ${amber} amber, ${red} red"
echo "one verdict in full:"
"$verifier" "${cp[@]}" check --at "$at" "${images[0]}" || true

echo
echo "passes:        $ISSUER_DATA/passes/<serial>/ (qr.png qr.svg pass.pdf pass.png sms.txt qr.txt)"
echo "trust bundle:  $out/bundle.cose"
echo "root key:      $out/public-keys/root.pub.json"
echo "scan log:      $out/checkpoint-C101"
