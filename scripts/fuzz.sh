#!/usr/bin/env bash
# Runs a libFuzzer target of tests/fuzz (built with clang, ASan and UBSan by the `fuzz` preset in
# build/fuzz) from its committed corpus for SECONDS. Inputs that reach new code are written to a
# scratch folder; FUZZ_KEEP=1 merges them into tests/fuzz/corpus/TARGET (commit those). A crash
# leaves its input in build/fuzz/crashes/ and fails. Exit 77 (a skipped test) when clang's
# libFuzzer is not installed (scripts/install-deps.sh installs it).
# Usage: scripts/fuzz.sh TARGET [SECONDS]     e.g. scripts/fuzz.sh gguf 300
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:?usage: scripts/fuzz.sh TARGET [SECONDS]}"
seconds="${2:-60}"
if ! command -v clang++ >/dev/null || \
   ! compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null; then
  echo "fuzz: clang's libFuzzer is not installed (clang, libclang-rt-dev); skipped"
  exit 77
fi
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target "${target}_fuzzer" >/dev/null
fuzzer="build/fuzz/tests/fuzz/${target}_fuzzer"
corpus="tests/fuzz/corpus/$target"
found="$(mktemp -d)"
log="$(mktemp)"
trap 'rm -rf "$found" "$log"' EXIT
mkdir -p build/fuzz/crashes
set +e
"$fuzzer" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix=build/fuzz/crashes/ "$found" "$corpus" >"$log" 2>&1
status=$?
set -e
grep -E "^#[0-9]+ +DONE|^stat::number_of_executed_units|^stat::peak_rss|ERROR|SUMMARY|Test unit written|^ *#[0-9]+ 0x" "$log" | head -40 || true
echo "fuzz: $target: $(ls "$found" | wc -l) new inputs this run, exit $status"
if [ "${FUZZ_KEEP:-0}" = 1 ] && [ "$(ls "$found" | wc -l)" -gt 0 ]; then
  "$fuzzer" -merge=1 "$corpus" "$found" 2>&1 | grep -E "MERGE-OUTER: [0-9]+ new files" || true
fi
exit "$status"
