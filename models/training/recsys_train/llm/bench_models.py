"""Random-weight GGUF files at real small-model shapes, for the runtime's benchmarks against
llama.cpp and PyTorch (scripts/bench-llm.sh): nothing to download. Weights are random normal
scaled by 1 / sqrt(fan-in); the costs of a forward pass depend on the shapes and types only.

    tinyllama   TinyLlama-1.1B: hidden 2048, 22 layers, 32 heads (4 KV), ffn 5632, vocab 32000
    qwen2.5-0.5b  Qwen2.5-0.5B: hidden 896, 24 layers, 14 heads (2 KV), ffn 4864, vocab 151936,
                q / k / v biases, tied embeddings

    /usr/bin/python3 -m recsys_train.llm.bench_models --out=DIR --shapes=tinyllama \\
        --types=f16,q8_0,q4_k_m [--torch_prompt=512]

writes DIR/<shape>-<type>.gguf (skipping files already there) and, with --torch_prompt,
prints PyTorch eager's prefill tokens/s on those weights (fp32, torch's threads as set by
OMP_NUM_THREADS) as JSON.
"""

import argparse
import json
import os
import time

import torch

from . import reference, to_gguf

SHAPES = {
    "tinyllama": reference.Config(arch="llama", vocab_size=32000, hidden=2048, intermediate=5632,
                                  layers=22, heads=32, kv_heads=4, rope_theta=10000.0,
                                  context_length=4096),
    "qwen2.5-0.5b": reference.Config(arch="qwen2", vocab_size=151936, hidden=896,
                                     intermediate=4864, layers=24, heads=14, kv_heads=2,
                                     rope_theta=1e6, rms_eps=1e-6, context_length=4096,
                                     tied=True, qkv_bias=True),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--shapes", default="tinyllama")
    parser.add_argument("--types", default="f16,q8_0,q4_k_m")
    parser.add_argument("--torch_prompt", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for shape in args.shapes.split(","):
        cfg = SHAPES[shape]
        weights = None
        for qtype in args.types.split(","):
            path = os.path.join(args.out, f"{shape}-{qtype}.gguf")
            if os.path.exists(path):
                continue
            if weights is None:
                weights = reference.random_weights(cfg, seed=7)
            to_gguf.write(path + ".tmp", cfg, weights, qtype)
            os.replace(path + ".tmp", path)
            print(f"wrote {path}", flush=True)
        if args.torch_prompt:
            if weights is None:
                weights = reference.random_weights(cfg, seed=7)
            ids = [(i * 7919 + 11) % cfg.vocab_size for i in range(args.torch_prompt)]
            best = float("inf")
            for _ in range(2):
                t0 = time.perf_counter()
                reference.forward(cfg, weights, ids, keep_probs=False)
                best = min(best, time.perf_counter() - t0)
            print(json.dumps({"shape": shape, "torch_threads": torch.get_num_threads(),
                              "prompt": args.torch_prompt,
                              "prefill_tokens_per_s": args.torch_prompt / best}), flush=True)


if __name__ == "__main__":
    main()
