# Sourced by the LLM benchmarks (bench-llm.sh, bench-icr.sh): builds `target`, writes the
# random-weight GGUF files of `shape` x `types` into build/llm-bench once
# (recsys_train.llm.bench_models), and defines rss FILE (the peak resident memory in a
# /usr/bin/time -v report, in MiB).
# Uses: shape, types, target. Sets: out.
scripts/install-deps.sh >/dev/null
cmake --preset default >/dev/null
cmake --build --preset default --target "$target" >/dev/null
out=build/llm-bench
(cd models/training && /usr/bin/python3 -m recsys_train.llm.bench_models --out="../../$out" \
  --shapes="$shape" --types="$types")
rss() { sed -n 's/.*Maximum resident set size (kbytes): \([0-9]*\)/\1/p' "$1" | awk '{printf "%.0f MiB", $1 / 1024}'; }
