#!/usr/bin/env bash
# Runs the feature-store benchmarks: each case against a reference measured in the same run
# (raw RocksDB iterator, raw FAISS on the same index file, the store in process vs over gRPC,
# raw synced RocksDB writes). Ratios > 1 mean the store is faster.
# Usage: scripts/bench-store.sh [benchmark filter regex]
# OPENBLAS_NUM_THREADS=1 in the environment is honoured (see docs/results.md: FAISS's flat
# search runs ~4x faster here when OpenBLAS does not spawn threads of its own).
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${RECSYS_PRESET:-default}"
filter="${1:-.}"
out="build/$preset/bench-results"

scripts/install-deps.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --target store_bench
mkdir -p "$out"
"build/$preset/services/feature_store/bench/store_bench" --benchmark_filter="$filter" \
    --benchmark_min_time=1 --benchmark_out="$out/store_bench.json" --benchmark_out_format=json
