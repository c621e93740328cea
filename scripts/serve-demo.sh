#!/usr/bin/env bash
# The web service on the demo's data (run scripts/demo.sh first): adds DEMO accounts — one of
# each role, with passwords printed here, for trying it out only — and serves on
# http://127.0.0.1:8080 until Ctrl-C.
#
#   scripts/serve-demo.sh [--listen 127.0.0.1:8080]
set -euo pipefail
cd "$(dirname "$0")/.."

out=${DEMO_OUT:-out/demo}
if [ ! -d "$out/issuer" ]; then
  echo "先运行 scripts/demo.sh / run scripts/demo.sh first (it creates $out/issuer)" >&2
  exit 1
fi
cargo build --release -q -p issuer
issuer=target/release/issuer
export ISSUER_DATA="$out/issuer"
export ISSUER_OPERATOR="demo"
export ISSUER_NOW="2022-03-12T19:00:00+08:00"
password="demo-password-$(date +%s)"

echo "== 演示账号 (DEMO accounts, password: $password — for trying out only) =="
add() {
  if "$issuer" user list --json | grep -q "\"name\": \"$1\""; then
    ISSUER_USER_PASSWORD="$password" "$issuer" user password "$1"
  else
    ISSUER_USER_PASSWORD="$password" "$issuer" user add "$@"
  fi
}
add demo-district --role district --district 371002   # 环翠区联络员
add demo-city --role city                               # 市级审核
add demo-admin --role admin                             # 管理员
add demo-carrier --role applicant --organisation "演示物流公司"
echo "账号 demo-district / demo-city / demo-admin / demo-carrier，口令 $password"
# --sign: the demo's signing key is unlocked (ISSUER_PASSPHRASE as scripts/demo.sh set it), so
# demo-city can issue from the web.
export ISSUER_PASSPHRASE="demo passphrase, not for production"
exec "$issuer" serve --sign "$@"
