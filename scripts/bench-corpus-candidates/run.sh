#!/usr/bin/env bash
# Builds and runs the candidate comparison (about 6 minutes to build on 2 cores: zxing-cpp's C++
# library and rxing). Needs cmake and a C++ compiler. Prints a markdown table.
# Usage: scripts/bench-corpus-candidates/run.sh [DECODER-NAME-PREFIX...]   (MISSES=1: list misses)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
corpus="$here/../../verifier/testdata/corpus"
target="${CARGO_TARGET_DIR:-$here/../../target/bench-corpus-candidates}"
cargo build --release --manifest-path "$here/Cargo.toml" --target-dir "$target" >&2
pin=(); command -v taskset >/dev/null && pin=(taskset -c 0)
"${pin[@]}" "$target/release/bench-corpus-candidates" "$corpus" "$@"
