"""Random-weight fixtures of each family the runtime reads, and the reference's outputs on
them, for tests/models/llm (written at test time into the build tree, not committed):

    llama3   Llama-3 style: grouped-query attention (4 heads, 2 KV heads), rope theta 500000
             with Llama 3 frequency scaling, tied embeddings
    mistral  Mistral style: 4 heads, 1 KV head, theta 1e6, separate output head
    qwen2    Qwen2 style: q / k / v biases, theta 1e6, rms eps 1e-6, tied embeddings

each as f32, f16, q8_0 and q4_k (and q4_k_m for llama3): <out>/<family>-<type>.gguf, and
<out>/<family>-<type>.golden.gguf holding the input ids and the reference's logits, final
hidden states and attention mass (query span and layers in its metadata), computed on the
weights as the file holds them; <out>/<family>-<type>.icr.gguf, an ICR-shaped token prompt
and icr_reference's scores on it (every layer, and the first layer alone); <out>/icr-tiny/1/,
a re-ranking model version (config.json, the llama3 f32 file) for the rerank service's tests; and <out>/<family>-export/, the same weights as the project's
own export (export.py), which the f32 golden fits. With --stories260k (shared/data/llm-stories260K, when present)
also <out>/stories260K.gguf, converted from llama2.c by llama2c_to_gguf.

    /usr/bin/python3 -m recsys_train.llm.fixtures --out=DIR [--stories260k=DIR]
"""

import argparse
import json
import os
import shutil

import numpy as np
import torch

from . import export, gguf_py, icr_reference, llama2c_to_gguf, reference, to_gguf

FAMILIES = {
    "llama3": reference.Config(arch="llama", heads=4, kv_heads=2, rope_theta=500000.0, tied=True,
                               rope_scaling={"factor": 8.0, "low_freq_factor": 1.0,
                                             "high_freq_factor": 4.0,
                                             "original_max_position_embeddings": 64}),
    "mistral": reference.Config(arch="llama", heads=4, kv_heads=1, rope_theta=1e6),
    "qwen2": reference.Config(arch="qwen2", heads=4, kv_heads=2, rope_theta=1e6, rms_eps=1e-6,
                              tied=True, qkv_bias=True),
}
TYPES = ["f32", "f16", "q8_0", "q4_k"]
IDS = [1, 259, 290, 12, 300 - 1, 7, 271, 265, 3, 140, 259, 280, 45, 60, 2, 299, 77, 261]
MASS_SPAN, MASS_LAYERS = (12, 16), (0, 1)


def write_golden(path, ids, out):
    gguf = gguf_py.load()
    w = gguf.GGUFWriter(path, arch="golden")
    w.add_uint32("golden.mass.q_begin", MASS_SPAN[0])
    w.add_uint32("golden.mass.q_end", MASS_SPAN[1])
    w.add_array("golden.mass.layers", list(MASS_LAYERS))
    w.add_tensor("ids", np.asarray(ids, dtype=np.float32))
    w.add_tensor("logits", out["logits"].numpy().astype(np.float32))
    w.add_tensor("hidden", out["hidden"].numpy().astype(np.float32))
    mass = reference.attention_mass(out["probs"], MASS_LAYERS, *MASS_SPAN)
    w.add_tensor("mass", mass.numpy().astype(np.float32))
    gguf_py.finish(w)


ICR_LAYER_SETS = {"all": None, "first": (0,)}


def write_icr_golden(path, cfg, weights):
    gguf = gguf_py.load()
    prefix, query_tail, na_tail, spans = icr_reference.example_prompt(cfg.vocab_size)
    w = gguf.GGUFWriter(path, arch="golden")
    w.add_tensor("prefix", np.asarray(prefix, dtype=np.float32))
    w.add_tensor("query_tail", np.asarray(query_tail, dtype=np.float32))
    w.add_tensor("na_tail", np.asarray(na_tail, dtype=np.float32))
    w.add_tensor("spans", np.asarray(spans, dtype=np.float32))
    for name, layers in ICR_LAYER_SETS.items():
        layers = layers or tuple(range(cfg.layers))
        out = icr_reference.score(cfg, weights, prefix, query_tail, na_tail, spans, layers)
        for key, values in out.items():
            w.add_tensor(f"{name}.{key}", np.asarray(values, dtype=np.float32))
    gguf_py.finish(w)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--stories260k", default="")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    for seed, (family, cfg) in enumerate(FAMILIES.items()):
        weights = reference.random_weights(cfg, seed=100 + seed)
        for qtype in TYPES + (["q4_k_m"] if family == "llama3" else []):
            name = os.path.join(args.out, f"{family}-{qtype}")
            held = to_gguf.write(name + ".gguf", cfg, weights, qtype)
            write_golden(name + ".golden.gguf", IDS, reference.forward(cfg, held, IDS))
            if qtype in ("f32", "q4_k"):
                write_icr_golden(name + ".icr.gguf", cfg, held)
            print(name)
        if family == "llama3":
            version = os.path.join(args.out, "icr-tiny", "1")
            os.makedirs(version, exist_ok=True)
            shutil.copyfile(os.path.join(args.out, "llama3-f32.gguf"),
                            os.path.join(version, "model.gguf"))
            with open(os.path.join(version, "config.json"), "w") as f:
                json.dump({"architecture": "icr", "checkpoint": "model.gguf", "prompt": "plain",
                           "instruction": "qa"}, f)
        # The same weights as the project's own export (fp32: the f32 golden holds for it).
        export.export(os.path.join(args.out, f"{family}-export"), cfg, weights)
    model = os.path.join(args.stories260k, "stories260K_dequant_f32.bin")
    if args.stories260k and os.path.exists(model):
        out = os.path.join(args.out, "stories260K.gguf")
        llama2c_to_gguf.convert(model, os.path.join(args.stories260k, "tok512.bin"), out)
        print(out)


if __name__ == "__main__":
    main()
