#!/usr/bin/env bash
# Trains the demo models the README's run command serves, when the model repository lacks
# them: SASRec and BERT4Rec on the synthetic dataset of models/training (users walking item
# cycles), exported as version 1 of sasrec-demo and bert4rec-demo. About a minute on 2 cores.
# Usage: scripts/demo-models.sh MODEL_REPO
set -euo pipefail
cd "$(dirname "$0")/.."
repo="${1:?usage: scripts/demo-models.sh MODEL_REPO}"
mkdir -p "$repo"
repo="$(cd "$repo" && pwd)"
train() {  # name, flags...
  local name="$1"
  shift
  if [ -d "$repo/$name" ] && [ -n "$(ls "$repo/$name")" ]; then return; fi
  echo "demo-models: training $name into $repo/$name/1"
  (cd models/training && PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m recsys_train.train_seqrec \
      --data=synthetic --eval_users=200 --out="$repo/$name/1" "$@" > /dev/null)
}
train sasrec-demo --model=sasrec --epochs=10 --eval_every=10
train bert4rec-demo --model=bert4rec --hidden=32 --heads=2 --dropout=0.1 --mask_prob=0.3 \
    --epochs=6 --eval_every=6 --dupe=5
