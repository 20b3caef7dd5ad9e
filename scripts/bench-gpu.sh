#!/usr/bin/env bash
# On a machine with a CUDA device: builds the cuda preset, runs the GPU parity tests (label
# gpu) and the GPU benchmarks, which print each CUDA kernel's time against the CPU path on the
# same shapes, measured in the same run.
# Usage: scripts/bench-gpu.sh [benchmark filter regex]
set -euo pipefail
cd "$(dirname "$0")/.."
filter="${1:-.}"
out="build/cuda/bench-results"

scripts/install-deps.sh
cmake --preset cuda >/dev/null
cmake --build --preset cuda
ctest --preset gpu
mkdir -p "$out"
build/cuda/kernels/bench/gpu_bench --benchmark_filter="$filter" \
    --benchmark_out="$out/gpu_bench.json" --benchmark_out_format=json
