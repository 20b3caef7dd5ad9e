#!/usr/bin/env bash
# llama.cpp as an outside oracle for the LLM runtime, from the npm package node-llama-cpp@3.21.1
# (no compiling): its prebuilt CPU build (timings, greedy tokens: `npx nlc complete ...`) in
# build/llama-cpp/node_modules, and the llama.cpp source it ships as a git bundle (commit
# 80fb11ac), cloned to build/llama-cpp/llama.cpp: gguf-py (the GGUF writer and numpy
# dequantisation the fixtures are checked against) and the tokenizer test vectors
# (models/ggml-vocab-*.gguf with .inp / .out). Third-party files stay in build/, never in git.
# Idempotent; needs npm (scripts/install-deps.sh) and the network only the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${RECSYS_LLAMA_CPP:-build/llama-cpp}"
version=3.21.1
if [ -f "$dir/llama.cpp/gguf-py/gguf/__init__.py" ] && \
   [ -f "$dir/node_modules/node-llama-cpp/package.json" ] && \
   grep -q "\"version\": \"$version\"" "$dir/node_modules/node-llama-cpp/package.json"; then
  echo "install-llama-cpp: present in $dir"
  exit 0
fi
mkdir -p "$dir"
echo "install-llama-cpp: npm install node-llama-cpp@$version into $dir"
[ -f "$dir/package.json" ] || echo '{"private": true}' > "$dir/package.json"
# Only the CPU build for this platform: the CUDA and Vulkan variants are 600 MB more.
npm install --prefix "$dir" --no-audit --no-fund --loglevel=error --ignore-scripts \
  --omit=optional -E "node-llama-cpp@$version" "@node-llama-cpp/linux-x64@$version" >/dev/null
rm -rf "$dir/llama.cpp.tmp"
git clone -q "$dir/node_modules/node-llama-cpp/llama/gitRelease.bundle" "$dir/llama.cpp.tmp" \
  2>/dev/null
rm -rf "$dir/llama.cpp"
mv "$dir/llama.cpp.tmp" "$dir/llama.cpp"
echo "install-llama-cpp: llama.cpp $(git -C "$dir/llama.cpp" rev-parse --short HEAD) in $dir/llama.cpp"
