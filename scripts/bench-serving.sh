#!/usr/bin/env bash
# The serving path under load: recsys-server on the demo models (scripts/demo-models.sh), then
# `recsys-cli bench` (closed loop, with a no-op health Check measured in the same run) of seqrec
# Score with 101 candidates at 1, 8 and 64 callers. After each load it prints the model's own
# time per batch and the mean batch size, from the server's /metrics (recsys_stage_seconds,
# stage="compute"; recsys_batch_size) over that load only.
# Usage: scripts/bench-serving.sh [recsys-server flags...]   e.g. --seqrec_max_delay=0s
#   DURATION=10s CALLERS="1 8 64" TASKSET="taskset -c 0" (the server on one core) and
#   CLIENT_TASKSET="taskset -c 1" (the load generator kept off the server's core) and BENCH_FLAGS
#   (more recsys-cli bench flags, e.g. --shed_backoff=0s) may be set.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${RECSYS_PRESET:-default}"
duration="${DURATION:-5s}"
callers="${CALLERS:-1 8 64}"
scripts/install-deps.sh >/dev/null
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --target recsys-server recsys-cli >/dev/null
data="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$data"' EXIT
scripts/demo-models.sh "${DEMO_MODELS:-./recsys-data/models}" >/dev/null
${TASKSET:-} "build/$preset/services/server/recsys-server" --services=seqrec \
  --model_repo="$(cd "${DEMO_MODELS:-./recsys-data/models}" && pwd)" --data_dir="$data" \
  --grpc_port=0 --metrics_port=0 --ports_file="$data/ports.json" --log_level=warn "$@" &
server=$!
for _ in $(seq 300); do [ -s "$data/ports.json" ] && break; sleep 0.1; done
grpc=$(sed 's/.*"grpc_port":\([0-9]*\).*/\1/' "$data/ports.json")
metrics=$(sed 's/.*"metrics_port":\([0-9]*\).*/\1/' "$data/ports.json")
stat() {  # sum and count of a metric series
  curl -s "localhost:$metrics/metrics" | awk -v s="$1_sum{$2}" -v c="$1_count{$2}" \
    '$1 == s {sum = $2} $1 == c {count = $2} END {print sum + 0, count + 0}'
}
candidates=$(seq -s, 1 101)
for n in $callers; do
  read -r c0 n0 < <(stat recsys_stage_seconds 'batcher="seqrec",stage="compute"')
  read -r b0 m0 < <(stat recsys_batch_size 'batcher="seqrec"')
  ${CLIENT_TASKSET:-} "build/$preset/services/cli/recsys-cli" --target="localhost:$grpc" bench --rpc=score \
    --model=sasrec-demo --history=3,5,8,13,21 --candidates="$candidates" --concurrency="$n" \
    --duration="$duration" ${BENCH_FLAGS:-}
  read -r c1 n1 < <(stat recsys_stage_seconds 'batcher="seqrec",stage="compute"')
  read -r b1 m1 < <(stat recsys_batch_size 'batcher="seqrec"')
  awk -v c0="$c0" -v c1="$c1" -v n0="$n0" -v n1="$n1" -v b0="$b0" -v b1="$b1" 'BEGIN {
    n = n1 - n0
    if (n > 0) printf "model forward (server metrics): %.3f ms per batch, %.2f calls per batch\n\n",
                      1000 * (c1 - c0) / n, (b1 - b0) / n
  }'
done
