#!/usr/bin/env bash
# Builds recsys and runs recsys-server with every service of the build and the embedded
# store under ./recsys-data, serving the demo SASRec / BERT4Rec / DARE models and the demo
# re-ranking model (trained on synthetic data by scripts/demo-models.sh on the first run). Extra arguments go to
# recsys-server, e.g.
#   scripts/run.sh --grpc_port=50052 --log_format=json
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${RECSYS_PRESET:-default}"

scripts/install-deps.sh
cmake --preset "$preset"
cmake --build --preset "$preset" --target recsys-server recsys-cli
scripts/demo-models.sh ./recsys-data/models
exec "build/$preset/services/server/recsys-server" --services=all --data_dir=./recsys-data "$@"
