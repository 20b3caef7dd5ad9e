"""Next-item evaluation on a leave-one-out split, with the papers' protocols:

- "uniform": the held-out item ranked against 100 items sampled uniformly from those the user
  never interacted with (SASRec's protocol);
- "popularity": the same with negatives sampled in proportion to their interaction counts
  (BERT4Rec's protocol);
- "full": ranked against the whole catalogue minus the user's other items.

Metrics: HR@{1,5,10}, NDCG@{5,10}, MRR. The rank of the positive is the number of candidates
scored strictly higher."""

import numpy as np
import torch

from . import seqdata

PROTOCOLS = ("uniform", "popularity", "full")


def model_input(kind, history, max_len, mask_id=None):
    """The model's input row for predicting the item after `history`."""
    if kind == "sasrec":
        return seqdata.left_padded(history, max_len)
    return seqdata.right_padded(list(history)[-(max_len - 1):] + [mask_id], max_len)


def _negatives(rng, rated, num_items, count, probabilities):
    """`count` items outside `rated`, drawn uniformly or by `probabilities`; like both official
    samplers, a negative may repeat."""
    out = []
    while len(out) < count:
        if probabilities is None:
            draw = rng.integers(1, num_items + 1, size=2 * count)
        else:
            draw = rng.choice(num_items + 1, size=2 * count, p=probabilities)
        out.extend(int(i) for i in draw if int(i) not in rated)
    return out[:count]


def metrics_from_ranks(ranks):
    ranks = np.asarray(ranks, dtype=np.float64)
    out = {f"HR@{k}": float(np.mean(ranks < k)) for k in (1, 5, 10)}
    for k in (5, 10):
        out[f"NDCG@{k}"] = float(np.mean(np.where(ranks < k, 1.0 / np.log2(ranks + 2), 0.0)))
    out["MRR"] = float(np.mean(1.0 / (ranks + 1)))
    out["users"] = int(len(ranks))
    return out


@torch.no_grad()
def evaluate(model, split, protocol, target="test", num_negatives=100, max_users=None, seed=12345,
             batch_size=256, popularity=None):
    """Ranks each user's held-out item (target "test": input = train + valid; "valid": input =
    train). popularity: per-item counts, required for the "popularity" protocol."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}")
    model.eval()
    kind = model.config["architecture"]
    max_len = model.config["max_len"]
    mask_id = model.config.get("mask_id")
    num_items = split.num_items
    rng = np.random.default_rng(seed)
    users = [u for u in range(len(split.train)) if split.test[u] is not None]
    if max_users is not None and len(users) > max_users:
        users = sorted(rng.choice(users, size=max_users, replace=False).tolist())
    probabilities = None
    if protocol == "popularity":
        counts = np.asarray(popularity, dtype=np.float64).copy()
        counts[0] = 0
        probabilities = counts / counts.sum()
    ranks = []
    for first in range(0, len(users), batch_size):
        chunk = users[first:first + batch_size]
        inputs, positives, rated_sets = [], [], []
        for u in chunk:
            history = split.train[u] + ([split.valid[u]] if target == "test" else [])
            positive = split.test[u] if target == "test" else split.valid[u]
            inputs.append(model_input(kind, history, max_len, mask_id))
            positives.append(positive)
            rated_sets.append(set(split.train[u]) | {split.valid[u], split.test[u]})
        ids = torch.tensor(inputs, dtype=torch.long)
        if protocol == "full":
            scores = model.score_all(ids)[:, :num_items + 1].numpy()
            for row, (u, positive) in enumerate(zip(chunk, positives)):
                s = scores[row].copy()
                s[0] = -np.inf
                others = [i for i in rated_sets[row] if i != positive]
                s[others] = -np.inf
                ranks.append(int(np.sum(s > s[positive])))
        else:
            candidates = []
            for positive, rated in zip(positives, rated_sets):
                candidates.append([positive] + _negatives(rng, rated, num_items, num_negatives,
                                                          probabilities))
            scores = model.score(ids, torch.tensor(candidates, dtype=torch.long)).numpy()
            ranks.extend(int(np.sum(row[1:] > row[0])) for row in scores)
    return metrics_from_ranks(ranks)


def format_metrics(m):
    keys = ["HR@1", "HR@5", "HR@10", "NDCG@5", "NDCG@10", "MRR"]
    return " ".join(f"{k}={m[k]:.4f}" for k in keys) + f" users={m['users']}"

