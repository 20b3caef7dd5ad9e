#!/usr/bin/env bash
# Runs the kernel benchmarks and prints, per case, our time against the naive reference and
# against PyTorch eager on the same shapes, all measured now on this machine.
# Usage: scripts/bench-kernels.sh [benchmark filter regex]
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${RECSYS_PRESET:-default}"
filter="${1:-.}"
out="build/$preset/bench-results"

scripts/install-deps.sh --bench
cmake --preset "$preset" >/dev/null
benches=(attention_bench ops_bench target_attention_bench)
cmake --build --preset "$preset" --target "${benches[@]}"
mkdir -p "$out"
for bench in "${benches[@]}"; do
  "build/$preset/kernels/bench/$bench" --benchmark_filter="$filter" \
      --benchmark_out="$out/$bench.json" --benchmark_out_format=json
done
results=()
for bench in "${benches[@]}"; do results+=("$out/$bench.json"); done
/usr/bin/python3 kernels/bench/torch_reference.py "${results[@]}"
