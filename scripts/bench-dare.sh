#!/usr/bin/env bash
# C++ DARE inference against the same PyTorch module (eager), same inputs, one run: history
# length 10^2..10^5, candidates 1..1000, attention dims full and halved. Prints median ms,
# the speedup and the C++ peak RSS.
# Usage: scripts/bench-dare.sh [extra args of models/bench/dare_bench.py]
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${RECSYS_PRESET:-default}"
scripts/install-deps.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --target dare_infer
PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 models/bench/dare_bench.py \
    --binary="build/$preset/models/bench/dare_infer" "$@"
