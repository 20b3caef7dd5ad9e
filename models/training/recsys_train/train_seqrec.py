"""Trains SASRec or BERT4Rec on a `user item` file (or the synthetic dataset), evaluates with
the three protocols and exports into a model repository.

    /usr/bin/python3 -m recsys_train.train_seqrec --model=sasrec --data=beauty.txt \\
        --epochs=200 --out=REPO/sasrec-beauty/1

(run from models/training). Prints validation HR@10 / NDCG@10 per evaluated epoch (the
metric-vs-epoch curve), then test metrics for each protocol, and writes them into the
exported config as "metrics"."""

import argparse
import copy
import json
import sys
import time

import numpy as np
import torch

from . import bert4rec, export, sasrec, seqdata, seqeval


def sasrec_batches(split, max_len, batch_size, rng):
    """(seq, pos, neg) batches: seq = train[:-1], pos = train[1:], one uniform negative per
    position outside the user's items, all left-padded (the official sampler)."""
    users = [u for u, seq in enumerate(split.train) if len(seq) >= 2]
    rng.shuffle(users)
    num_items = split.num_items
    for first in range(0, len(users), batch_size):
        seqs, poss, negs = [], [], []
        for u in users[first:first + batch_size]:
            train = split.train[u]
            rated = set(train)
            seq = seqdata.left_padded(train[:-1], max_len)
            pos = seqdata.left_padded(train[1:], max_len)
            neg = []
            for p in pos:
                n = 0
                if p != 0:
                    n = int(rng.integers(1, num_items + 1))
                    while n in rated:
                        n = int(rng.integers(1, num_items + 1))
                neg.append(n)
            seqs.append(seq)
            poss.append(pos)
            negs.append(neg)
        yield (torch.tensor(seqs), torch.tensor(poss), torch.tensor(negs))


def bert4rec_batches(split, max_len, batch_size, mask_prob, mask_id, rng, dupe=1):
    """Cloze batches: a random window of up to max_len train items per user, `dupe` times per
    epoch with fresh masks (the official dupe_factor); each slot is masked with mask_prob (80%
    [MASK], 10% a random item, 10% kept) and at least one is."""
    users = [u for u, seq in enumerate(split.train) if len(seq) >= 1] * dupe
    rng.shuffle(users)
    num_items = split.num_items
    for first in range(0, len(users), batch_size):
        ids, labels = [], []
        for u in users[first:first + batch_size]:
            train = split.train[u]
            start = int(rng.integers(0, max(1, len(train) - max_len + 1)))
            window = train[start:start + max_len]
            masked = rng.random(len(window)) < mask_prob
            if not masked.any():
                masked[int(rng.integers(0, len(window)))] = True
            row, label = [], []
            for item, m in zip(window, masked):
                if m:
                    r = rng.random()
                    row.append(mask_id if r < 0.8 else
                               int(rng.integers(1, num_items + 1)) if r < 0.9 else item)
                    label.append(item)
                else:
                    row.append(item)
                    label.append(0)
            ids.append(seqdata.right_padded(row, max_len))
            labels.append(seqdata.right_padded(label, max_len))
        yield torch.tensor(ids), torch.tensor(labels)


class NegativeSampler:
    """Shared negatives for BERT4Rec's sampled softmax: `count` item ids per batch, drawn with
    replacement from the training interactions' popularity (add-one smoothed) or uniformly,
    and log(expected draws) per vocabulary id for the logQ correction (padding and [MASK]
    are never drawn)."""

    def __init__(self, split, count, kind, vocab):
        weights = torch.ones(vocab, dtype=torch.float64)
        if kind == "popularity":
            items = torch.tensor([i for seq in split.train for i in seq], dtype=torch.long)
            weights[: split.num_items + 1] += torch.bincount(items,
                                                             minlength=split.num_items + 1)
        weights[0] = 0.0
        weights[vocab - 1] = 0.0  # [MASK]
        self.q = (weights / weights.sum()).float()
        self.count = count
        self.log_expected = torch.log(torch.clamp(self.q * count, min=1e-30))

    def draw(self):
        return torch.multinomial(self.q, self.count, replacement=True), self.log_expected


def build(args, num_items):
    if args.model == "sasrec":
        return sasrec.SASRec(num_items, args.max_len, args.hidden, args.blocks, args.heads,
                             args.dropout, args.layout)
    return bert4rec.BERT4Rec(num_items, args.max_len, args.hidden, args.blocks, args.heads,
                             args.intermediate or 4 * args.hidden, args.dropout)


def train(args, data, log=print):
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    split = data.split()
    popularity = data.popularity()
    model = build(args, data.num_items)
    sampler = (NegativeSampler(split, args.negatives, args.sampler, len(model.out_bias))
               if args.model == "bert4rec" and args.negatives > 0 else None)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.98))
    curve = []
    best = None  # (valid NDCG@10, epoch, state) when --keep_best
    run_started = time.time()
    for epoch in range(1, args.epochs + 1):
        model.train()
        started = time.time()
        total, steps = 0.0, 0
        if args.model == "sasrec":
            batches = sasrec_batches(split, args.max_len, args.batch_size, rng)
        else:
            batches = bert4rec_batches(split, args.max_len, args.batch_size, args.mask_prob,
                                       model.mask_id, rng, args.dupe)
        for batch in batches:
            optimizer.zero_grad()
            if args.model == "sasrec":
                loss = model.loss(*batch, kind=args.loss)
            elif sampler is not None:
                loss = model.loss(*batch, *sampler.draw())
            else:
                loss = model.loss(*batch)
            loss.backward()
            if args.clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            optimizer.step()
            total += float(loss)
            steps += 1
        out_of_time = (args.time_budget_min > 0 and
                       time.time() - run_started > 60 * args.time_budget_min)
        if epoch % args.eval_every == 0 or epoch == args.epochs or out_of_time:
            m = seqeval.evaluate(model, split, args.protocol, target="valid",
                                 max_users=args.eval_users, popularity=popularity)
            curve.append({"epoch": epoch, "loss": total / max(steps, 1), "valid": m})
            log(f"epoch {epoch} loss {total / max(steps, 1):.4f} "
                f"({time.time() - started:.1f} s) valid[{args.protocol}] "
                f"{seqeval.format_metrics(m)}")
            if args.keep_best and (best is None or m["NDCG@10"] > best[0]):
                best = (m["NDCG@10"], epoch, copy.deepcopy(model.state_dict()))
        if out_of_time:
            log(f"stopping after epoch {epoch}: time budget of {args.time_budget_min} min spent")
            break
    if best is not None:
        model.load_state_dict(best[2])
        log(f"restored the best validation checkpoint: epoch {best[1]}")
    results = {}
    for protocol in seqeval.PROTOCOLS:
        results[protocol] = seqeval.evaluate(model, split, protocol, target="test",
                                             max_users=args.eval_users, popularity=popularity)
        log(f"test[{protocol}] {seqeval.format_metrics(results[protocol])}")
    return model, results, curve


def parser():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=["sasrec", "bert4rec"], required=True)
    p.add_argument("--data", required=True, help="`user item` file, or 'synthetic'")
    p.add_argument("--out", help="export directory <repo>/<name>/<version> (must not exist)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch_size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--max_len", type=int, default=50)
    p.add_argument("--hidden", type=int, default=50)
    p.add_argument("--blocks", type=int, default=2, help="SASRec blocks / BERT4Rec layers")
    p.add_argument("--heads", type=int, default=1)
    p.add_argument("--intermediate", type=int, default=0, help="BERT4Rec FFN width (0 = 4d)")
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--layout", choices=sasrec.BLOCKS, default="original")
    p.add_argument("--loss", choices=["bce", "ce"], default="bce", help="SASRec loss")
    p.add_argument("--mask_prob", type=float, default=0.2, help="BERT4Rec cloze probability")
    p.add_argument("--dupe", type=int, default=10,
                   help="BERT4Rec: cloze samples per user per epoch")
    p.add_argument("--negatives", type=int, default=0,
                   help="BERT4Rec: shared sampled-softmax negatives per batch (0 = full softmax)")
    p.add_argument("--sampler", choices=["popularity", "uniform"], default="popularity",
                   help="BERT4Rec: distribution of the sampled-softmax negatives")
    p.add_argument("--clip", type=float, default=5.0, help="gradient-norm clip (0 = off)")
    p.add_argument("--protocol", choices=seqeval.PROTOCOLS, default="popularity",
                   help="protocol of the per-epoch validation curve")
    p.add_argument("--eval_every", type=int, default=5)
    p.add_argument("--eval_users", type=int, default=10000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--time_budget_min", type=float, default=0,
                   help="stop after the epoch that passes this many minutes (0 = no limit)")
    p.add_argument("--keep_best", action="store_true",
                   help="test the checkpoint with the best validation NDCG@10")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    data = seqdata.synthetic() if args.data == "synthetic" else seqdata.load(args.data)
    print(f"{args.data}: {len(data.sequences)} users, {data.num_items} items", flush=True)
    model, results, curve = train(args, data, log=lambda s: print(s, flush=True))
    if args.out:
        export.export(model, data.item_ids, args.out,
                      extra={"metrics": results, "curve": curve,
                             "trained_with": " ".join(sys.argv[1:])})
        print(f"exported to {args.out}")
    print(json.dumps({"test": results}))


if __name__ == "__main__":
    main()
