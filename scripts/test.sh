#!/usr/bin/env bash
# Builds recsys and runs the whole test suite (CTest labels: unit, integration, gpu).
# CUDA kernels are compiled when nvcc is found (preset "default"); GPU tests skip without a
# device. Usage: scripts/test.sh [preset]   (default | cpu | cuda | asan)
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-${RECSYS_PRESET:-default}}"

scripts/install-deps.sh
cmake --preset "$preset"
cmake --build --preset "$preset"
ctest --preset "$preset"
