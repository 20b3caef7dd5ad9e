"""The dequantisation fixture of the C++ GGUF reader: one tensor per type the runtime reads,
quantised by llama.cpp's gguf-py (F32, F16, BF16, Q8_0, Q4_0, Q5_0), or random blocks with
finite scales where gguf-py has no quantiser (Q4_K, Q6_K), each followed by
"<name>.expected", gguf-py's numpy dequantisation of it in F32, written by gguf-py's writer.

    /usr/bin/python3 -m recsys_train.llm.quant_fixture \\
        --out=../../tests/models/testdata/gguf/quant-types.gguf
"""

import argparse

import numpy as np

from . import gguf_py

ROWS, COLS = 3, 512  # whole K-quant super-blocks


def random_blocks(gguf, qtype, rng):
    """Random bytes in the layout of `qtype`, with its fp16 scales set to finite values."""
    block_elems, block_bytes = gguf.GGML_QUANT_SIZES[qtype]
    blocks = rng.integers(0, 256, size=(ROWS * COLS // block_elems, block_bytes), dtype=np.uint8)
    if qtype == gguf.GGMLQuantizationType.Q4_K:
        scale_at = [0, 2]        # d, dmin
    elif qtype == gguf.GGMLQuantizationType.Q6_K:
        scale_at = [block_bytes - 2]  # d, last
    else:
        raise ValueError(qtype)
    for at in scale_at:
        scales = (rng.standard_normal(len(blocks)) * 0.01).astype(np.float16)
        blocks[:, at:at + 2] = scales.view(np.uint8).reshape(-1, 2)
    return blocks.reshape(ROWS, -1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    gguf = gguf_py.load()
    from gguf import quants
    T = gguf.GGMLQuantizationType
    rng = np.random.default_rng(args.seed)
    writer = gguf.GGUFWriter(args.out, arch="llama")
    writer.add_string("recsys.fixture", "dequantisation of each tensor type by gguf-py")
    for qtype in (T.F32, T.F16, T.BF16, T.Q8_0, T.Q4_0, T.Q5_0, T.Q4_K, T.Q6_K):
        if qtype in (T.Q4_K, T.Q6_K):
            data = random_blocks(gguf, qtype, rng)
        else:
            values = rng.standard_normal((ROWS, COLS)).astype(np.float32)
            values[0, :32] = 0  # an all-zero block
            data = quants.quantize(values, qtype)
        expected = quants.dequantize(data, qtype).astype(np.float32).reshape(ROWS, COLS)
        name = qtype.name.lower()
        if qtype in (T.F32, T.F16):
            writer.add_tensor(name, data)
        else:
            writer.add_tensor(name, data, raw_shape=data.shape, raw_dtype=qtype)
        writer.add_tensor(name + ".expected", expected)
    gguf_py.finish(writer)


if __name__ == "__main__":
    main()
