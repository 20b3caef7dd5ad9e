"""Converts a llama2.c checkpoint (the legacy .bin: a 7 x int32 header dim, hidden_dim,
n_layers, n_heads, n_kv_heads, vocab_size (negative: separate classifier), seq_len, then fp32
token_embedding, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, the legacy rope
tables and, when unshared, the classifier) and its tokenizer (tokenizer.bin: int32
max_token_length, then per token float32 score, int32 length, bytes) into a GGUF of
architecture llama, through gguf-py.

llama2.c keeps Meta's layout (rope on adjacent pairs), which is what llama.cpp's llama
architecture runs, so q and k are written as they are. Its tokenizer writes SentencePiece's
"\u2581" as a space and BOS / EOS as "\\n<s>\\n" / "\\n</s>\\n": both are put back.

    /usr/bin/python3 -m recsys_train.llm.llama2c_to_gguf --model=stories260K.bin \\
        --tokenizer=tok512.bin --out=stories260K.gguf [--type=f32|f16|q8_0]
"""

import argparse
import struct

import numpy as np

from . import gguf_py, to_gguf


def read_tokenizer(path, vocab_size):
    data = open(path, "rb").read()
    offset = 4  # max_token_length
    tokens, scores, types = [], [], []
    for i in range(vocab_size):
        score, length = struct.unpack_from("<fi", data, offset)
        offset += 8
        piece = data[offset:offset + length].decode("utf-8", errors="surrogateescape")
        offset += length
        if i == 0:
            piece, kind = "<unk>", 2
        elif i in (1, 2):
            piece, kind = ("<s>", "</s>")[i - 1], 3
        elif piece.startswith("<0x") and len(piece) == 6:
            kind = 6
        else:
            piece, kind = piece.replace(" ", "\u2581"), 1
        tokens.append(piece)
        scores.append(score)
        types.append(kind)
    return tokens, scores, types


def read_model(path):
    raw = open(path, "rb").read()
    dim, hidden, layers, heads, kv_heads, vocab, seq_len = struct.unpack_from("<7i", raw, 0)
    shared = vocab > 0
    vocab = abs(vocab)
    f = np.frombuffer(raw, dtype=np.float32, offset=28)
    head = dim // heads
    kv_dim = kv_heads * head
    at = 0

    def take(*shape):
        nonlocal at
        n = int(np.prod(shape))
        out = f[at:at + n].reshape(shape)
        at += n
        return out

    w = {"embed": take(vocab, dim), "rms_att": take(layers, dim), "wq": take(layers, dim, dim),
         "wk": take(layers, kv_dim, dim), "wv": take(layers, kv_dim, dim),
         "wo": take(layers, dim, dim), "rms_ffn": take(layers, dim),
         "w1": take(layers, hidden, dim), "w2": take(layers, dim, hidden),
         "w3": take(layers, hidden, dim), "rms_final": take(dim)}
    take(seq_len * head // 2)  # freq_cis_real
    take(seq_len * head // 2)  # freq_cis_imag
    if not shared:
        w["output"] = take(vocab, dim)
    if at != len(f):
        raise ValueError(f"{path}: {len(f) - at} floats left over: not a llama2.c checkpoint")
    config = dict(dim=dim, hidden=hidden, layers=layers, heads=heads, kv_heads=kv_heads,
                  vocab=vocab, seq_len=seq_len)
    return config, w


def convert(model_path, tokenizer_path, out, qtype="f32"):
    gguf = gguf_py.load()
    from gguf import quants
    T = gguf.GGMLQuantizationType
    c, w = read_model(model_path)
    tokens, scores, types = read_tokenizer(tokenizer_path, c["vocab"])
    writer = gguf.GGUFWriter(out, arch="llama")
    writer.add_name("llama2.c " + model_path.rsplit("/", 1)[-1])
    writer.add_context_length(c["seq_len"])
    writer.add_embedding_length(c["dim"])
    writer.add_feed_forward_length(c["hidden"])
    writer.add_block_count(c["layers"])
    writer.add_head_count(c["heads"])
    writer.add_head_count_kv(c["kv_heads"])
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(c["dim"] // c["heads"])
    to_gguf.add_tokenizer(writer, (tokens, scores, types))
    target = getattr(T, qtype.upper())

    def matrix(name, x):
        x = np.ascontiguousarray(x, dtype=np.float32)
        if target == T.F32 or x.shape[1] % 32 != 0:
            writer.add_tensor(name, x)
        elif target == T.F16:
            writer.add_tensor(name, x.astype(np.float16))
        else:
            data = quants.quantize(x, target)
            writer.add_tensor(name, data, raw_shape=data.shape, raw_dtype=target)

    matrix("token_embd.weight", w["embed"])
    for i in range(c["layers"]):
        b = f"blk.{i}."
        writer.add_tensor(b + "attn_norm.weight", np.ascontiguousarray(w["rms_att"][i]))
        matrix(b + "attn_q.weight", w["wq"][i])
        matrix(b + "attn_k.weight", w["wk"][i])
        matrix(b + "attn_v.weight", w["wv"][i])
        matrix(b + "attn_output.weight", w["wo"][i])
        writer.add_tensor(b + "ffn_norm.weight", np.ascontiguousarray(w["rms_ffn"][i]))
        matrix(b + "ffn_gate.weight", w["w1"][i])
        matrix(b + "ffn_down.weight", w["w2"][i])
        matrix(b + "ffn_up.weight", w["w3"][i])
    writer.add_tensor("output_norm.weight", np.ascontiguousarray(w["rms_final"]))
    if "output" in w:
        matrix("output.weight", w["output"])
    gguf_py.finish(writer)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--type", default="f32", choices=["f32", "f16", "q8_0"])
    args = parser.parse_args()
    convert(args.model, args.tokenizer, args.out, args.type)


if __name__ == "__main__":
    main()
