"""C++ SASRec / BERT4Rec inference against the same PyTorch modules in eager mode, on the same
inputs, in one run: for each model (Beauty-sized catalogue of 54,542 items, random weights),
max_len 50 and 200 and batch 1 and 256, both sides compute the user vectors and the scores of
101 candidates per user. Prints median milliseconds and the speedup (> 1 = C++ faster).

    scripts/bench-seqrec.sh      (builds seqrec_infer, then runs this with /usr/bin/python3)
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
from recsys_train import bert4rec, export, sasrec, seqeval  # noqa: E402

NUM_ITEMS = 54542


def build(kind, max_len):
    torch.manual_seed(0)
    if kind == "sasrec":  # the paper's Beauty setting: d 50, 2 blocks, 1 head
        return sasrec.SASRec(NUM_ITEMS, max_len=max_len, hidden=50, blocks=2, heads=1).eval()
    return bert4rec.BERT4Rec(NUM_ITEMS, max_len=max_len, hidden=64, layers=2, heads=2,
                             intermediate=256).eval()


def torch_time(model, histories, candidates, iterations):
    cfg = model.config
    times = []
    with torch.no_grad():
        for i in range(iterations + 2):
            start = time.perf_counter()
            # What a server does per call: build the input rows, forward, score.
            ids = torch.tensor([seqeval.model_input(cfg["architecture"], h, cfg["max_len"],
                                                    cfg.get("mask_id")) for h in histories])
            scores = model.score(ids, torch.tensor(candidates))
            if i >= 2:
                times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3, float(scores.sum())


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--binary", required=True, help="path of seqrec_infer")
    p.add_argument("--iterations", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(1)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"catalogue {NUM_ITEMS} items, 101 candidates per user")
    print(f"{'model':<9} {'max_len':>7} {'batch':>5} {'C++ ms':>9} {'torch ms':>9} {'x torch':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("sasrec", "bert4rec"):
            for max_len in (50, 200):
                model = build(kind, max_len)
                directory = os.path.join(tmp, f"{kind}-{max_len}", "1")
                export.export(model, list(range(NUM_ITEMS + 1)), directory)
                for batch in (1, 256):
                    histories = [rng.integers(1, NUM_ITEMS + 1, size=max_len).tolist()
                                 for _ in range(batch)]
                    candidates = [rng.integers(1, NUM_ITEMS + 1, size=101).tolist()
                                  for _ in range(batch)]
                    inputs = os.path.join(tmp, "inputs.json")
                    with open(inputs, "w") as f:
                        json.dump({"histories": histories, "candidates": candidates}, f)
                    iterations = a.iterations if batch == 1 else max(5, a.iterations // 4)
                    out = subprocess.run([a.binary, f"--model={directory}", f"--inputs={inputs}",
                                          f"--iterations={iterations}"], check=True,
                                         capture_output=True, text=True).stdout
                    ours = json.loads(out)
                    theirs_ms, checksum = torch_time(model, histories, candidates, iterations)
                    ours_ms = ours["median_us"] / 1e3
                    if abs(ours["checksum"] - checksum) > 1e-3 * max(1.0, abs(checksum)):
                        raise SystemExit(f"{kind} {max_len} {batch}: C++ and torch disagree "
                                         f"({ours['checksum']} vs {checksum})")
                    print(f"{kind:<9} {max_len:>7} {batch:>5} {ours_ms:>9.3f} {theirs_ms:>9.3f} "
                          f"{theirs_ms / ours_ms:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
