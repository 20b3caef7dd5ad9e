#!/usr/bin/python3
"""Times PyTorch eager on the shapes of our kernel benchmarks and prints the ratio table.

Usage: torch_reference.py RESULT.json [RESULT.json ...]
Each RESULT.json is Google Benchmark JSON output (--benchmark_format=json) of a bench in
kernels/bench/. For every case with a PyTorch equivalent, the same shapes run in torch eager
on this machine in the same job, and the table shows ours / naive / torch times and speedups.
Run with Debian's /usr/bin/python3 (python3-torch 1.13, OpenBLAS).
"""
import json
import os
import re
import sys
import time

import torch


def parse_args(name):
    """'BM_X/C:100/L:1000/d_att:48/real_time' -> ('BM_X', {'C': 100, ...})."""
    parts = name.split("/")
    args = {}
    for part in parts[1:]:
        m = re.fullmatch(r"(\w+):(-?\d+)", part)
        if m:
            args[m.group(1)] = int(m.group(2))
    return parts[0], args


def time_us(fn, min_seconds=0.2, min_runs=3):
    fn()  # warm-up
    runs, start = 0, time.perf_counter()
    while runs < min_runs or time.perf_counter() - start < min_seconds:
        fn()
        runs += 1
    return (time.perf_counter() - start) / runs * 1e6


def target_attention(a):
    c, l, d_att, d_val, k = a["C"], a["L"], a["d_att"], 48, 20
    q, keys, values = torch.randn(c, d_att), torch.randn(l, d_att), torch.randn(l, d_val)

    def run():
        scores = (q @ keys.T) / d_att ** 0.5  # [C, L], as DARE's official code
        top, idx = torch.topk(scores, k, dim=1)
        w = torch.softmax(top, dim=1)
        return torch.einsum("ck,ckd->cd", w, values[idx])

    return run


def attention(a):
    b, s, h, d, causal = a["B"], a["S"], a["H"], a["D"], a.get("causal", 0)
    q, k, v = (torch.randn(b, h, s, d) for _ in range(3))
    mask = torch.triu(torch.full((s, s), float("-inf")), diagonal=1) if causal else None

    def run():  # matmul + softmax + matmul, as the reference implementations do
        logits = (q @ k.transpose(-1, -2)) / d ** 0.5
        if mask is not None:
            logits = logits + mask
        return torch.softmax(logits, dim=-1) @ v

    return run


TORCH_CASES = {"BM_TargetAttentionTopK": target_attention, "BM_Attention": attention}


def main(paths):
    torch.set_num_threads(os.cpu_count())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    header = f"{'case':<58} {'ours_us':>11} {'naive_us':>11} {'x naive':>8} {'torch_us':>11} {'x torch':>8}"
    print(header)
    print("-" * len(header))
    with torch.no_grad():
        for path in paths:
            if os.path.getsize(path) == 0:  # a --benchmark_filter that matched nothing
                continue
            with open(path) as f:
                results = json.load(f)["benchmarks"]
            for r in results:
                family, args = parse_args(r["name"])
                ours, naive = r.get("ours_us"), r.get("naive_us")
                torch_us = time_us(TORCH_CASES[family](args)) if family in TORCH_CASES else None
                cells = [
                    f"{ours:11.1f}" if ours else f"{'':>11}",
                    f"{naive:11.1f}" if naive else f"{'':>11}",
                    f"{naive / ours:8.2f}" if ours and naive else f"{'':>8}",
                    f"{torch_us:11.1f}" if torch_us else f"{'':>11}",
                    f"{torch_us / ours:8.2f}" if ours and torch_us else f"{'':>8}",
                ]
                print(f"{r['name'].replace('/real_time', ''):<58} " + " ".join(cells))


if __name__ == "__main__":
    main(sys.argv[1:])
