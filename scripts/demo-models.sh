#!/usr/bin/env bash
# Trains the demo models the README's run command serves, when the model repository lacks
# them, on the synthetic datasets of models/training: SASRec and BERT4Rec (users walking item
# cycles) for seqrec, DARE (long histories with planted behaviours behind each click) for
# behavior_search, exported as version 1 of sasrec-demo, bert4rec-demo and dare-demo; and a
# small Llama trained to copy on synthetic ICR-shaped prompts (recsys_train.llm.train_icr) as
# icr-demo, the rerank service's model. About 5 minutes on 2 cores, the first time.
# Usage: scripts/demo-models.sh MODEL_REPO
set -euo pipefail
cd "$(dirname "$0")/.."
repo="${1:?usage: scripts/demo-models.sh MODEL_REPO}"
mkdir -p "$repo"
repo="$(cd "$repo" && pwd)"
train() {  # name, training module, flags...
  local name="$1" module="$2"
  shift 2
  if [ -d "$repo/$name" ] && [ -n "$(ls "$repo/$name")" ]; then return; fi
  echo "demo-models: training $name into $repo/$name/1"
  (cd models/training && PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m "recsys_train.$module" \
      --data=synthetic --out="$repo/$name/1" "$@" > /dev/null)
}
train sasrec-demo train_seqrec --model=sasrec --eval_users=200 --epochs=10 --eval_every=10
train bert4rec-demo train_seqrec --model=bert4rec --eval_users=200 --hidden=32 --heads=2 \
    --dropout=0.1 --mask_prob=0.3 --epochs=6 --eval_every=6 --dupe=5
train dare-demo train_ctr --model=dare --epochs=8
train icr-demo llm.train_icr
