"""Golden fixtures for the C++ models: tiny models trained by this package on the synthetic
data, exported, plus the PyTorch module's outputs on fixed inputs.

    /usr/bin/python3 -m recsys_train.make_golden --out=../../tests/models/testdata

writes <out>/<name>/1/{config.json, model.safetensors} and <out>/<name>/golden.json with
"histories" (internal ids, oldest first; one empty, one longer than max_len), "candidates",
"scores" and "user_vectors" from the PyTorch module in eval mode."""

import argparse
import json
import os
import shutil

import torch

from . import export, seqdata, seqeval, train_seqrec

# name -> extra training flags
MODELS = {
    "sasrec-tiny": ["--model=sasrec", "--layout=original"],
    "sasrec-tiny-pre-ln": ["--model=sasrec", "--layout=pre_ln"],
    "sasrec-tiny-post-ln": ["--model=sasrec", "--layout=post_ln"],
    "bert4rec-tiny": ["--model=bert4rec", "--dropout=0.1", "--mask_prob=0.3", "--dupe=4"],
}
COMMON = ["--data=synthetic", "--hidden=16", "--heads=2", "--max_len=10", "--batch_size=32",
          "--eval_every=1000", "--eval_users=50"]


def golden_inputs(num_items, max_len):
    histories = [[], [3], [5, 6, 7, 8], list(range(1, max_len + 6)), [num_items, 1, num_items]]
    candidates = [[1, 2, 3], [num_items, 4, 9], [9, 10, 11, 12], [2], [7, 7, 8]]
    return histories, candidates


@torch.no_grad()
def golden(model):
    cfg = model.config
    histories, candidates = golden_inputs(cfg["num_items"], cfg["max_len"])
    ids = torch.tensor([seqeval.model_input(cfg["architecture"], h, cfg["max_len"],
                                            cfg.get("mask_id")) for h in histories])
    users = model.user_vectors(ids)
    scores = [model.score(ids[i:i + 1], torch.tensor([c]))[0].tolist()
              for i, c in enumerate(candidates)]
    return {"histories": histories, "candidates": candidates, "scores": scores,
            "user_vectors": users.tolist()}


def make(out, epochs, names=None):
    data = seqdata.synthetic(num_users=200, num_items=40, min_len=4, max_len=16, seed=11)
    for name, flags in MODELS.items():
        if names and name not in names:
            continue
        args = train_seqrec.parser().parse_args(flags + COMMON + [f"--epochs={epochs}"])
        model, _, _ = train_seqrec.train(args, data, log=lambda s: None)
        model.eval()
        write_fixture(os.path.join(out, name), model, data.item_ids,
                      flags + COMMON + [f"--epochs={epochs}"], golden(model))


def write_fixture(target, model, item_ids, argv, outputs):
    """<target>/1/ (the export, trained_with = argv) and <target>/golden.json (outputs),
    replacing what was there."""
    shutil.rmtree(target, ignore_errors=True)
    export.export(model, item_ids, os.path.join(target, "1"),
                  extra={"trained_with": " ".join(argv)})
    with open(os.path.join(target, "golden.json"), "w", encoding="utf-8") as f:
        json.dump(outputs, f)
    print(f"wrote {target}")


def main(make_fixtures=None, doc=__doc__):
    """The command line of a golden-fixture script: --out, --epochs, --only."""
    p = argparse.ArgumentParser(description=doc)
    p.add_argument("--out", required=True)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--only", nargs="*", help="model names (default: all)")
    a = p.parse_args()
    torch.set_num_threads(1)
    (make_fixtures or make)(a.out, a.epochs, a.only)


if __name__ == "__main__":
    main()
