"""Trains DARE or TWIN on MovieLens-100K or the synthetic long-history data, reports test AUC
(and, on synthetic data, the search recall of planted behaviours) and exports the model:

    /usr/bin/python3 -m recsys_train.train_ctr --model=dare \\
        --data=movielens:../../../shared/data/movielens-100k --seed=1 --out=/tmp/repo/dare/1

(run from models/training)."""

import argparse
import json
import sys
import time

import numpy as np
import torch

from . import ctrdata, dare, export


def build(args, data):
    return dare.DARE(data.num_items, data.num_categories, args.max_len, args.model, args.dim,
                     args.dim, args.dim, args.att_dim, args.att_dim, args.att_dim, args.top_k)


@torch.no_grad()
def evaluate(model, data, split, max_len, batch_size=512):
    """AUC over the split and, when it has planted positions, the mean recall@K of them."""
    model.eval()
    scores, recalls = [], []
    for first in range(0, len(split), batch_size):
        index = np.arange(first, min(len(split), first + batch_size))
        items, cats, hist, hist_cats, _ = (torch.from_numpy(a) for a in
                                           ctrdata.batch(data, split, index, max_len))
        scores.append(model.click_probability(items, cats, hist, hist_cats).numpy())
        if split.planted is not None:
            idx, weights = model.retrieve(items, cats, hist, hist_cats)
            length = hist.shape[1]
            for row, i in enumerate(index):
                planted = split.planted[i]
                history_length = min(len(split.histories[i]), max_len)
                # Planted positions in the (left-padded, truncated) model input.
                shift = length - len(split.histories[i])
                inside = planted[planted >= len(split.histories[i]) - history_length] + shift
                if len(inside) == 0:
                    continue
                found = set(idx[row][weights[row] > 0].tolist())
                recalls.append(len(found & set(inside.tolist())) / min(len(inside), model.top_k))
    out = {"auc": ctrdata.auc(split.labels, np.concatenate(scores)), "samples": len(split)}
    if recalls:
        out["planted_recall"] = float(np.mean(recalls))
    return out


def train(args, data, log=print):
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = build(args, data)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    curve = []
    for epoch in range(1, args.epochs + 1):
        model.train()
        started = time.time()
        order = rng.permutation(len(data.train))
        total, steps = 0.0, 0
        for first in range(0, len(order) - 1, args.batch_size):
            index = order[first:first + args.batch_size]
            if len(index) < 2:  # BatchNorm needs two samples
                continue
            items, cats, hist, hist_cats, labels = (torch.from_numpy(a) for a in
                                                    ctrdata.batch(data, data.train, index,
                                                                  args.max_len))
            optimizer.zero_grad()
            loss = model.loss(items, cats, hist, hist_cats, labels)
            loss.backward()
            optimizer.step()
            total += float(loss)
            steps += 1
        valid = evaluate(model, data, data.valid, args.max_len)
        curve.append({"epoch": epoch, "loss": total / max(steps, 1), "valid": valid})
        log(f"epoch {epoch} loss {total / max(steps, 1):.4f} ({time.time() - started:.1f} s) "
            f"valid {json.dumps(valid)}")
    test = evaluate(model, data, data.test, args.max_len)
    log(f"test {json.dumps(test)}")
    return model, test, curve


def load_data(spec, seed):
    if spec == "synthetic":
        return ctrdata.synthetic(seed=seed)
    if spec.startswith("movielens:"):
        return ctrdata.movielens(spec[len("movielens:"):], seed=seed)
    raise SystemExit(f"--data: expected 'synthetic' or 'movielens:DIR', got {spec!r}")


def parser():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=dare.VARIANTS, required=True)
    p.add_argument("--data", required=True, help="'synthetic' or 'movielens:DIR'")
    p.add_argument("--out", help="export directory <repo>/<name>/<version> (must not exist)")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch_size", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight_decay", type=float, default=1e-6)
    p.add_argument("--max_len", type=int, default=200)
    p.add_argument("--dim", type=int, default=16, help="item, category and time dims")
    p.add_argument("--att_dim", type=int, default=0,
                   help="DARE attention dims (item, category, time each); 0 = --dim")
    p.add_argument("--top_k", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    data = load_data(args.data, args.seed)
    print(f"{args.data}: {data.num_items} items, {data.num_categories} categories, "
          f"{len(data.train)}/{len(data.valid)}/{len(data.test)} samples", flush=True)
    model, test, curve = train(args, data, log=lambda s: print(s, flush=True))
    if args.out:
        export.export(model, data.item_ids, args.out,
                      extra={"test": test, "curve": curve,
                             "trained_with": " ".join(sys.argv[1:])})
        print(f"exported to {args.out}")
    print(json.dumps({"test": test}))


if __name__ == "__main__":
    main()
