"""Writes a Llama / Mistral / Qwen2 model (reference.py's Hugging Face-layout weights) as GGUF
through llama.cpp's own gguf-py writer, with llama.cpp's tensor names and conventions: for the
llama architecture q and k rows permuted to the interleaved rope layout (as convert_hf_to_gguf
does), Llama 3's rope scaling as the rope_freqs tensor, 1-D tensors in F32.

Weight types: f32, f16, bf16, q8_0, q4_0, q5_0 (gguf-py's quantisers), q4_k, q6_k (quantize.py),
and q4_k_m: Q4_K with Q6_K for output / token_embd (when tied) and for attn_v / ffn_down on
llama.cpp's "more bits" layers, Q5_0 / Q8_0 where a row is not whole 256-blocks, as
llama-quantize's Q4_K_M mixture.

write() returns the weights as the file holds them, dequantised (Hugging Face layout): what the
runtime computes with, so the reference can run on exactly those."""

import numpy as np
import torch

from . import gguf_py, quantize, reference

SPM_SPACE = "\u2581"


def toy_vocab(size):
    """A SentencePiece-style vocabulary: <unk> <s> </s>, the 256 byte tokens, then words."""
    words = ["the", "a", "of", "and", "to", "in", "is", "it", "that", "was", "for", "on", "with",
             "as", "at", "by", "he", "she", "they", "we", "you", "this", "from", "but", "not",
             "or", "have", "had", "one", "all", "story", "cat", "dog", "sun", "day", "play",
             "happy", "little", "big", "time", "once", "upon", "there", "lily", "tom"]
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [2, 3, 3] + [6] * 256
    extra = [SPM_SPACE + w for w in words] + list("abcdefghijklmnopqrstuvwxyz") + [SPM_SPACE]
    for i, t in enumerate(extra):
        if len(tokens) >= size:
            break
        tokens.append(t)
        types.append(1)
    while len(tokens) < size:  # plain tokens: nothing a tokenizer must match specially
        tokens.append(f"<extra_{len(tokens)}>")
        types.append(1)
    scores = [0.0] * 259 + [-float(i) for i in range(size - 259)]
    return tokens, scores, types


def add_tokenizer(writer, vocab):
    """A SentencePiece-style vocabulary (tokens, scores, types) as tokenizer.ggml.* keys."""
    tokens, scores, types = vocab
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(True)


def _permute(w, heads):
    """Hugging Face rotate_half rows -> llama.cpp's interleaved rows (convert_hf_to_gguf)."""
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2) \
        .reshape(w.shape)


def _more_bits(layer, layers):
    return layer < layers // 8 or layer >= 7 * layers // 8 or (layer - layers // 8) % 3 == 2


def _type_for(gguf, qtype, name, cols, layer, layers, tied):
    T = gguf.GGMLQuantizationType
    if qtype != "q4_k_m":
        return getattr(T, qtype.upper())
    t = T.Q4_K
    if name == "output.weight" or (tied and name == "token_embd.weight"):
        t = T.Q6_K
    elif name.endswith(("attn_v.weight", "ffn_down.weight")) and _more_bits(layer, layers):
        t = T.Q6_K
    if cols % 256 != 0:  # llama-quantize's fall-backs for rows that are not whole super-blocks
        t = {T.Q4_K: T.Q5_0, T.Q6_K: T.Q8_0}[t]
    return t


def _encode(gguf, t, x):
    """x [rows, cols] float32 -> (array for the writer, dequantised float32)."""
    from gguf import quants
    T = gguf.GGMLQuantizationType
    if t == T.F32:
        return x, x
    if t == T.F16:
        h = x.astype(np.float16)
        return h, h.astype(np.float32)
    if t == T.Q4_K:
        data = quantize.q4_k(x)
    elif t == T.Q6_K:
        data = quantize.q6_k(x)
    else:
        data = quants.quantize(x, t)
    return data, quants.dequantize(data, t).astype(np.float32).reshape(x.shape)


def write(path, cfg, w, qtype="f32", vocab=None):
    gguf = gguf_py.load()
    T = gguf.GGMLQuantizationType
    arch = cfg.arch
    writer = gguf.GGUFWriter(path, arch=arch)
    writer.add_name(f"recsys random {arch}")
    writer.add_context_length(cfg.context_length)
    writer.add_embedding_length(cfg.hidden)
    writer.add_feed_forward_length(cfg.intermediate)
    writer.add_block_count(cfg.layers)
    writer.add_head_count(cfg.heads)
    writer.add_head_count_kv(cfg.kv_heads)
    writer.add_rope_freq_base(cfg.rope_theta)
    writer.add_layer_norm_rms_eps(cfg.rms_eps)
    writer.add_rope_dimension_count(cfg.head_dim)
    writer.add_vocab_size(cfg.vocab_size)
    add_tokenizer(writer, vocab or toy_vocab(cfg.vocab_size))

    held = {}

    def matrix(name, key, layer=-1, permute_heads=0):
        x = w[key].float().numpy()
        t = _type_for(gguf, qtype, name, x.shape[1], layer, cfg.layers, cfg.tied)
        data, back = _encode(gguf, t, x)
        held[key] = torch.from_numpy(np.ascontiguousarray(back))
        if permute_heads and arch == "llama":
            data = _permute(data, permute_heads)  # whole rows move: blocks stay intact
        if t in (T.F32, T.F16):
            writer.add_tensor(name, np.ascontiguousarray(data))
        else:
            writer.add_tensor(name, np.ascontiguousarray(data), raw_shape=data.shape, raw_dtype=t)

    def vector(name, key):
        held[key] = w[key].float()
        writer.add_tensor(name, w[key].float().numpy())

    matrix("token_embd.weight", "embed")
    if cfg.rope_scaling:
        writer.add_tensor("rope_freqs.weight", reference.rope_factors(cfg).numpy())
    for i in range(cfg.layers):
        p, b = f"layers.{i}.", f"blk.{i}."
        vector(b + "attn_norm.weight", p + "input_norm")
        matrix(b + "attn_q.weight", p + "q", i, cfg.heads)
        matrix(b + "attn_k.weight", p + "k", i, cfg.kv_heads)
        matrix(b + "attn_v.weight", p + "v", i)
        if cfg.qkv_bias:
            for n in ("q", "k", "v"):
                vector(b + f"attn_{n}.bias", p + f"{n}_bias")
        matrix(b + "attn_output.weight", p + "o", i)
        vector(b + "ffn_norm.weight", p + "post_norm")
        matrix(b + "ffn_gate.weight", p + "gate", i)
        matrix(b + "ffn_up.weight", p + "up", i)
        matrix(b + "ffn_down.weight", p + "down", i)
    vector("output_norm.weight", "norm")
    if not cfg.tied:
        matrix("output.weight", "output")
    gguf_py.finish(writer)
    return held
