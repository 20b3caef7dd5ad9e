"""The project's own export of a decoder-only model it trains (the SETRec backbone): what the
C++ runtime loads besides GGUF (models/llm/model/tensor_source.h).

    <dir>/config.json        {"architecture": "llm", "arch": "llama" | "qwen2", "vocab_size",
                              "hidden", "intermediate", "layers", "heads", "kv_heads",
                              "context_length", "rope_theta", "rms_eps", "tied", "qkv_bias",
                              "rope_factors"}   (flags as 0 / 1)
    <dir>/model.safetensors  fp32, reference.py's names and Hugging Face layout ("embed",
                              "layers.0.q", ...; "rope_factors" with Llama 3 scaling)
    <dir>/tokenizer.gguf     the vocabulary alone, as a GGUF without tensors (gguf-py)
"""

import json
import os

from .. import safetensors
from . import gguf_py, reference, to_gguf


def export(out_dir, cfg, weights, vocab=None):
    os.makedirs(out_dir, exist_ok=True)
    tensors = {name: w.float().contiguous() for name, w in weights.items()}
    if cfg.rope_scaling:
        tensors["rope_factors"] = reference.rope_factors(cfg)
    safetensors.save(os.path.join(out_dir, "model.safetensors"), tensors)
    config = {"architecture": "llm", "arch": cfg.arch, "vocab_size": cfg.vocab_size,
              "hidden": cfg.hidden, "intermediate": cfg.intermediate, "layers": cfg.layers,
              "heads": cfg.heads, "kv_heads": cfg.kv_heads, "context_length": cfg.context_length,
              "rope_theta": cfg.rope_theta, "rms_eps": cfg.rms_eps, "tied": int(cfg.tied),
              "qkv_bias": int(cfg.qkv_bias), "rope_factors": int(bool(cfg.rope_scaling))}
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    gguf = gguf_py.load()
    writer = gguf.GGUFWriter(os.path.join(out_dir, "tokenizer.gguf"), arch=cfg.arch)
    to_gguf.add_tokenizer(writer, vocab or to_gguf.toy_vocab(cfg.vocab_size))
    gguf_py.finish(writer)
