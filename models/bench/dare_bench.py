"""C++ DARE inference against the same PyTorch module in eager mode (its one-user serving path,
dare.DARE.score_one_user: history tokens once, scores as one [C, L] matrix product), on the
same inputs, in one run: history length L in 10^2..10^5 and C candidates in 1..1000, a
catalogue of 100,000 items and 1,000 categories (random weights), d = 16 per
field (d_R = 48) with the attention dims at 16 (d_A = 48) and at 8 (d_A = 24, DARE's halved
search). Prints median milliseconds (of the whole call and of its search stage alone), the
speedup (> 1 = C++ faster), the peak RSS of the C++ process and how much of it scoring added
over the loaded model and inputs (a [C, L] score matrix at L = 10^5, C = 1000 would be
400 MB), then the search and whole-call time ratios of the full over the halved attention
dims.

    scripts/bench-dare.sh      (builds dare_infer, then runs this with /usr/bin/python3)
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "training"))
from recsys_train import dare, export  # noqa: E402

NUM_ITEMS, NUM_CATEGORIES, MAX_LEN = 100_000, 1_000, 100_000


def build(att_dim):
    torch.manual_seed(0)
    model = dare.DARE(NUM_ITEMS, NUM_CATEGORIES, MAX_LEN, "dare", 16, 16, 16, att_dim, att_dim,
                      att_dim, top_k=20)
    with torch.no_grad():  # running statistics away from the (0, 1) defaults
        model.mlp[0].running_mean.uniform_(-0.01, 0.01)
        model.mlp[0].running_var.uniform_(0.5, 2.0)
    return model.eval()


@torch.no_grad()
def torch_time(model, inputs, iterations):
    t = {k: torch.tensor(v, dtype=torch.long) for k, v in inputs.items()}
    args = (t["candidate_items"], t["candidate_categories"], t["history_items"],
            t["history_categories"])
    model.score_one_user(*args)  # warm-up
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        p = model.score_one_user(*args)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2] * 1e3, float(p.sum())


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--binary", required=True, help="path of dare_infer")
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--lengths", default="100,1000,10000,100000")
    p.add_argument("--candidates", default="1,100,1000")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(1)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {NUM_ITEMS} items, "
          f"K = 20, d_R = 48")
    print(f"{'d_A':>4} {'L':>7} {'C':>5} {'C++ ms':>9} {'search ms':>9} {'torch ms':>9} "
          f"{'x torch':>8} {'C++ RSS MB':>10} {'scoring +MB':>11}")
    measured = {}  # (att_dim, L, C) -> (C++ ms, C++ search ms)
    with tempfile.TemporaryDirectory() as tmp:
        for att_dim in (16, 8):
            model = build(att_dim)
            directory = os.path.join(tmp, f"dare-{att_dim}", "1")
            export.export(model, range(NUM_ITEMS + 1), directory)
            for length in (int(x) for x in a.lengths.split(",")):
                for count in (int(x) for x in a.candidates.split(",")):
                    inputs = {
                        "history_items": rng.integers(1, NUM_ITEMS + 1, size=length).tolist(),
                        "history_categories": rng.integers(1, NUM_CATEGORIES + 1, size=length).tolist(),
                        "candidate_items": rng.integers(1, NUM_ITEMS + 1, size=count).tolist(),
                        "candidate_categories": rng.integers(1, NUM_CATEGORIES + 1, size=count).tolist(),
                    }
                    path = os.path.join(tmp, "inputs.json")
                    with open(path, "w") as f:
                        json.dump(inputs, f)
                    iterations = a.iterations if length * count <= 10**7 else max(3, a.iterations // 3)
                    out = subprocess.run([a.binary, f"--model={directory}", f"--inputs={path}",
                                          f"--iterations={iterations}"], check=True,
                                         capture_output=True, text=True).stdout
                    ours = json.loads(out)
                    theirs_ms, checksum = torch_time(model, inputs, iterations)
                    ours_ms = ours["median_us"] / 1e3
                    if abs(ours["checksum"] - checksum) > 1e-3 * max(1.0, abs(checksum)):
                        raise SystemExit(f"d_A {3 * att_dim} L {length} C {count}: C++ and torch "
                                         f"disagree ({ours['checksum']} vs {checksum})")
                    search_ms = ours["search_median_us"] / 1e3
                    measured[(att_dim, length, count)] = (ours_ms, search_ms)
                    print(f"{3 * att_dim:>4} {length:>7} {count:>5} {ours_ms:>9.3f} "
                          f"{search_ms:>9.3f} {theirs_ms:>9.3f} {theirs_ms / ours_ms:>8.2f} "
                          f"{ours['max_rss_kb'] / 1024:>10.1f} "
                          f"{(ours['max_rss_kb'] - ours['loaded_rss_kb']) / 1024:>11.1f}",
                          flush=True)

    print("\nd_A = 48 over d_A = 24, C++ (> 1 = halving the attention dims is faster)")
    print(f"{'L':>7} {'C':>5} {'search':>8} {'whole call':>10}")
    for (att_dim, length, count), (full, search) in measured.items():
        if att_dim != 16 or (8, length, count) not in measured:
            continue
        half_full, half_search = measured[(8, length, count)]
        print(f"{length:>7} {count:>5} {search / half_search:>8.2f} {full / half_full:>10.2f}")


if __name__ == "__main__":
    main()
