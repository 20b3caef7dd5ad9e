#!/usr/bin/env bash
# The LLM runtime against llama.cpp (node-llama-cpp's prebuilt CPU build) and PyTorch eager on
# the same random-weight GGUF files at a real small model's shapes (recsys_train.llm.
# bench_models; written once into build/llm-bench), all with 2 threads: prefill and decode
# tokens/s, the attention-mass prefill against the plain one, and peak resident memory.
# Usage: scripts/bench-llm.sh [shape] [types] [prompt] [decode]
#   defaults: tinyllama f16,q8_0,q4_k_m 512 16     (shapes: tinyllama, qwen2.5-0.5b)
set -euo pipefail
cd "$(dirname "$0")/.."
shape="${1:-tinyllama}"
types="${2:-f16,q8_0,q4_k_m}"
prompt="${3:-512}"
decode="${4:-16}"
target=recsys-llm
. scripts/llm-bench-files.sh
vocab=$(build/default/models/llm/tools/recsys-llm inspect "$out/$shape-${types%%,*}.gguf" | \
  sed -n 's/.*vocab \([0-9]*\),.*/\1/p')
for t in ${types//,/ }; do
  file="$out/$shape-$t.gguf"
  echo "== $shape $t ($(du -m "$file" | cut -f1) MiB), prompt $prompt, decode $decode"
  /usr/bin/time -v build/default/models/llm/tools/recsys-llm bench "$file" \
    --prompt_tokens="$prompt" --decode_tokens="$decode" --repeat=2 2>/tmp/recsys-llm.time
  echo "recsys-llm peak RSS $(rss /tmp/recsys-llm.time)"
  VOCAB="$vocab" /usr/bin/time -v node scripts/llama-cpp/llama-cpp.mjs bench "$file" "$prompt" \
    "$decode" 2 2>/tmp/llama-cpp.time
  echo "llama.cpp peak RSS $(rss /tmp/llama-cpp.time)"
done
echo "== PyTorch eager (fp32, 2 threads), prompt $prompt"
(cd models/training && OMP_NUM_THREADS=2 /usr/bin/python3 -m recsys_train.llm.bench_models \
  --out="../../$out" --shapes="$shape" --types="${types%%,*}" --torch_prompt="$prompt")
