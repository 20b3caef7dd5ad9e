"""Golden fixtures for the C++ DARE / TWIN: tiny models trained by this package on synthetic
long-history data, exported, plus the PyTorch module's eval-mode outputs on fixed users:

    /usr/bin/python3 -m recsys_train.make_golden_ctr --out=../../tests/models/testdata

writes <out>/<name>/1/{config.json, model.safetensors} and <out>/<name>/golden.json with
"users": [{history_items, history_categories, candidate_items, candidate_categories,
probabilities, selected, weights}] (selected: positions in the history, best first, for the
min(top_k, history length) picks; histories longer than max_len are cut to the most recent
ones first, as the service does)."""

import os

import numpy as np
import torch

from . import ctrdata, make_golden, train_ctr

MODELS = {
    "dare-tiny": ["--model=dare", "--att_dim=4"],
    "twin-tiny": ["--model=twin"],
    # Trained on the same short histories, served on long ones (the C++ path builds tokens of
    # a history over 4,096 behaviours on several threads).
    "dare-long": ["--model=dare", "--att_dim=4", "--max_len=6000"],
}
COMMON = ["--data=synthetic", "--dim=8", "--max_len=30", "--top_k=5", "--batch_size=64",
          "--lr=3e-3"]


def golden_users(data, max_len):
    rng = np.random.default_rng(5)
    n = data.num_items
    histories = [[], [3], [4, 9, 17], list(rng.integers(1, n + 1, size=12)),
                 list(rng.integers(1, n + 1, size=45))]  # 45 > max_len of the tiny ones
    candidates = [[1, 2], [n, 4, 9], [9, 10, 11, 12, 13], [2], list(range(1, 31))]
    if max_len > 45:  # long histories, the last one longer than max_len
        histories += [list(rng.integers(1, n + 1, size=5000)),
                      list(rng.integers(1, n + 1, size=max_len + 900))]
        candidates += [list(range(1, 8)), [5, 6]]
    return histories, candidates


@torch.no_grad()
def golden(model, data):
    model.eval()
    users = []
    for history, candidates in zip(*golden_users(data, model.max_len)):
        history = [int(x) for x in history]
        used = history[-model.max_len:]
        c = len(candidates)
        items = torch.tensor(candidates)
        hist = torch.tensor([used] * c) if used else torch.zeros((c, 1), dtype=torch.long)
        cats = torch.from_numpy(data.category[items.numpy()])
        hist_cats = torch.from_numpy(data.category[hist.numpy()])
        p = model.click_probability(items, cats, hist, hist_cats)
        idx, w = model.retrieve(items, cats, hist, hist_cats)
        picks = min(model.top_k, len(used))
        users.append({
            "history_items": history,
            "history_categories": data.category[history].tolist() if history else [],
            "candidate_items": [int(x) for x in candidates],
            "candidate_categories": data.category[candidates].tolist(),
            "probabilities": p.tolist(),
            "selected": idx[:, :picks].tolist(),
            "weights": w[:, :picks].tolist(),
        })
    return {"users": users}


def make(out, epochs, names=None):
    data = ctrdata.synthetic(samples=3000, lengths=(10, 40), num_items=60, num_categories=6,
                             topics=6, planted=4, seed=21)
    for name, flags in MODELS.items():
        if names and name not in names:
            continue
        argv = COMMON + flags + [f"--epochs={epochs}"]  # a model's flags win
        model, _, _ = train_ctr.train(train_ctr.parser().parse_args(argv), data,
                                      log=lambda s: None)
        make_golden.write_fixture(os.path.join(out, name), model, data.item_ids, argv,
                                  golden(model, data))


if __name__ == "__main__":
    make_golden.main(make, __doc__)
