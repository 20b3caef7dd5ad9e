#!/usr/bin/env bash
# C++ SASRec / BERT4Rec inference against the same PyTorch modules (eager), same inputs, one
# run: batch 1 and 256, max_len 50 and 200. Prints median ms and the speedup.
# Usage: scripts/bench-seqrec.sh [extra args of models/bench/seqrec_bench.py]
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${RECSYS_PRESET:-default}"
scripts/install-deps.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --target seqrec_infer
PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 models/bench/seqrec_bench.py \
    --binary="build/$preset/models/bench/seqrec_infer" "$@"
