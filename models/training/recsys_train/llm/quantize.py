"""Quantisers for the K-quant types gguf-py can dequantise but not produce (Q4_K, Q6_K), in
numpy, with the block layouts of llama.cpp's ggml-common.h. A plain min/max fit per sub-block
(llama.cpp searches scales more carefully): the files are valid Q4_K / Q6_K, and what the
runtime must reproduce is their dequantisation, which gguf-py gives."""

import numpy as np

QK = 256


def _f16(x):
    return np.asarray(x, dtype=np.float32).astype(np.float16)


def q4_k(x):
    """x [rows, cols] (cols % 256 == 0) -> uint8 [rows, cols / 256 * 144]."""
    rows, cols = x.shape
    b = x.reshape(-1, 8, 32).astype(np.float32)               # super-block, sub-block, element
    lo = np.minimum(b.min(axis=2), 0.0)
    scale = (b.max(axis=2) - lo) / 15.0
    d = _f16(scale.max(axis=1) / 63.0)
    dmin = _f16((-lo).max(axis=1) / 63.0)
    df, dminf = d.astype(np.float32)[:, None], dmin.astype(np.float32)[:, None]
    sc = np.clip(np.round(np.divide(scale, df, out=np.zeros_like(scale), where=df > 0)), 0, 63)
    m = np.clip(np.round(np.divide(-lo, dminf, out=np.zeros_like(lo), where=dminf > 0)), 0, 63)
    step = (df * sc)[:, :, None]
    q = np.divide(b + (dminf * m)[:, :, None], step, out=np.zeros_like(b), where=step > 0)
    q = np.clip(np.round(q), 0, 15).astype(np.uint8)
    sc, m = sc.astype(np.uint8), m.astype(np.uint8)
    scales = np.zeros((len(b), 12), np.uint8)
    scales[:, 0:4] = (sc[:, 0:4] & 63) | ((sc[:, 4:8] >> 4) << 6)
    scales[:, 4:8] = (m[:, 0:4] & 63) | ((m[:, 4:8] >> 4) << 6)
    scales[:, 8:12] = (sc[:, 4:8] & 0xF) | ((m[:, 4:8] & 0xF) << 4)
    q = q.reshape(len(b), 4, 2, 32)                            # 64-element chunks, low / high
    qs = (q[:, :, 0, :] | (q[:, :, 1, :] << 4)).reshape(len(b), 128)
    out = np.concatenate([d.view(np.uint8).reshape(-1, 2), dmin.view(np.uint8).reshape(-1, 2),
                          scales, qs], axis=1)
    return out.reshape(rows, -1)


def q6_k(x):
    """x [rows, cols] (cols % 256 == 0) -> uint8 [rows, cols / 256 * 210]."""
    rows, cols = x.shape
    b = x.reshape(-1, 16, 16).astype(np.float32)
    scale = np.abs(b).max(axis=2) / 31.0
    d = _f16(scale.max(axis=1) / 127.0)
    df = d.astype(np.float32)[:, None]
    sc = np.clip(np.round(np.divide(scale, df, out=np.zeros_like(scale), where=df > 0)), -128, 127)
    step = (df * sc)[:, :, None]
    q = np.divide(b, step, out=np.zeros_like(b), where=step > 0)
    q = (np.clip(np.round(q), -32, 31) + 32).astype(np.uint8).reshape(len(b), 2, 4, 32)
    ql = np.concatenate([(q[:, :, 0] & 0xF) | ((q[:, :, 2] & 0xF) << 4),
                         (q[:, :, 1] & 0xF) | ((q[:, :, 3] & 0xF) << 4)], axis=2)
    qh = (q[:, :, 0] >> 4) | ((q[:, :, 1] >> 4) << 2) | ((q[:, :, 2] >> 4) << 4) | \
        ((q[:, :, 3] >> 4) << 6)
    out = np.concatenate([ql.reshape(len(b), 128), qh.reshape(len(b), 64),
                          sc.astype(np.int8).view(np.uint8), d.view(np.uint8).reshape(-1, 2)],
                         axis=1)
    return out.reshape(rows, -1)
