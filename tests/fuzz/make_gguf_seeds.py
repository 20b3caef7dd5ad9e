"""Seeds of the GGUF fuzzer's corpus (tests/fuzz/corpus/gguf), written by llama.cpp's gguf-py
(scripts/install-llama-cpp.sh): small files with the metadata kinds and tensor types a Llama /
Qwen2 GGUF holds. libFuzzer grows the corpus from these (scripts/fuzz.sh, FUZZ_KEEP=1).

    cd models/training && /usr/bin/python3 ../../tests/fuzz/make_gguf_seeds.py ../../tests/fuzz/corpus/gguf
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "models", "training"))
from recsys_train.llm import gguf_py  # noqa: E402

gguf = gguf_py.load()
from gguf import quants  # noqa: E402

T = gguf.GGMLQuantizationType


def write(path, arch, tensors, extra=lambda w: None):
    w = gguf.GGUFWriter(path, arch=arch)
    w.add_block_count(1)
    w.add_context_length(64)
    w.add_embedding_length(32)
    w.add_head_count(2)
    w.add_head_count_kv(1)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_tokenizer_model("llama")
    w.add_token_list(["<unk>", "<s>", "</s>", "\u2581a", "b"])
    w.add_token_scores([0.0, 0.0, 0.0, -1.0, -2.0])
    w.add_token_types([2, 3, 3, 1, 1])
    w.add_bool("tokenizer.ggml.add_bos_token", True)
    extra(w)
    rng = np.random.default_rng(1)
    for name, qtype, shape in tensors:
        values = rng.standard_normal(shape).astype(np.float32)
        data = quants.quantize(values, qtype)
        if qtype in (T.F32, T.F16):
            w.add_tensor(name, data)
        else:
            w.add_tensor(name, data, raw_shape=data.shape, raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    write(os.path.join(out, "seed-llama-f32-q8.gguf"), "llama",
          [("token_embd.weight", T.F16, (5, 32)), ("output_norm.weight", T.F32, (32,)),
           ("blk.0.attn_q.weight", T.Q8_0, (32, 32))])
    write(os.path.join(out, "seed-qwen2-q4-q5.gguf"), "qwen2",
          [("blk.0.attn_q.bias", T.F32, (32,)), ("blk.0.ffn_up.weight", T.Q4_0, (2, 64)),
           ("blk.0.ffn_down.weight", T.Q5_0, (2, 64)), ("blk.0.attn_k.weight", T.BF16, (2, 32))],
          lambda w: w.add_string("tokenizer.ggml.pre", "qwen2"))
    write(os.path.join(out, "seed-metadata-only.gguf"), "llama", [],
          lambda w: (w.add_uint64("u64", 2**40), w.add_int8("i8", -3), w.add_float64("f64", 0.5),
                     w.add_array("nested.ints", [1, 2, 3]), w.add_uint32("general.alignment", 64)))


if __name__ == "__main__":
    main()
