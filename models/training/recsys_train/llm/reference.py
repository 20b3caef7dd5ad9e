"""An independent PyTorch reference of the decoder-only architectures the C++ runtime runs,
written from the published model definitions (Hugging Face transformers' LlamaForCausalLM,
MistralForCausalLM and Qwen2ForCausalLM, in eval mode, fp32), not from the C++:

    x = embed[ids]
    per layer:  h = rmsnorm(x); q, k, v = h Wq^T (+bq), h Wk^T (+bk), h Wv^T (+bv)   (biases: Qwen2)
                q, k = rope(q), rope(k)          rotate_half pairs (i, i + d/2), inv_freq from theta,
                                                 with Llama 3's frequency scaling when configured
                a = softmax(q k^T / sqrt(d) + causal) v   (grouped-query: kv head h // (H / Hkv))
                x = x + a Wo^T;  x = x + Wdown (silu(Wgate rmsnorm(x)) * Wup rmsnorm(x))
    logits = rmsnorm(x) Wout^T  (Wout = embed when tied)

Weights are in Hugging Face layout ([out, in]; q and k rows in rotate_half order).
"""

import math
from dataclasses import dataclass, field

import torch


@dataclass
class Config:
    arch: str = "llama"          # llama (Llama 2/3, Mistral, TinyLlama) or qwen2
    vocab_size: int = 300
    hidden: int = 256
    intermediate: int = 512
    layers: int = 2
    heads: int = 4
    kv_heads: int = 2
    rope_theta: float = 10000.0
    rms_eps: float = 1e-5
    context_length: int = 2048
    tied: bool = False
    qkv_bias: bool = False       # Qwen2
    # Llama 3 rope scaling: factor, low_freq_factor, high_freq_factor,
    # original_max_position_embeddings (None: no scaling).
    rope_scaling: dict = field(default=None)

    @property
    def head_dim(self):
        return self.hidden // self.heads


def inv_freq(cfg):
    """Hugging Face's default rope frequencies, with _compute_llama3_parameters' scaling."""
    d = cfg.head_dim
    freq = 1.0 / (cfg.rope_theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    s = cfg.rope_scaling
    if not s:
        return freq
    factor, low, high = s["factor"], s["low_freq_factor"], s["high_freq_factor"]
    old = s["original_max_position_embeddings"]
    low_wavelen, high_wavelen = old / low, old / high
    wavelen = 2 * math.pi / freq
    scaled = torch.where(wavelen > low_wavelen, freq / factor, freq)
    smooth = (old / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = ~(wavelen < high_wavelen) & ~(wavelen > low_wavelen)
    return torch.where(medium, smoothed, scaled)


def rope_factors(cfg):
    """What llama.cpp's converter stores as rope_freqs.weight: base frequency / scaled one."""
    base = 1.0 / (cfg.rope_theta ** (torch.arange(0, cfg.head_dim, 2, dtype=torch.float64)
                                    / cfg.head_dim))
    return (base / inv_freq(cfg)).float()


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rope(x, positions, cfg):
    """x [T, heads, d]; positions [T]."""
    angles = positions.double()[:, None] * inv_freq(cfg)[None, :]
    emb = torch.cat((angles, angles), dim=-1)
    cos, sin = emb.cos().float()[:, None, :], emb.sin().float()[:, None, :]
    return x * cos + rotate_half(x) * sin


@torch.no_grad()
def forward(cfg, w, ids, positions=None, keep_probs=True):
    """ids [T] -> dict of logits [T, V], hidden (final-normed) [T, hidden] and, with
    keep_probs, the per-layer attention probabilities [layers, heads, T, T]."""
    T = len(ids)
    positions = torch.arange(T) if positions is None else torch.as_tensor(positions)
    x = w["embed"][torch.as_tensor(ids)]
    d, H, Hkv = cfg.head_dim, cfg.heads, cfg.kv_heads
    causal = torch.full((T, T), float("-inf")).triu(1)
    probs = []
    for i in range(cfg.layers):
        p = lambda name: w[f"layers.{i}.{name}"]  # noqa: E731
        h = rms_norm(x, p("input_norm"), cfg.rms_eps)
        q, k, v = h @ p("q").T, h @ p("k").T, h @ p("v").T
        if cfg.qkv_bias:
            q, k, v = q + p("q_bias"), k + p("k_bias"), v + p("v_bias")
        q = apply_rope(q.view(T, H, d), positions, cfg)
        k = apply_rope(k.view(T, Hkv, d), positions, cfg)
        v = v.view(T, Hkv, d)
        k = k.repeat_interleave(H // Hkv, dim=1)
        v = v.repeat_interleave(H // Hkv, dim=1)
        scores = torch.einsum("thd,shd->hts", q, k) / math.sqrt(d) + causal
        a = scores.softmax(-1)
        if keep_probs:
            probs.append(a)
        out = torch.einsum("hts,shd->thd", a, v).reshape(T, H * d)
        x = x + out @ p("o").T
        h = rms_norm(x, p("post_norm"), cfg.rms_eps)
        x = x + (torch.nn.functional.silu(h @ p("gate").T) * (h @ p("up").T)) @ p("down").T
    hidden = rms_norm(x, w["norm"], cfg.rms_eps)
    head = w["embed"] if cfg.tied else w["output"]
    out = {"logits": hidden @ head.T, "hidden": hidden}
    if keep_probs:
        out["probs"] = torch.stack(probs)
    return out


def attention_mass(probs, layers, q_begin, q_end):
    """sum over the chosen layers and heads of the mean over query rows [q_begin, q_end) of the
    attention probabilities: one value per key position (ICR's score, algorithms.md §5)."""
    return probs[list(layers), :, q_begin:q_end, :].mean(dim=2).sum(dim=(0, 1))


def random_weights(cfg, seed):
    g = torch.Generator().manual_seed(seed)

    def mat(rows, cols):
        return torch.randn(rows, cols, generator=g) / math.sqrt(cols)

    def norm(n):
        return 1.0 + 0.1 * torch.randn(n, generator=g)

    d, H, Hkv = cfg.head_dim, cfg.heads, cfg.kv_heads
    w = {"embed": torch.randn(cfg.vocab_size, cfg.hidden, generator=g), "norm": norm(cfg.hidden)}
    if not cfg.tied:
        w["output"] = mat(cfg.vocab_size, cfg.hidden)
    for i in range(cfg.layers):
        p = f"layers.{i}."
        w[p + "input_norm"], w[p + "post_norm"] = norm(cfg.hidden), norm(cfg.hidden)
        w[p + "q"], w[p + "k"], w[p + "v"] = mat(H * d, cfg.hidden), mat(Hkv * d, cfg.hidden), \
            mat(Hkv * d, cfg.hidden)
        w[p + "o"] = mat(cfg.hidden, H * d)
        w[p + "gate"], w[p + "up"] = mat(cfg.intermediate, cfg.hidden), \
            mat(cfg.intermediate, cfg.hidden)
        w[p + "down"] = mat(cfg.hidden, cfg.intermediate)
        if cfg.qkv_bias:
            w[p + "q_bias"] = 0.1 * torch.randn(H * d, generator=g)
            w[p + "k_bias"] = 0.1 * torch.randn(Hkv * d, generator=g)
            w[p + "v_bias"] = 0.1 * torch.randn(Hkv * d, generator=g)
    return w
