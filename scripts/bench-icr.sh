#!/usr/bin/env bash
# ICR's cost: the C++ path (icr-bench: calibrated two-pass scoring, the prefix cache, query-only)
# against the paper's way in PyTorch eager (recsys_train.llm.icr_bench: full passes with the KV
# cache, the query rows' attention materialised from cached Q and K per layer) on the same
# prompt and weights: a bench_models file at a real small model's shape, 2 threads each, peak
# resident memory of both.
# Usage: scripts/bench-icr.sh [shape] [type] [documents] [words per document]
#   defaults: qwen2.5-0.5b f16 20 15  (the bench files' toy vocabulary: about 7 tokens a word)
set -euo pipefail
cd "$(dirname "$0")/.."
shape="${1:-qwen2.5-0.5b}"
type="${2:-f16}"
documents="${3:-20}"
words="${4:-15}"
types="$type" target=icr-bench
. scripts/llm-bench-files.sh
prompt=$(mktemp --suffix=.json)
trap 'rm -f "$prompt"' EXIT
echo "== $shape $type, $documents documents x $words words"
OMP_NUM_THREADS=2 /usr/bin/time -v build/default/models/icr/tools/icr-bench "$out/$shape-$type.gguf" \
  --documents="$documents" --document_words="$words" --dump="$prompt" 2>/tmp/icr-bench.time
echo "icr-bench peak RSS $(rss /tmp/icr-bench.time)"
echo "== PyTorch eager, the paper's way (fp32, 2 threads), same prompt"
(cd models/training && OMP_NUM_THREADS=2 /usr/bin/time -v /usr/bin/python3 -m \
  recsys_train.llm.icr_bench --shape="$shape" --prompt="$prompt" 2>/tmp/icr-torch.time) || \
  echo "PyTorch run failed (exit $?)"
echo "PyTorch peak RSS $(rss /tmp/icr-torch.time)"
